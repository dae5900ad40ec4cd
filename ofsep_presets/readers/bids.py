"""BIDS sidecars (dcm2niix JSON): a file, or every sidecar in a BIDS tree.

dcm2niix writes SI units (seconds); `units.to_unit` turns them into the canonical ms. b-values and directions
come from the .bval/.bvec beside a DWI sidecar when present; without them they are absent.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import limits, units
from ..acquisition import Acquisition, Inspection, ReadError, manufacturer, orientation_from_iop, scanner_from
from ..families import set_family

FORMAT = "bids-json"
_KEYS = (b'"RepetitionTime"', b'"EchoTime"', b'"MagneticFieldStrength"', b'"ConversionSoftware"', b'"Manufacturer"')
_NOT_SIDECARS = {"dataset_description.json", "participants.json"}


def sniff(path: Path, head: bytes) -> bool:
    text = head.lstrip()
    return text.startswith(b"{") and path.name not in _NOT_SIDECARS and sum(k in head for k in _KEYS) >= 2


def read(path: Path) -> Inspection:
    inspection = Inspection(source=str(path), format=FORMAT)
    inspection.acquisitions.append(acquisition(path, inspection.warnings))
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(limits.read_file(path).decode("utf-8"))
    except RecursionError:
        raise limits.too_deep(path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReadError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ReadError(f"{path}: a sidecar is a JSON object")
    return data


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)


def acquisition(path: Path, warnings: list[str]) -> Acquisition:
    d = _load(path)
    name = path.name[: -len(".json")] if path.name.endswith(".json") else path.stem
    acq = Acquisition(name)
    src = f"{path.name}"

    def key(k: str) -> str:
        return f"{src} {k}={json.dumps(d[k])}"

    if "Manufacturer" in d:
        acq.set("manufacturer", manufacturer(str(d["Manufacturer"])), key("Manufacturer"))
    acq.context.update(_context(path, d))
    for k, param in (("ManufacturersModelName", "model"), ("SoftwareVersions", "software_version")):
        if isinstance(d.get(k), str):
            acq.set(param, d[k], key(k))
    if _num(d.get("MagneticFieldStrength")) is not None:
        acq.set("field_strength_t", d["MagneticFieldStrength"], key("MagneticFieldStrength"))
    for k in ("SeriesDescription", "ProtocolName"):
        if isinstance(d.get(k), str):
            acq.set("series_description", d[k], key(k))
            break
    if d.get("MRAcquisitionType") in ("2D", "3D"):
        acq.set("acquisition_type", d["MRAcquisitionType"], key("MRAcquisitionType"))
    for k, param in (
        ("RepetitionTime", "repetition_time_ms"),
        ("EchoTime", "echo_time_ms"),
        ("InversionTime", "inversion_time_ms"),
    ):
        if _num(d.get(k)) is not None:
            acq.set(param, units.to_unit(d[k], "s", "ms"), key(k) + " s")
    for k, param in (
        ("FlipAngle", "flip_angle_deg"),
        ("SliceThickness", "slice_thickness_mm"),
        ("PixelBandwidth", "pixel_bandwidth_hz"),
        ("ParallelReductionFactorInPlane", "parallel_factor"),
        ("ParallelReductionFactorOutOfPlane", "parallel_factor_slice"),
        ("MultibandAccelerationFactor", "multiband_factor"),
        ("PartialFourier", "partial_fourier"),
        ("EchoTrainLength", "echo_train_length"),
        ("SeriesNumber", "series_number"),
    ):
        if _num(d.get(k)) is not None:
            acq.set(param, d[k], key(k))
    thickness, spacing = _num(d.get("SliceThickness")), _num(d.get("SpacingBetweenSlices"))
    if thickness is not None and spacing is not None:
        acq.set(
            "slice_gap_mm",
            round(spacing - thickness, 6),
            f"{src} SpacingBetweenSlices - SliceThickness = {spacing:g} - {thickness:g}",
        )
    if isinstance(d.get("AcquisitionTime"), str):
        acq.set("acquisition_time", d["AcquisitionTime"], key("AcquisitionTime"))
    iop = d.get("ImageOrientationPatientDICOM")
    if isinstance(iop, list) and len(iop) == 6 and all(_num(v) is not None for v in iop):
        acq.set("orientation", orientation_from_iop(iop), key("ImageOrientationPatientDICOM"))
    if isinstance(d.get("MTState"), bool):
        acq.set("magnetization_transfer", d["MTState"], key("MTState"))
    _phase_direction(d, acq, key)
    image_type = [str(t).upper() for t in d.get("ImageType", [])] if isinstance(d.get("ImageType"), list) else []
    derived = [t for t in ("ADC", "TRACEW", "FA", "TRACE") if t in image_type]
    if derived:
        acq.set("derived", derived, key("ImageType"))
    _diffusion(path, acq, warnings)
    set_family(
        acq,
        src,
        scanning_sequence=str(d.get("ScanningSequence", "")),
        sequence_variant=str(d.get("SequenceVariant", "")),
        sequence_name=" ".join(
            str(d.get(k, "")) for k in ("SequenceName", "PulseSequenceName", "PulseSequenceDetails")
        ),
        description=str(d.get("SeriesDescription", d.get("ProtocolName", ""))),
    )
    return acq


def _context(path: Path, d: dict[str, Any]) -> dict[str, str]:
    """The BIDS subject/session of the sidecar (from its path) and the region evidence it states."""
    from ..exams import digest

    out = {"source": str(path)}
    parts = path.parts
    for i, part in enumerate(parts[:-1]):
        if part.startswith("sub-") and "subject" not in out:
            out["subject"], out["dataset"] = part, str(Path(*parts[:i])) if i else ""
        elif part.startswith("ses-") and "subject" in out:
            out["session"] = part
    unit = str(d.get("DeviceSerialNumber") or d.get("StationName") or "")
    out["scanner"] = (
        f"{d.get('Manufacturer') or ''}|{d.get('ManufacturersModelName') or ''}|{digest(unit) if unit else ''}"
    )
    if "dataset" in out:
        name = _dataset_name(out["dataset"] or ".")
        if name:
            out["dataset_name"] = name
    for k, key in (("BodyPartExamined", "body_part"), ("ReceiveCoilName", "coil"), ("ProtocolName", "protocol_name")):
        if isinstance(d.get(k), str) and d[k]:
            out[key] = d[k]
    if isinstance(d.get("StudyInstanceUID"), str) and d["StudyInstanceUID"]:
        out["study"] = digest(d["StudyInstanceUID"])
    return out


@lru_cache(maxsize=64)
def _dataset_name(root: str) -> str | None:
    """The `Name` of the dataset_description.json at a BIDS root (BIDS: REQUIRED, "Name of the dataset"): the
    curator's statement of what the dataset images ("Spinal Cord MRI Public Database"), read as the study
    description of each of its sessions. None when the file is absent or unreadable: absent, never guessed."""
    path = Path(root) / "dataset_description.json"
    try:
        data = json.loads(limits.read_file(path).decode("utf-8"))
    except (OSError, UnicodeDecodeError, RecursionError, ValueError, ReadError):
        return None
    name = data.get("Name") if isinstance(data, dict) else None
    return name if isinstance(name, str) and name.strip() else None


# BIDS PhaseEncodingDirection names a NIfTI voxel axis; dcm2niix writes the NIfTI with the DICOM rows flipped, so
# i runs along the DICOM row direction and j against the column direction (the VE11 DTI fixture: axial, COL,
# Siemens polarity positive = A >> P, dcm2niix "j-"). Each: (DICOM axis, runs along it).
_BIDS_AXES = {"i": ("ROW", True), "i-": ("ROW", False), "j": ("COL", False), "j-": ("COL", True)}


def _phase_direction(d: dict, acq: Acquisition, key) -> None:
    """AP/PA/… from dcm2niix's PhaseEncodingDirection and ImageOrientationPatientDICOM, for 2D acquisitions only.

    dcm2niix rotates 3D non-EPI volumes to the NIfTI identity, after which i/j no longer name the DICOM axes;
    a 2D acquisition is written as acquired. Without the DICOM orientation (a sidecar of another converter) the
    voxel axis names no patient direction: absent.
    """
    from .dicom import phase_direction

    axis = _BIDS_AXES.get(str(d.get("PhaseEncodingDirection", "")))
    iop = d.get("ImageOrientationPatientDICOM")
    if axis is None or d.get("MRAcquisitionType") != "2D" or not isinstance(iop, list) or len(iop) != 6:
        return
    if not all(_num(v) is not None for v in iop):
        return
    found = phase_direction([float(v) for v in iop], *axis)
    if found:
        acq.set(
            "phase_encoding_direction",
            found[0],
            key("PhaseEncodingDirection") + f" + ImageOrientationPatientDICOM (dcm2niix axes; {found[1]})",
        )


def _diffusion(path: Path, acq: Acquisition, warnings: list[str]) -> None:
    stem = path.with_suffix("")
    bval, bvec = stem.with_suffix(".bval"), stem.with_suffix(".bvec")
    if not bval.is_file():
        return
    try:
        values = [float(x) for x in bval.read_text(encoding="ascii").split()]
    except (ValueError, UnicodeDecodeError):
        warnings.append(f"{bval}: not a list of numbers; b-values left absent")
        return
    if not values:
        return
    acq.set("b_values", sorted({round(v) * 1.0 for v in _rounded_shells(values)}), f"{bval.name}")
    if bvec.is_file():
        try:
            rows = [
                [float(x) for x in line.split()]
                for line in bvec.read_text(encoding="ascii").splitlines()
                if line.strip()
            ]
        except (ValueError, UnicodeDecodeError):
            warnings.append(f"{bvec}: not numbers; directions left absent")
            return
        if len(rows) == 3 and all(len(r) == len(values) for r in rows):
            top = max(values)
            vectors = [(rows[0][i], rows[1][i], rows[2][i]) for i, b in enumerate(values) if b > 0.5 * top]
            acq.set("diffusion_directions", count_directions(vectors), f"{bvec.name}: distinct directions at b≈{top:g}")


def _rounded_shells(values: list[float]) -> list[float]:
    """Nominal b-values: scanners write 995 or 1005 for a 1000 shell; round to the nearest 5 (b=0 stays 0)."""
    return [0.0 if v < 25 else 5 * round(v / 5) for v in values]


def count_directions(vectors: list[tuple[float, float, float]], tolerance_deg: float = 1.0) -> int:
    """Non-collinear unit directions (v and -v are the same axis)."""
    kept: list[tuple[float, float, float]] = []
    limit = math.cos(math.radians(tolerance_deg))
    for v in vectors:
        n = math.sqrt(sum(c * c for c in v))
        if n < 1e-6:
            continue
        u = (v[0] / n, v[1] / n, v[2] / n)
        if all(abs(u[0] * k[0] + u[1] * k[1] + u[2] * k[2]) < limit for k in kept):
            kept.append(u)
    return len(kept)
