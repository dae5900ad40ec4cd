"""The template sandbox: templates see plain data and may call only what we hand them on purpose.

Users render their own templates (`render --templates DIR`), so a template is untrusted code. Jinja's
`SandboxedEnvironment` alone is not enough: it lets a template call any public method of any object in its
context, and a `pathlib.Path` in the context is a file system API (`joinpath(...).read_text()`,
`write_text(...)`). Two walls, each sufficient for what it covers:

1. `plain()` turns every context value into plain data (dict, list, tuple, set, str, int, float, bool, None;
   a `Path` becomes its string) before rendering. Dataclasses become dicts of their fields and properties.
2. `DataOnlyEnvironment` refuses every attribute, item and call on anything that is not plain data, a
   `Helper` we registered, or Jinja's own runtime objects (loops, macros, blocks, cycler...). On plain data it
   allows only the read-only methods listed in `SAFE_METHODS`, so a context value leaked by a future change is
   still unusable.

Attribute access on a dict prefers its keys (`suggestion.values` is the field, not `dict.values`), which is what
the dataclasses the templates were written against did.
"""

from __future__ import annotations

import dataclasses
import enum
import re
import types
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

import jinja2
from jinja2.environment import TemplateModule
from jinja2.runtime import BlockReference, LoopContext, Macro, TemplateReference
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import Cycler, Joiner, Namespace
from markupsafe import Markup

from .textsafe import printable


class Helper:
    """A function we hand templates on purpose (`text`, `field_text`...): the only callables they may call."""

    __slots__ = ("function", "name")

    def __init__(self, function: Callable[..., Any], name: str | None = None):
        self.function = function
        self.name = name or getattr(function, "__name__", "helper")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"<template helper {self.name}>"


class Words(dict):
    """t.key in a template; an unknown key is an error, not an empty string."""

    def __getattr__(self, name: str) -> str:
        try:
            return self[name]
        except KeyError:
            raise jinja2.UndefinedError(f"no interface string {name!r} in templates/common/strings.yaml") from None


# Exact types (not subclasses: a subclass could override a "safe" method) that count as plain data.
PLAIN_TYPES = frozenset({str, Markup, int, float, bool, type(None), dict, Words, list, tuple, set, frozenset})

_STR_METHODS = frozenset(
    {
        "capitalize",
        "casefold",
        "center",
        "count",
        "endswith",
        "expandtabs",
        "find",
        "format",
        "index",
        "isalnum",
        "isalpha",
        "isascii",
        "isdecimal",
        "isdigit",
        "isidentifier",
        "islower",
        "isnumeric",
        "isspace",
        "istitle",
        "isupper",
        "join",
        "ljust",
        "lower",
        "lstrip",
        "partition",
        "removeprefix",
        "removesuffix",
        "replace",
        "rfind",
        "rindex",
        "rjust",
        "rpartition",
        "rsplit",
        "rstrip",
        "split",
        "splitlines",
        "startswith",
        "strip",
        "swapcase",
        "title",
        "upper",
        "zfill",
        "striptags",
        "unescape",
    }
)
# The read-only methods a template may use on plain data (plus `append`, which only touches the template's own
# list); nothing else is reachable as an attribute.
SAFE_METHODS: dict[type, frozenset[str]] = {
    str: _STR_METHODS,
    Markup: _STR_METHODS,
    dict: frozenset({"items", "keys", "values", "get"}),
    Words: frozenset({"items", "keys", "values", "get"}),
    list: frozenset({"index", "count", "append"}),
    tuple: frozenset({"index", "count"}),
    set: frozenset(),
    frozenset: frozenset(),
}
# Jinja's own runtime objects: loop.index, loop.cycle(), macros and imported modules, self.block(), super(),
# cycler(), namespace().
RUNTIME_TYPES = (LoopContext, Macro, BlockReference, TemplateReference, TemplateModule, Cycler, Joiner, Namespace)


class UnplainValue(TypeError):
    """A value we do not know how to hand a template as data (a programming error, caught in tests)."""


