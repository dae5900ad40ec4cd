"""The canonical acquisition every reader produces (../shared/notes/canonical-model.md, a contract).

A value is stored only with its provenance (the tag, key or label it came from), and only in its canonical
type and unit; `set` refuses anything else, so a reader cannot leak a vendor unit or a guessed value downstream.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from .errors import OfsepError
from .params import registry

MANUFACTURERS = (
    ("siemens", "siemens"),
    ("philips", "philips"),
    ("ge ", "ge"),
    ("general electric", "ge"),
    ("ge", "ge"),
    ("canon", "canon"),
    ("toshiba", "canon"),
)


class ReadError(OfsepError):
    """An input could not be read (exit 2); the message says which file and what formats exist."""


def manufacturer(text: str | None) -> str | None:
    if not text:
        return None
    low = text.strip().lower()
    for prefix, name in MANUFACTURERS:
        if low == prefix.strip() or low.startswith(prefix):
            return name
    return "other"


@dataclass
class Acquisition:
    name: str
    params: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    # Where the acquisition sits, set by the exam model (exams.py) between reading and matching; None = not known.
    # program: the export's program path ("\\USER\\Head\\MS"), or the DICOM study / BIDS session it came from.
    # region: the body region decided from the evidence ("brain", "spine", "orbits", "whole-body", "other").
    # region_reasons: the evidence for that region, in words a physicist reads in the report.
    program: str | None = None
    region: str | None = None
    region_reasons: list[str] = field(default_factory=list)
    # What the reader saw around the values, for the exam model only (never printed as is, never a canonical
    # value): grouping keys ("study", "scanner": one-way digests of UIDs and serials; "subject", "session",
    # "exam", "source") and region evidence ("program", "body_part", "anatomy", "study_description", "coil",
    # "protocol_name").
    context: dict[str, str] = field(default_factory=dict)

    def set(self, param: str, value: Any, source: str) -> None:
        """Record one canonical value with where it came from; None (the input cannot tell) records nothing."""
        if value is None:
            return
        spec = registry()[param]  # KeyError: a reader used a non-canonical name, a bug
        value = _normalise(spec, value)
        if value is None:
            return
        self.params[param] = value
        self.provenance[param] = source

    def get(self, param: str) -> Any:
        return self.params.get(param)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params), "provenance": dict(self.provenance)}


def _normalise(spec, value: Any) -> Any:
    if spec.type in ("number",):
        x = float(value)
        return None if math.isnan(x) else x
    if spec.type == "integer":
        return int(round(float(value)))
    if spec.type == "numbers":
        items = [float(v) for v in value]
        if spec.integer:
            return [int(round(v)) for v in items]
        return items
    if spec.type == "strings":
        return [str(v) for v in value]
    if spec.type == "boolean":
        return bool(value)
    if spec.type == "enum":
        text = str(value)
        if text not in spec.values:
            raise ValueError(f"{spec.name}: {text!r} is not one of {spec.values}")
        return text
    return str(value)


@dataclass
class Inspection:
    """One input's reading: the JSON document of `inspect --format json`."""

    source: str
    format: str
    scanner: dict[str, Any] = field(default_factory=dict)
    acquisitions: list[Acquisition] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "format": self.format,
            "scanner": {k: v for k, v in self.scanner.items() if v is not None},
            "acquisitions": [a.to_json() for a in self.acquisitions],
            "warnings": list(self.warnings),
        }


def fill_implied(acq: Acquisition) -> None:
    """Values the physics of the acquisition fixes, said once for every reader (and said to be implied).

    A 3D acquisition encodes its partitions by Fourier encoding: they are contiguous, so the gap is 0 whether or
    not the export prints a distance factor (Siemens prints one for the gap between slabs, not partitions).
    """
    if acq.get("acquisition_type") == "3D" and acq.get("slice_gap_mm") is None:
        acq.set("slice_gap_mm", 0.0, "implied: 3D partitions are contiguous")


def scanner_from(acquisitions: list[Acquisition]) -> dict[str, Any]:
    """Scanner fields shared by the acquisitions (first value seen)."""
    scanner: dict[str, Any] = {}
    for key in ("manufacturer", "model", "software_version", "field_strength_t"):
        for acq in acquisitions:
            if acq.get(key) is not None:
                scanner[key] = acq.get(key)
                break
    return scanner


def orientation_from_normal(normal: list[float]) -> str:
    """Main orientation of a slice normal [x(sag), y(cor), z(tra)] in patient coordinates."""
    axis = max(range(3), key=lambda i: abs(normal[i]))
    strongest = abs(normal[axis]) / (math.sqrt(sum(v * v for v in normal)) or 1.0)
    if strongest < 0.8:  # more than ~37 degrees off every axis
        return "oblique"
    return ("sagittal", "coronal", "axial")[axis]


def orientation_from_iop(iop: list[float]) -> str | None:
    """Orientation from DICOM ImageOrientationPatient (row and column cosines)."""
    if not iop or len(iop) != 6:
        return None
    r, c = iop[:3], iop[3:]
    normal = [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]]
    return orientation_from_normal(normal)
