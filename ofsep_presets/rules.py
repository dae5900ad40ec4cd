"""Typed constraints and their evaluation against one value.

Shared by spec validation (a suggested value must satisfy the requirement it sits beside) and, later, by the
compliance check. A value the input cannot tell is `unknown`, never `pass`. Float noise never fails a rule:
numbers are compared with the rule's tolerance, or a relative 1e-4 when it has none.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

NOISE_RTOL = 1e-4
OPERATORS = ("eq", "le", "ge", "between", "in")
SYMBOLS = {"eq": "=", "le": "≤", "ge": "≥", "between": "∈", "in": "∈"}


@dataclass(frozen=True)
class Constraint:
    param: str
    op: str
    value: Any
    source: str
    severity: str = "error"
    tol: float | None = None
    rtol: float | None = None
    axes: tuple[int, ...] | None = None
    note: dict[str, str] = field(default_factory=dict)
    vendors: tuple[str, ...] | None = None
    fields_t: tuple[float, ...] | None = None

    def applies(self, vendor: str | None = None, field_t: float | None = None) -> bool:
        if self.vendors is not None and vendor is not None and vendor not in self.vendors:
            return False
        return not (
            self.fields_t is not None
            and field_t is not None
            and not any(math.isclose(field_t, f, abs_tol=0.2) for f in self.fields_t)
        )

    @property
    def rule_text(self) -> str:
        """The rule as the JSON report writes it: '<= 1.0', '== 3D', 'in [1.5, 3.0]'."""
        if self.op == "between":
            return f"between {self.value[0]} and {self.value[1]}"
        if self.op == "in":
            return f"in {list(self.value)}"
        text = {"eq": "==", "le": "<=", "ge": ">="}[self.op]
        return f"{text} {_plain(self.value)}"

    @property
    def rule_words(self) -> str:
        """The rule as a person reads it: '≤ 1.0 mm', '= 3D', 'one of MPRAGE, SPGR', '1.5 to 3 T'."""
        from .params import registry

        param = registry().get(self.param)
        unit = f" {param.unit}" if param is not None and param.unit else ""
        show = param.show if param is not None else _plain
        if self.op == "between":
            return f"{show(self.value[0])} to {show(self.value[1])}{unit}"
        if self.op == "in":
            return "one of " + ", ".join(show(v) for v in self.value) + unit
        value = " × ".join(show(v) for v in self.value) if isinstance(self.value, list | tuple) else show(self.value)
        tolerance = f" ± {self.tol:g}" if self.tol and self.op == "eq" else ""  # on ≤/≥ it only absorbs float noise
        return f"{SYMBOLS[self.op]} {value}{tolerance}{unit}"

    def evaluate(self, observed: Any) -> str:
        """'pass', 'fail' or 'unknown' for one observed value (lists are checked element-wise on `axes`)."""
        if observed is None:
            return "unknown"
        if isinstance(observed, list | tuple):
            items = list(observed)
            if self.op == "eq" and isinstance(self.value, list | tuple):
                return "pass" if _equal_list(items, list(self.value), self) else "fail"
            picked = [items[i] for i in (self.axes or range(len(items))) if i < len(items)]
            if not picked:
                return "unknown"
            results = [self._scalar(v) for v in picked]
            if "fail" in results:
                return "fail"
            return "unknown" if "unknown" in results else "pass"
        return self._scalar(observed)

    def _tolerance(self, reference: float) -> float:
        allowed = abs(reference) * NOISE_RTOL
        if self.tol is not None:
            allowed = max(allowed, self.tol)
        if self.rtol is not None:
            allowed = max(allowed, abs(reference) * self.rtol)
        return allowed

    def _scalar(self, observed: Any) -> str:
        if observed is None:
            return "unknown"
        if self.op == "eq":
            return "pass" if self._equal(observed, self.value) else "fail"
        if self.op == "in":
            return "pass" if any(self._equal(observed, v) for v in self.value) else "fail"
        if not _is_number(observed):
            return "fail"
        x = float(observed)
        if self.op == "le":
            return "pass" if x <= self.value + self._tolerance(self.value) else "fail"
        if self.op == "ge":
            return "pass" if x >= self.value - self._tolerance(self.value) else "fail"
        lo, hi = self.value
        ok = lo - self._tolerance(lo) <= x <= hi + self._tolerance(hi)
        return "pass" if ok else "fail"

    def _equal(self, observed: Any, expected: Any) -> bool:
        if isinstance(expected, bool) or isinstance(observed, bool):
            return observed is expected
        if _is_number(expected) and _is_number(observed):
            return abs(float(observed) - float(expected)) <= self._tolerance(float(expected))
        return str(observed).strip().lower() == str(expected).strip().lower()


def _equal_list(observed: list, expected: list, rule: Constraint) -> bool:
    return len(observed) == len(expected) and all(rule._equal(o, e) for o, e in zip(observed, expected, strict=True))


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def from_mapping(data: dict[str, Any]) -> Constraint:
    """Build a Constraint from its spec mapping (already schema-validated)."""
    ops = [op for op in OPERATORS if op in data]
    op = ops[0]
    value = data[op]
    if op in ("between", "in") or (op == "eq" and isinstance(value, list)):
        value = tuple(value)
    when = data.get("when") or {}
    return Constraint(
        param=data["param"],
        op=op,
        value=value,
        source=data["source"],
        severity=data.get("severity", "error"),
        tol=data.get("tol"),
        rtol=data.get("rtol"),
        axes=tuple(data["axes"]) if "axes" in data else None,
        note=dict(data.get("note") or {}),
        vendors=tuple(when["vendor"]) if "vendor" in when else None,
        fields_t=tuple(float(f) for f in when["field_t"]) if "field_t" in when else None,
    )
