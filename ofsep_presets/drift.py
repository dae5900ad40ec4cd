"""Drift: how a site's export differs from its own preset (the values it had when it was validated).

Compliance asks "does the site meet the protocol?"; drift asks "has anything changed since we validated it?".
A site can drift and stay compliant (a TR nudged within tolerance of the protocol), or be non-compliant without
drift (it never met the protocol). So drift is its own list, next to the checks, never mixed into their verdicts.
Values are compared with the same float-noise tolerance as the checks, and nothing else: a preset is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .acquisition import Acquisition
from .rules import Constraint
from .spec import Spec

# Not a protocol setting: where and when a series was acquired, and computed maps.
NOT_PRESET = {"manufacturer", "model", "software_version", "field_strength_t", "series_number", "acquisition_time"}
NOT_PRESET |= {"derived", "duration_s"}  # the time the settings take, not a setting
SCANNER = ("manufacturer", "model", "software_version", "field_strength_t")


@dataclass(frozen=True)
class DriftItem:
    """One difference from the preset: `changed`, `absent` (the preset had a value, the export does not say),
    `new` (a value the preset did not have), or `missing` (a preset sequence not found in the export)."""

    sequence: str
    param: str
    preset: Any
    observed: Any
    status: str
    acquisition: str | None = None
    provenance: str | None = None


@dataclass
class Drift:
    preset: str  # where the preset came from (its `preset.source`)
    compared: int  # values compared
    items: list[DriftItem]

    @property
    def status(self) -> str:
        return "drift" if self.items else "none"


def preset_values(acq: Acquisition) -> dict[str, Any]:
    """The values of one acquisition a preset keeps: every protocol setting the export states."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in acq.params.items() if k not in NOT_PRESET}


def has_preset(spec: Spec) -> bool:
    return bool(spec.preset) or any(s.preset for s in spec.sequences.values())


def drift(spec: Spec, matched: dict[str, Acquisition], scanner: dict[str, Any]) -> Drift:
    """Compare the first acquisition matched for each preset sequence, and the scanner, with the preset."""
    items: list[DriftItem] = []
    compared = 0
    before = spec.preset.get("scanner") or {}
    for key in SCANNER:
        if before.get(key) is not None:
            compared += 1
            status = _compare(key, before[key], scanner.get(key))
            if status:
                items.append(DriftItem("scanner", key, before[key], scanner.get(key), status))
    for seq_id, seq in spec.sequences.items():
        if not seq.preset:
            continue
        acq = matched.get(seq_id)
        if acq is None:
            items.append(DriftItem(seq_id, "—", seq.preset_acquisition, None, "missing"))
            continue
        now = preset_values(acq)
        for param, value in seq.preset.items():
            compared += 1
            status = _compare(param, value, now.get(param))
            if status:
                items.append(
                    DriftItem(seq_id, param, value, now.get(param), status, acq.name, acq.provenance.get(param))
                )
        for param in sorted(set(now) - set(seq.preset)):
            items.append(DriftItem(seq_id, param, None, now[param], "new", acq.name, acq.provenance.get(param)))
    return Drift(str(spec.preset.get("source", spec.path or spec.id)), compared, items)


def _compare(param: str, preset: Any, observed: Any) -> str | None:
    if observed is None:
        return "absent"
    rule = Constraint(param, "eq", tuple(preset) if isinstance(preset, list) else preset, source="preset")
    return None if rule.evaluate(observed) == "pass" else "changed"