def plain(value: Any, _memo: dict[int, tuple[Any, Any]] | None = None, _active: set[int] | None = None) -> Any:
    """`value` as plain data for a template: dataclasses -> dicts (fields and properties), paths -> str.

    Shared objects are converted once (a spec referenced by every sheet; pass the same `_memo` to share across
    calls); a cycle is a programming error.
    """
    memo = {} if _memo is None else _memo
    active: set[int] = set() if _active is None else _active
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Helper | Words | Markup):
        return value
    if isinstance(value, enum.Enum):
        return plain(value.value, memo, active)
    if isinstance(value, str):
        return printable(str(value))  # a file name that is not UTF-8 could not be written out
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, PurePath):
        return str(value)
    key = id(value)
    if key in memo:
        return memo[key][1]
    if key in active:
        raise UnplainValue(f"a cycle through {type(value).__name__} cannot be handed to a template")
    active.add(key)
    try:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out: Any = {f.name: plain(getattr(value, f.name), memo, active) for f in dataclasses.fields(value)}
            for name, attr in _properties(type(value)):
                out[name] = plain(attr.__get__(value), memo, active)
        elif isinstance(value, dict):
            out = {plain(k, memo, active): plain(v, memo, active) for k, v in value.items()}
        elif isinstance(value, list):
            out = [plain(v, memo, active) for v in value]
        elif isinstance(value, tuple):
            out = tuple(plain(v, memo, active) for v in value)
        elif isinstance(value, set | frozenset):
            out = {plain(v, memo, active) for v in value}
        else:
            raise UnplainValue(f"{type(value).__name__} is not plain data and cannot be handed to a template")
    finally:
        active.discard(key)
    memo[key] = (value, out)  # the original is kept alive so its id is not reused by a later temporary
    return out


def _properties(cls: type) -> list[tuple[str, property]]:
    found: dict[str, property] = {}
    for klass in reversed(cls.__mro__):
        for name, attr in vars(klass).items():
            if isinstance(attr, property) and not name.startswith("_"):
                found[name] = attr
    return sorted(found.items())


def _is_plain(obj: Any) -> bool:
    return type(obj) in PLAIN_TYPES


def _is_runtime(obj: Any) -> bool:
    return isinstance(obj, (*RUNTIME_TYPES, jinja2.Undefined))


# The largest string or list a template may build in one operation (repetition, padding, formatting widths): a
# rendered document is kilobytes; `'x' * 10 ** 10` would take the machine's memory.
MAX_TEMPLATE_SIZE = 10_000_000
_PADDING = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})
# The width and precision of a %-conversion and of a str.format field (`%10.3f`, `{0:>10}`, `{:,.2f}`).
_PERCENT_WIDTHS = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")
_BRACE_WIDTHS = re.compile(r"\{[^{}]*:(?:.?[<>=^])?[-+ ]?[#0]*(\d*)[,_]?(?:\.(\d*))?[^{}]*\}")


class TemplateTooBig(jinja2.exceptions.SecurityError):
    """A template operation would build a value beyond MAX_TEMPLATE_SIZE."""


def _bounded(size: int, what: str) -> None:
    if size > MAX_TEMPLATE_SIZE:
        raise TemplateTooBig(
            f"{what} would make {size:,} characters or items; templates are limited to {MAX_TEMPLATE_SIZE:,}"
        )


def _bounded_format(text: Any, args: Any = ()) -> None:
    """A %-format or str.format string asks for no width or precision beyond the limit."""
    text = str(text)
    numbers = [n for pattern in (_PERCENT_WIDTHS, _BRACE_WIDTHS) for pair in pattern.findall(text) for n in pair]
    for number in numbers:
        if number.isdigit():
            _bounded(int(number) if len(number) < 4000 else 10**4000, "a format width")
    if "*" in numbers or ":{" in text:  # a width taken from the arguments
        for arg in args if isinstance(args, tuple | list) else (args,):
            if isinstance(arg, int) and not isinstance(arg, bool):
                _bounded(abs(arg), "a format width")


