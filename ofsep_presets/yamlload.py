"""Safe YAML loading that remembers where every value came from.

Validation messages must say `file:line`, and a site overlay's values must still point at the overlay file after
they are merged onto the base spec. PyYAML's SafeLoader is kept (no arbitrary objects); only its containers are
swapped for ones that carry their origin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, SpecError


class Located:
    """Mixin: the file and line a container starts at, and the line of each key or item."""

    file: str = "?"
    line: int = 0

    def origin_of(self, key: Any) -> tuple[str, int]:
        origins = getattr(self, "origins", {})
        return origins.get(key, (self.file, self.line))


class LocatedDict(dict, Located):
    pass


class LocatedList(list, Located):
    pass


# LibYAML's parser when PyYAML has it (wheels do): same safe constructor, same marks, about 5× faster to parse.
SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A YAML alias is a reference: 622 bytes of nested aliases ("billion laughs") stand for 10**9 values, which the
# safe loader builds as shared objects but every later walk (validation, merging, copying) expands. The document's
# size with every alias expanded is bounded before anything is built: the bundled OFSEP spec has ~2,500 values.
MAX_EXPANDED_NODES = 100_000
# Python refuses to convert an integer of more than 4,300 digits (a traceback); no spec value needs 30.
MAX_INT_DIGITS = 30


class _Refused(Exception):
    def __init__(self, message: str, mark: Any):
        super().__init__(message)
        self.mark = mark


def _check_expansion(root: yaml.Node) -> None:
    """Refuse a node graph whose aliases expand past MAX_EXPANDED_NODES, or that refers to itself."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    total = 0

    def size(node: yaml.Node) -> int:
        nonlocal total
        key = id(node)
        if key in sizes:
            total += sizes[key]  # an alias: its whole expansion counts again
            if total > MAX_EXPANDED_NODES:
                raise _Refused(
                    f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} values (an alias bomb?); "
                    "write the values out instead of aliasing them",
                    node.start_mark,
                )
            return sizes[key]
        if key in active:
            raise _Refused("a YAML alias refers to the value that contains it (a cycle)", node.start_mark)
        active.add(key)
        total += 1
        n = 1
        if isinstance(node, yaml.SequenceNode):
            n += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            n += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        sizes[key] = n
        return n

    size(root)


def _make_loader(file: str) -> type:
    class Loader(SAFE_LOADER):
        pass

    def construct_mapping(loader: Any, node: yaml.MappingNode) -> LocatedDict:
        loader.flatten_mapping(node)
        result = LocatedDict()
        result.file, result.line = file, node.start_mark.line + 1
        result.origins = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                raise yaml.constructor.ConstructorError(
                    None, None, f"a mapping key must be a plain value, not {type(key).__name__}", key_node.start_mark
                )
            if key in result:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            result[key] = loader.construct_object(value_node, deep=True)
            result.origins[key] = (file, key_node.start_mark.line + 1)
        return result

    def construct_sequence(loader: Any, node: yaml.SequenceNode) -> LocatedList:
        result = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
        result.file, result.line = file, node.start_mark.line + 1
        result.origins = {i: (file, child.start_mark.line + 1) for i, child in enumerate(node.value)}
        return result

    def construct_int(loader: Any, node: yaml.ScalarNode) -> int:
        digits = sum(c.isdigit() for c in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise _Refused(
                f"an integer of {digits:,} digits (more than {MAX_INT_DIGITS}); no spec value is that long",
                node.start_mark,
            )
        return yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)

    def get_single_data(loader: Any) -> Any:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_expansion(node)  # before anything is built
        return loader.construct_document(node)

    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    Loader.add_constructor("tag:yaml.org,2002:int", construct_int)
    Loader.get_single_data = get_single_data
    return Loader


def load_yaml(path: Path, display: str | None = None) -> Any:
    """Parse one YAML file safely; syntax errors become a SpecError located at the offending line."""
    name = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError([Problem(name, 0, "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(name, 0, f"cannot read: {exc}")]) from None
    return loads_yaml(text, name)


def loads_yaml(text: str, name: str) -> Any:
    try:
        return yaml.load(text, Loader=_make_loader(name))  # noqa: S506 - the loader is a (C)SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        # Where the broken construct starts is more useful than where the parser gave up.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark else 0
        message = f"YAML syntax: {exc.problem or exc}"
        if exc.context_mark and exc.problem_mark and exc.problem_mark.line != exc.context_mark.line:
            message += f" (noticed at line {exc.problem_mark.line + 1}, {exc.context})"
        raise SpecError([Problem(name, line, message)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Problem(name, 0, f"YAML: {exc}")]) from None
    except _Refused as exc:
        raise SpecError([Problem(name, exc.mark.line + 1 if exc.mark else 0, str(exc))]) from None
    except RecursionError:
        raise SpecError([Problem(name, 0, "YAML nested too deeply to read")]) from None


def origin(container: Any, key: Any) -> tuple[str, int]:
    """Where `container[key]` was written; falls back to the container itself."""
    if isinstance(container, Located):
        return container.origin_of(key)
    return ("?", 0)
