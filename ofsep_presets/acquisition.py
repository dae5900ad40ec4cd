"""The canonical acquisition every reader produces (../shared/notes/canonical-model.md, a contract).

A value is stored only with its provenance (the tag, key or label it came from), and only in its canonical
type and unit; `set` refuses anything else, so a reader cannot leak a vendor unit or a guessed value downstream.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
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


# No MRI setting in its canonical unit (ms, mm, Hz/px, s/mm², counts) comes near this: a value past it is a
# damaged or hostile field (a SliceThickness of 1e30), not something to judge or print.
MAX_MAGNITUDE = 1e9
MAX_ITEMS = 10_000  # items of one list value (b-values, matrix, derived types)


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
    # Fields of the input that could not be read into a value, one line each; `inspect_path` moves them into
    # the Inspection's warnings (they are not part of the acquisition's JSON).
    warnings: list[str] = field(default_factory=list)
    # What the reader saw around the values, for the exam model only (never printed as is, never a canonical
    # value): grouping keys ("study", "scanner": one-way digests of UIDs and serials; "subject", "session",
    # "exam", "source") and region evidence ("program", "body_part", "anatomy", "study_description", "coil",
    # "protocol_name").
    context: dict[str, str] = field(default_factory=dict)

    def set(self, param: str, value: Any, source: str) -> None:
        """Record one canonical value with where it came from; None (the input cannot tell) records nothing.

        A value that is not of the parameter's type, not finite or beyond any MRI setting is left absent with a
        warning naming the field: one odd value never costs the rest of the file.
        """
        if value is None:
            return
        spec = registry()[param]  # KeyError: a reader used a non-canonical name, a bug
        try:
            value = _normalise(spec, value)
        except (TypeError, ValueError, OverflowError) as exc:
            self.warn(f"{param} from {source}: {exc}")
            return
        if value is None:
            return
        self.params[param] = value
        self.provenance[param] = source

    def warn(self, message: str) -> None:
        self.warnings.append(f"{self.name}: {_short(message)}; left absent")

    @contextmanager
    def reading(self, field_name: str) -> Iterator[None]:
        """Read one field of the input: whatever it raises (a word where a number belongs, a float where pydicom
        gives lists, a damaged structure) leaves that field absent with a warning and the rest of the file read.

        Our own ReadError (a limit reached, a file refused) still ends the read: it is about the file, not a field.
        """
        try:
            yield
        except ReadError:
            raise
        except Exception as exc:
            self.warn(f"{field_name} could not be read ({type(exc).__name__}: {exc})")

    def get(self, param: str) -> Any:
        return self.params.get(param)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "params": dict(self.params), "provenance": dict(self.provenance)}


def _short(text: str, size: int = 240) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def _finite(value: Any) -> float:
    if isinstance(value, bool):
        raise TypeError(f"{value!r} is not a number")
    x = float(value)
    if not math.isfinite(x) or abs(x) > MAX_MAGNITUDE:
        raise ValueError(f"{_short(repr(value), 40)} is not a finite number within ±{MAX_MAGNITUDE:g}")
    return x


def _items(value: Any) -> list:
    if isinstance(value, str | bytes | dict) or not hasattr(value, "__iter__"):
        raise TypeError(f"{_short(repr(value), 40)} is not a list")
    items = list(value)
    if len(items) > MAX_ITEMS:
        raise ValueError(f"{len(items)} items, more than any MRI parameter has ({MAX_ITEMS})")
    return items


def _normalise(spec, value: Any) -> Any:
    if spec.type in ("number",):
        if isinstance(value, float) and math.isnan(value):
            return None
        return _finite(value)
    if spec.type == "integer":
        return int(round(_finite(value)))
    if spec.type == "numbers":
        items = [_finite(v) for v in _items(value)]
        if spec.integer:
            return [int(round(v)) for v in items]
        return items
    if spec.type == "strings":
        return [str(v) for v in _items(value)]
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


AXES = ("sagittal", "coronal", "axial")  # the slice normal along x (left), y (posterior), z (head): PS3.3 C.7.6.2.1.1
OBLIQUE_COS = 0.8  # a normal within ~36.9 degrees of an axis is that axis' plane; further off, oblique


def plane_of_normal(normal: list[float]) -> tuple[str, float, str] | None:
    """(orientation, degrees between the slice normal and its nearest patient axis, that axis' plane) of a slice
    normal [x, y, z] in the DICOM patient coordinates (PS3.3 C.7.6.2.1.1: x to the patient's left, y posterior,
    z to the head); None for a zero normal. The orientation is the nearest axis' plane, "oblique" past the limit."""
    length = math.sqrt(sum(v * v for v in normal))
    if not length or not all(math.isfinite(v) for v in normal):
        return None
    axis = max(range(3), key=lambda i: abs(normal[i]))
    cosine = min(1.0, abs(normal[axis]) / length)
    angle = math.degrees(math.acos(cosine))
    return ("oblique" if cosine < OBLIQUE_COS else AXES[axis]), angle, AXES[axis]


def orientation_from_normal(normal: list[float]) -> str:
    """Main orientation of a slice normal [x(sag), y(cor), z(tra)] in patient coordinates."""
    found = plane_of_normal(normal)
    return found[0] if found else "oblique"


# The ends of the patient axes a direction runs toward, in DICOM's LPS patient coordinates (PS3.3 C.7.6.2.1.1):
# +x (left), +y (posterior), +z (head); a label names the start and end ("AP": from anterior to posterior, as the
# Siemens printout's "A >> P").
DIRECTION_NAMES = (("RL", "LR"), ("AP", "PA"), ("FH", "HF"))


def direction_label(vector: list[float]) -> str | None:
    """The canonical label of a direction in patient coordinates (x sag/left, y cor/posterior, z tra/head): the
    patient axis it runs along most, and which way ('AP' = toward posterior). None for a null vector."""
    if len(vector) != 3:
        return None
    main = max(range(3), key=lambda i: abs(vector[i]))
    if abs(vector[main]) < 1e-6:
        return None
    toward, away = DIRECTION_NAMES[main]
    return toward if vector[main] > 0 else away


def slice_normal(iop: list[float]) -> list[float] | None:
    """The slice normal of ImageOrientationPatient (row cosines × column cosines, PS3.3 C.7.6.2.1.1)."""
    if not iop or len(iop) != 6:
        return None
    r, c = iop[:3], iop[3:]
    return [r[1] * c[2] - r[2] * c[1], r[2] * c[0] - r[0] * c[2], r[0] * c[1] - r[1] * c[0]]


def orientation_from_iop(iop: list[float]) -> str | None:
    """Orientation from DICOM ImageOrientationPatient (row and column cosines)."""
    normal = slice_normal(iop)
    return orientation_from_normal(normal) if normal is not None else None


def plane_from_iop(iop: list[float]) -> tuple[str, str] | None:
    """(orientation, the arithmetic in words) from ImageOrientationPatient, for a value's provenance: the slice
    normal, its angle to the nearest patient axis, and for an oblique plane that it is past the limit."""
    normal = slice_normal(iop)
    found = plane_of_normal(normal) if normal is not None else None
    if found is None:
        return None
    plane, angle, nearest = found
    shown = "(" + ", ".join(f"{round(v, 3) + 0.0:.3f}" for v in normal) + ")"
    limit = math.degrees(math.acos(OBLIQUE_COS))
    if plane == "oblique":
        how = f"slice normal {shown} {angle:.1f}° from pure {nearest}, the nearest plane: oblique (beyond {limit:.1f}°)"
    else:
        how = f"slice normal {shown} {angle:.1f}° from pure {nearest}"
    return plane, how