def _bounded_filter(name: str, function: Callable[..., Any], width_at: int) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        width = kwargs.get("width", args[width_at] if len(args) > width_at else 0)
        if isinstance(width, int):
            _bounded(abs(width), f"the {name} filter")
        if name == "format":
            _bounded_format(args[0] if args else "", args[1:])
        return function(*args, **kwargs)

    bounded.__name__ = name
    return bounded


class DataOnlyEnvironment(SandboxedEnvironment):
    """A sandbox that refuses every attribute, item and call outside plain data, our helpers and Jinja's runtime."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Jinja's default globals (range is the sandbox's bounded one) are the only global callables.
        self._safe_globals = frozenset(id(v) for v in self.globals.values())
        for name, width_at in (("center", 1), ("indent", 1), ("format", 99)):
            self.filters[name] = _bounded_filter(name, self.filters[name], width_at)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        """`*`, `**` and `%` with a bound on what they build (the sandbox leaves them to Python)."""
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and isinstance(times, int):
                    _bounded(len(seq) * max(times, 0), "a repetition")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1:
            _bounded(right * max(abs(left).bit_length(), 1) // 3, "a power")
        elif operator == "%" and isinstance(left, str):
            _bounded_format(left, right)
        return super().call_binop(context, operator, left, right)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_"):
            return False
        if _is_plain(obj):
            return attr in SAFE_METHODS.get(type(obj), frozenset())
        if _is_runtime(obj):
            return super().is_safe_attribute(obj, attr, value)
        return False

    def is_safe_callable(self, obj: Any) -> bool:
        if isinstance(obj, Helper | Macro | BlockReference | Joiner | LoopContext | jinja2.Undefined):
            return True  # calling an Undefined raises its own "is undefined" error
        if id(obj) in self._safe_globals:
            return True
        if isinstance(obj, types.BuiltinMethodType | types.MethodType):
            owner = obj.__self__
            if _is_plain(owner):
                return obj.__name__ in SAFE_METHODS.get(type(owner), frozenset())
            if isinstance(owner, RUNTIME_TYPES):
                return not obj.__name__.startswith("_")
        return False

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and _is_plain(obj):
            if attribute in obj:
                return obj[attribute]  # a key is data, whatever its name
            if attribute not in SAFE_METHODS[type(obj)]:
                if isinstance(obj, Words):
                    obj.__getattr__(attribute)  # raises its own message
                return self.undefined(obj=obj, name=attribute)
        if not (_is_plain(obj) or _is_runtime(obj)):
            return self._refused(obj, attribute)
        return super().getattr(obj, attribute)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """The sandbox's own safe `str.format`, marked as a helper so it may be called, widths bounded."""
        wrapper = super().wrap_str_format(value)
        if wrapper is None:
            return None
        template = value.__self__

        def bounded(*args: Any, **kwargs: Any) -> str:
            _bounded_format(template, [*args, *kwargs.values()])
            return wrapper(*args, **kwargs)

        return Helper(bounded, "str.format")

    def getitem(self, obj: Any, argument: Any) -> Any:
        if not (_is_plain(obj) or _is_runtime(obj)):
            return self._refused(obj, argument)
        if isinstance(argument, str) and argument.startswith("_") and not isinstance(obj, dict):
            return self._refused(obj, argument)
        return super().getitem(obj, argument)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if not __self.is_safe_callable(__obj):
            raise jinja2.exceptions.SecurityError(
                f"templates may call only the helpers they are given; {_describe(__obj)} is not one"
            )
        name = getattr(__obj, "__name__", "")
        if name in _PADDING and args and isinstance(args[0], int):
            _bounded(abs(args[0]), f"str.{name}")
        return __context.call(__obj, *args, **kwargs)

    def _refused(self, obj: Any, attribute: Any) -> jinja2.Undefined:
        return self.undefined(
            f"templates see plain data only: {attribute!r} of a {type(obj).__name__} is not available",
            name=str(attribute),
            obj=obj,
            exc=jinja2.exceptions.SecurityError,
        )


def _describe(obj: Any) -> str:
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if isinstance(name, str):
        return f"{type(obj).__name__} {name!r}"
    return f"a {type(obj).__name__}"
