"""The canonical parameter registry (protocol_spec/model/canonical-parameters.yaml), loaded once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from .resources import spec_dir
from .yamlload import load_yaml


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    unit: str | None
    label: dict[str, str]
    values: tuple[str, ...] = ()
    size: int | None = None
    integer: bool = False

    display: tuple[tuple[str, str], ...] = ()

    def show(self, value: Any) -> str:
        """One value as a person reads it: an enum by its display name (mprage → MPRAGE), a number as the spec
        wrote it (Python's shortest round-trip form: 1.0 stays 1.0, 2500 stays 2500)."""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if self.type == "enum" and isinstance(value, str):
            return dict(self.display).get(value, value)
        return str(value)

    @property
    def is_list(self) -> bool:
        return self.type in ("numbers", "strings")

    @property
    def is_numeric(self) -> bool:
        return self.type in ("number", "integer", "numbers")

    def accepts(self, value: Any) -> bool:
        """Whether `value` has this parameter's type (a scalar is accepted for a list: it applies to each element)."""
        if self.type == "enum":
            return isinstance(value, str) and value in self.values
        if self.type == "boolean":
            return isinstance(value, bool)
        if self.type == "string":
            return isinstance(value, str)
        if self.type in ("number", "integer"):
            return isinstance(value, int | float) and not isinstance(value, bool)
        if self.type == "numbers":
            items = value if isinstance(value, list) else [value]
            return all(isinstance(v, int | float) and not isinstance(v, bool) for v in items) and (
                not isinstance(value, list) or self.size is None or len(value) == self.size
            )
        if self.type == "strings":
            items = value if isinstance(value, list) else [value]
            return all(isinstance(v, str) for v in items)
        return False


@cache
def registry() -> dict[str, Parameter]:
    data = load_yaml(spec_dir() / "model" / "canonical-parameters.yaml")
    return {
        name: Parameter(
            name=name,
            type=entry["type"],
            unit=entry.get("unit"),
            label=dict(entry.get("label", {})),
            values=tuple(str(v) for v in entry.get("values", [])),
            size=entry.get("size"),
            integer=bool(entry.get("integer", False)),
            display=tuple((str(k), str(v)) for k, v in (entry.get("display") or {}).items()),
        )
        for name, entry in data["parameters"].items()
    }


def families() -> tuple[str, ...]:
    return registry()["sequence_family"].values
