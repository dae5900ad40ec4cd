"""BIDS sidecars (dcm2niix JSON): a file, or every sidecar in a BIDS tree.

dcm2niix writes SI units (seconds); `units.to_unit` turns them into the canonical ms. b-values and directions
come from the .bval/.bvec beside a DWI sidecar when present; without them they are absent.
"""

from __future__ import annotations

import json
import math
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import limits, units
from ..acquisition import Acquisition, Inspection, ReadError, manufacturer, plane_from_iop, scanner_from
from ..bshells import nominal_shells
from ..families import set_family
from . import dicom_terms

FORMAT = "bids-json"
_KEYS = (b'"RepetitionTime"', b'"EchoTime"', b'"MagneticFieldStrength"', b'"ConversionSoftware"', b'"Manufacturer"')
_NOT_SIDECARS = {"dataset_description.json", "participants.json"}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def sniff(path: Path, head: bytes) -> bool:
    if head.startswith(_UTF16_BOMS):  # a sidecar saved as "Unicode" on Windows: UTF-16 with its byte order mark
        head = head[: len(head) // 2 * 2].decode("utf-16", "ignore").encode("utf-8")
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()  # sidecars written on Windows may open with a BOM
    if not text.startswith(b"{") or path.name in _NOT_SIDECARS:
        return False
    return sum(k in head for k in _KEYS) >= 2 or _bids_named(path.name)


# BIDS suffixes of MRI series (BIDS specification, "Magnetic Resonance Imaging" data types anat, func, dwi, fmap,
# perf): a sidecar of one, in its data-type folder, is a sidecar even when it states little itself and inherits
# the rest (a subject's bold.json holding only its AcquisitionTime, under a dataset-level task-rest_bold.json).
_MRI_SUFFIXES = frozenset(
    {
        "T1w",
        "T2w",
        "PDw",
        "T2starw",
        "FLAIR",
        "inplaneT1",
        "inplaneT2",
        "PDT2",
        "angio",
        "T1map",
        "T2map",
        "T2starmap",
        "R1map",
        "R2map",
        "R2starmap",
        "PDmap",
        "MTRmap",
        "MTsat",
        "UNIT1",
        "T1rho",
        "MESE",
        "MEGRE",
        "VFA",
        "IRT1",
        "MP2RAGE",
        "MPM",
        "MTS",
        "MTR",
        "MTw",
        "bold",
        "cbv",
        "phase",
        "sbref",
        "dwi",
        "phasediff",
        "phase1",
        "phase2",
        "magnitude",
        "magnitude1",
        "magnitude2",
        "fieldmap",
        "epi",
        "TB1DAM",
        "TB1EPI",
        "TB1AFI",
        "TB1TFL",
        "TB1RFM",
        "TB1SRGE",
        "RB1COR",
        "asl",
        "m0scan",
        "swi",
    }
)
_DATATYPES = frozenset({"anat", "func", "dwi", "fmap", "perf", "swi"})


def _bids_named(name: str) -> bool:
    """A JSON file named as BIDS names an MRI series' sidecar ("sub-01_T2w.json", a dataset's
    "task-faces_acq-mb3_bold.json", "T1w.json"): a sidecar wherever it lies, even when it states only what its
    writer kept (OpenNeuro ds005687's sub-01_T2w.json: the field strength and the sequence; NILAB-UvA PIOP1's
    dataset-level bold.json: the slice times). Its name is the format's own mark; read, not refused."""
    named = _entities(name)
    return named is not None and named[1] in _MRI_SUFFIXES


def _in_dataset(path: Path) -> bool:
    return (
        _bids_named(path.name)
        and path.parent.name in _DATATYPES
        and any(part.startswith("sub-") for part in path.parts[:-1])
    )


def read(path: Path) -> Inspection:
    inspection = Inspection(source=str(path), format=FORMAT)
    inspection.acquisitions.append(acquisition(path, inspection.warnings))
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def _decode(raw: bytes, path: Path, notes: list[str]) -> str:
    """The sidecar's text. BIDS says UTF-8; what else real files are is read as what it plainly is, and said:
    UTF-16 with its byte order mark (Windows "Unicode"), and Windows-1252 / Latin-1 (an accented name written
    by an older editor), which every byte decodes, so one "é" never costs the whole file."""
    if raw.startswith(_UTF16_BOMS):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ReadError(f"{path}: opens as UTF-16 text but is not ({exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        notes.append(f"{path.name}: not UTF-8 (byte {exc.start}); read as Windows-1252/Latin-1 text")
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _load(path: Path, notes: list[str] | None = None) -> dict[str, Any]:
    """The sidecar as a JSON object. What follows a complete object (NUL padding left by a copy tool, a second
    object pasted after it) is not part of it: ignored, and said in `notes`."""
    notes = [] if notes is None else notes
    text = _decode(limits.read_file(path), path, notes)
    body = text.lstrip()
    try:
        data, end = json.JSONDecoder().raw_decode(body)
    except RecursionError:
        raise limits.too_deep(path) from None
    except json.JSONDecodeError as exc:
        raise ReadError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ReadError(f"{path}: a sidecar is a JSON object")
    rest = body[end:].strip()
    if rest:
        kind = "NUL padding" if not rest.strip("\0") else f"{len(rest)} character(s) of text"
        notes.append(f"{path.name}: {kind} after the JSON object ignored")
    return data


def _num(value: Any) -> float | None:
    """A finite number, or a string that is one ("2.5": hand-written sidecars quote numbers); else None."""
    if isinstance(value, str) and 0 < len(value) <= 32:
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return None
    return float(value)  # infinity passes: Acquisition.set leaves it absent with a warning naming the field


# Keys read as one value. A converter or a hand-made sidecar may write one as a one-element list ([90]): that is
# the value; a longer list or an object is no single value (absent, with a warning naming the key). EchoTime is
# not here: a list of echo times is a multi-echo series (_echo_time_list).
_SCALARS = (
    "Manufacturer",
    "ManufacturersModelName",
    "ManufacturerModelName",
    "SoftwareVersions",
    "MagneticFieldStrength",
    "SeriesDescription",
    "ProtocolName",
    "MRAcquisitionType",
    "RepetitionTime",
    "InversionTime",
    "FlipAngle",
    "SliceThickness",
    "SpacingBetweenSlices",
    "PixelBandwidth",
    "ParallelReductionFactorInPlane",
    "AccelFactPE",
    "MultibandAccelerationFactor",
    "EchoTrainLength",
    "SeriesNumber",
    "NumberOfExcitations",
    "NumberOfAverages",
    "ParallelReductionFactorOutOfPlane",
    "ParallelReductionOutOfPlane",
    "PartialFourier",
    "AcquisitionMatrixPE",
    "BaseResolution",
    "FrequencyEncodingSteps",
    "PhaseResolution",
    "PhaseEncodingSteps",
    "AcquisitionTime",
    "MTState",
    "PhaseEncodingDirection",
    "EchoTime1",
    "EchoTime2",
    "ScanningSequence",
    "SequenceVariant",
    "SequenceName",
    "PulseSequenceName",
    "PulseSequenceDetails",
    "BodyPartExamined",
    "BodyPart",
    "ReceiveCoilName",
)
_TEXT = (
    "Manufacturer",
    "ManufacturersModelName",
    "ManufacturerModelName",
    "SoftwareVersions",
    "SeriesDescription",
    "ProtocolName",
    "AcquisitionTime",
)


# Sidecar keys a warning may name (BIDS- and dcm2niix-defined); any other key of a file is its own text.
_KNOWN_KEYS = frozenset(
    (
        *_SCALARS,
        "EchoTime",
        "PulseSequenceType",
        "PulseSequenceDetails",
        "PulseSequenceName",
        "SequenceName",
        "ScanningSequence",
        "SequenceVariant",
        "ScanOptions",
        "ImageType",
        "SliceTiming",
        "TaskName",
        "PhaseEncodingDirection",
        "EffectiveEchoSpacing",
        "TotalReadoutTime",
        "ConversionSoftware",
        "ConversionSoftwareVersion",
    )
)


def _scalars(d: dict[str, Any], warn) -> dict[str, Any]:
    """`d` with each single-valued key as one value (see _SCALARS); keys that hold no single value dropped."""
    out = dict(d)
    for k in _SCALARS:
        v = out.get(k)
        if isinstance(v, list) and len(v) == 1 and not isinstance(v[0], list | dict):
            out[k] = v[0]
        elif isinstance(v, list | dict):
            warn(f"{k}: {'a list of ' + str(len(v)) if isinstance(v, list) else 'an object'} where one value belongs")
            del out[k]
    for k in _TEXT:
        v = out.get(k)
        if v is not None and not (isinstance(v, str) and v.strip()):
            if not (isinstance(v, str) and not v.strip()):  # an empty name says nothing; no warning for it
                warn(f"{k}={json.dumps(v)[:40]} is not text")
            del out[k]
    return out


def acquisition(path: Path, warnings: list[str]) -> Acquisition:
    notes: list[str] = []
    # A data file without a sidecar of its own (see sidecarless) is read as the sidecar its NIfTI would have:
    # nothing of its own, everything it inherits.
    own = {} if _stands_for_nifti(path) else _load(path, notes)
    warnings += notes
    name = path.name[: -len(".json")] if path.name.endswith(".json") else path.stem
    acq = Acquisition(name)
    src = f"{path.name}"
    merged, origin = _inherit(path, own, warnings)
    d = _scalars(merged, acq.warn)

    def key(k: str) -> str:
        return f"{origin.get(k, src)} {k}={json.dumps(merged[k])}"

    if "Manufacturer" in d:
        acq.set("manufacturer", manufacturer(d["Manufacturer"]), key("Manufacturer"))
    acq.context.update(_context(path, d))
    for k, param in (
        ("ManufacturersModelName", "model"),
        ("ManufacturerModelName", "model"),  # the DICOM keyword (0008,1090), as hand-made sidecars spell it
        ("SoftwareVersions", "software_version"),
    ):
        if isinstance(d.get(k), str) and param not in acq.params:
            acq.set(param, d[k], key(k))
    if _num(d.get("MagneticFieldStrength")) is not None:
        acq.set("field_strength_t", _num(d["MagneticFieldStrength"]), key("MagneticFieldStrength"))
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
        if _num(d.get(k)) is not None and _in_seconds(k, _num(d[k]), acq):
            acq.set(param, units.to_unit(_num(d[k]), "s", "ms"), key(k) + " s")
    _echo_time_list(d, acq, key)
    for k, param in (
        ("FlipAngle", "flip_angle_deg"),
        ("SliceThickness", "slice_thickness_mm"),
        ("PixelBandwidth", "pixel_bandwidth_hz"),
        ("ParallelReductionFactorInPlane", "parallel_factor"),
        ("AccelFactPE", "parallel_factor"),  # dcm2niix before 2018 (v1.0.20170818): Siemens sPat.lAccelFactPE
        ("MultibandAccelerationFactor", "multiband_factor"),
        ("EchoTrainLength", "echo_train_length"),
        ("SeriesNumber", "series_number"),
        ("NumberOfExcitations", "averages"),  # GE's NEX (dcm2niix writes it for GE only)
        ("NumberOfAverages", "averages"),  # DICOM (0018,0083), as dcm2niix writes it when it is not 1
    ):
        if _num(d.get(k)) is not None and param not in acq.params:
            value = _num(d[k])
            acq.set(param, int(value) if isinstance(d[k], int) else value, key(k))
    _out_of_plane(d, acq, key)
    _slices(d, acq, key)
    _partial_fourier(d, acq, key)
    _matrix(d, acq, key)
    _echo_times(d, acq, key)
    thickness, spacing = _num(d.get("SliceThickness")), _num(d.get("SpacingBetweenSlices"))
    # A 3D volume's partitions are contiguous by Fourier encoding (fill_implied: gap 0, as the DICOM reader says).
    # Its SpacingBetweenSlices below SliceThickness is an overlapping reconstruction (GE ZIP2, Philips 3D: 1.2 mm
    # reconstructed every 0.6 mm in the SOOP sidecars), not an edge-to-edge gap of -0.6 mm: only 2D has a gap here.
    if thickness is not None and spacing is not None and d.get("MRAcquisitionType") != "3D":
        acq.set(
            "slice_gap_mm",
            round(spacing - thickness, 6),
            f"{src} SpacingBetweenSlices - SliceThickness = {spacing:g} - {thickness:g}",
        )
    if isinstance(d.get("AcquisitionTime"), str):
        acq.set("acquisition_time", d["AcquisitionTime"], key("AcquisitionTime"))
    else:
        _scans_time(path, acq, warnings)
    iop = d.get("ImageOrientationPatientDICOM")
    if isinstance(iop, list) and len(iop) == 6 and all(_num(v) is not None for v in iop):
        plane = plane_from_iop([_num(v) for v in iop])
        if plane is not None:
            acq.set("orientation", plane[0], f"{key('ImageOrientationPatientDICOM')}: {plane[1]}")
    if isinstance(d.get("MTState"), bool):
        acq.set("magnetization_transfer", d["MTState"], key("MTState"))
    # The DICOM's attributes, as dcm2niix copies them.
    attributes = ("ScanOptions", "SequenceVariant", "SpectrallySelectedSuppression", "ParallelAcquisitionTechnique")
    for attribute in attributes:
        if isinstance(d.get(attribute), str | list):
            for param, value, term in dicom_terms.stated(attribute, d[attribute]):
                if param not in acq.params:
                    acq.set(param, value, f"{key(attribute)} ({term}: DICOM defined term)")
    _phase_direction(d, acq, key)
    image_type = [str(t).upper() for t in d.get("ImageType", [])] if isinstance(d.get("ImageType"), list) else []
    derived = [t for t in ("ADC", "TRACEW", "FA", "TRACE") if t in image_type]
    if derived:
        acq.set("derived", derived, key("ImageType"))
    if image_type:  # dcm2niix copies the DICOM ImageType: the matcher reads it as it reads the DICOM's
        acq.context["image_type"] = "\\".join(image_type)
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
        diffusion=_curated_diffusion(path),
    )
    if not acq.params:  # read (its name says what it is), but nothing in it is a parameter: say so, not silence
        # Its keys named only where they are sidecar keys this reader knows: a key is the file's own text, and a
        # hand-made one may hold anything (a name, "JeanDupont"); the others are counted.
        named = sorted(k for k in merged if isinstance(k, str) and k in _KNOWN_KEYS)
        other = len(merged) - len(named)
        shown = (
            ", ".join(named[:5]) + (", …" if len(named) > 5 else "") + (f" (+{other} other key(s))" if other else "")
        )
        warnings.append(f"{path.name}: states no acquisition parameter ofsep-presets reads ({shown or 'no key'})")
    return acq


# BIDS "Scans file" (modality-agnostic files, data summary files): sub-<label>[_ses-<label>]_scans.tsv in the
# session (or subject) folder, one row per data file: `filename` relative to that folder ("anat/sub-01_T1w.nii.gz"),
# `acq_time` OPTIONAL, a datetime YYYY-MM-DDThh:mm:ss[.000000][Z] (the date may be shifted for anonymity).
_ACQ_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T(\d{2}:\d{2}:\d{2}(?:\.\d+)?)Z?$")
_IMAGE_EXTENSIONS = (".nii.gz", ".nii")


def _scans_time(path: Path, acq: Acquisition, warnings: list[str]) -> None:
    """The acquisition time of a sidecar that states none, from its session's scans.tsv `acq_time`: the time of
    day, as dcm2niix writes AcquisitionTime (hh:mm:ss.ffffff), so the two order one session together."""
    name = path.name[: -len(".json")]
    tables = []
    try:
        with os.scandir(path.parent.parent) as entries:
            for entry in entries:
                if entry.name.endswith("_scans.tsv") and entry.is_file():
                    stat = entry.stat()
                    tables.append((entry.path, stat.st_mtime_ns, stat.st_size))
    except OSError:
        return
    if not tables:
        return
    times = _scans_times(tuple(sorted(tables)))
    for table, rows in times.items():
        stamp = rows.get(f"{path.parent.name}/{name}")
        if stamp is None:
            continue
        found = _ACQ_TIME.match(stamp)
        if found:
            acq.set("acquisition_time", found.group(1), f"{table} acq_time={stamp} (time of day)")
        else:
            warnings.append(f"{table}: acq_time {stamp[:40]!r} of {name} is not a BIDS datetime; not read")
        return


@lru_cache(maxsize=256)
def _scans_times(tables: tuple[tuple[str, int, int], ...]) -> dict[str, dict[str, str]]:
    """{scans.tsv name: {"anat/sub-01_T1w": acq_time}} for a session folder's scans files, read once per version
    of them (path, mtime, size). A table that cannot be read is left out: its times are then not known."""
    out: dict[str, dict[str, str]] = {}
    for table, _, _ in tables:
        try:
            lines = limits.read_file(Path(table)).decode("utf-8-sig").splitlines()
        except (OSError, UnicodeDecodeError, ReadError):
            continue
        header = lines[0].split("\t") if lines else []
        if "filename" not in header or "acq_time" not in header:
            continue
        at, when = header.index("filename"), header.index("acq_time")
        rows = {}
        for line in lines[1:]:
            cells = line.split("\t")
            if len(cells) <= max(at, when) or cells[when].strip() in ("", "n/a"):
                continue
            filename = cells[at].strip().replace("\\", "/")
            for ext in _IMAGE_EXTENSIONS:
                if filename.endswith(ext):
                    rows[filename[: -len(ext)]] = cells[when].strip()
                    break
        out[os.path.basename(table)] = rows
    return out


def _curated_diffusion(path: Path) -> str:
    """The curator's statement that a file holds diffusion-weighted images: the BIDS suffix `dwi` (BIDS
    specification, "Diffusion imaging data": the `dwi` suffix of the `dwi` datatype). Where no b-value is at hand
    (a sidecar without its .bval: SOOP's Philips "sB1000", ScanningSequence SE only), it is the diffusion weighting
    stated in so many words; a .bval, when present, still decides (b = 0 only is no diffusion weighting)."""
    parsed = _entities(path.name)
    return "BIDS suffix _dwi" if parsed and parsed[1] == "dwi" else ""


def _entities(name: str) -> tuple[frozenset[str], str] | None:
    """A BIDS file name's key-value entities and suffix ("sub-01_task-rest_bold.json" → {sub-01, task-rest},
    "bold"); None for a name that is not one."""
    if not name.endswith(".json"):
        return None
    *pairs, suffix = name[: -len(".json")].split("_")
    if not suffix or "-" in suffix or not all("-" in pair for pair in pairs):
        return None
    return frozenset(pairs), suffix


@lru_cache(maxsize=256)
def _json_names(folder: str) -> tuple[str, ...]:
    try:
        return tuple(sorted(e.name for e in os.scandir(folder) if e.name.endswith(".json") and e.is_file()))
    except OSError:
        return ()


def inherited_from(path: Path) -> list[Path]:
    """The sidecars whose metadata `path` inherits (BIDS inheritance principle): those at the dataset root, the
    subject or session folder, or beside it, whose entities are a subset of its own with the same suffix; least
    specific first (a higher folder, then fewer entities), so the more specific value wins. Empty outside a
    dataset (no sub-* folder above it)."""
    mine = _entities(path.name)
    parts = path.parts
    subject = next((i for i, part in enumerate(parts[:-1]) if part.startswith("sub-")), None)
    if mine is None or subject is None:
        return []
    levels = [Path(*parts[:i]) if i else Path(".") for i in range(subject, len(parts))]
    found: list[tuple[int, int, Path]] = []
    for depth, folder in enumerate(levels):
        for name in _json_names(os.fspath(folder)):
            theirs = _entities(name)
            if (
                theirs is not None
                and theirs[1] == mine[1]
                and theirs[0] <= mine[0]
                and name not in _NOT_SIDECARS
                and (folder / name) != path
            ):
                found.append((depth, len(theirs[0]), folder / name))
    return [p for _, _, p in sorted(found)]


def _inherit(path: Path, own: dict[str, Any], warnings: list[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The sidecar's metadata with what it inherits (inherited_from), and for each inherited key the file that
    held it (its provenance). An unreadable inherited file is said and left out."""
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for parent in inherited_from(path):
        try:
            data = _load(parent, warnings)
        except ReadError as exc:
            warnings.append(f"{path.name}: inherited metadata not read ({exc})")
            continue
        for k, v in data.items():
            merged[k] = v
            origin[k] = f"{parent.name} (inherited)"
    for k in own:
        origin.pop(k, None)
    merged.update(own)
    return merged, origin


_NIFTI = (".nii.gz", ".nii")


def _stands_for_nifti(path: Path) -> bool:
    """Whether `path` is the sidecar a NIfTI series would have (see sidecarless): not on disk, its NIfTI is, and it
    inherits metadata. Derived from the files each time, so no state is kept between reads."""
    if path.exists() or not path.name.endswith(".json"):
        return False
    stem = str(path)[: -len(".json")]
    return any(os.path.exists(stem + ext) for ext in _NIFTI) and _in_dataset(path) and bool(inherited_from(path))


def sidecarless(data_files: list[str]) -> list[tuple[str, Path]]:
    """The sidecar paths of a dataset's NIfTI series that have no sidecar of their own but inherit one (a
    dataset that states its bold metadata once, in a root task-rest_bold.json: OpenNeuro ds001832): each is read
    as that series' sidecar, so each subject's series is its own acquisition. A NIfTI with nothing to inherit
    stays a skipped file."""
    found = []
    for name in data_files:
        stem = next((name[: -len(ext)] for ext in _NIFTI if name.endswith(ext)), None)
        if stem is None:
            continue
        path = Path(stem + ".json")
        if path.exists() or not _in_dataset(path) or not inherited_from(path):
            continue
        found.append((name, path))
    return found


# Files of a BIDS dataset that are not sidecars (BIDS specification, "Modality agnostic files" and each
# datatype's data files): read with a sidecar or not needed for a protocol, never an input that failed to read.
_DATASET_FILES = re.compile(
    r"^(?:dataset_description\.json|participants\.(?:tsv|json)|(?:README|CHANGES|LICENSE)(?:\.\w+)?|"
    r"\.bidsignore|genetic_info\.json|samples\.(?:tsv|json))$|_(?:scans|sessions)\.(?:tsv|json)$"
)
_DATA_EXTENSIONS = (".nii.gz", ".nii", ".bval", ".bvec", ".tsv.gz", ".tsv")


def companions(sidecars: list[Path], skipped: list[str]) -> set[str]:
    """Of the files a folder read skipped, those that belong to a BIDS dataset beside the sidecars read: the
    dataset-level files, and a series' image, .bval/.bvec, events or physio file whose name is a read sidecar's
    name with another extension (sub-01_dwi.json → sub-01_dwi.bval)."""
    stems = {str(p)[: -len(".json")] for p in sidecars if str(p).endswith(".json")}
    found = set()
    for name in skipped:
        base = os.path.basename(name)
        if _DATASET_FILES.search(base):
            found.add(name)
            continue
        for ext in _DATA_EXTENSIONS:
            if name.endswith(ext):
                stem = name[: -len(ext)]
                if stem in stems or (ext.startswith(".tsv") and stem.rsplit("_", 1)[0] + "_bold" in stems):
                    found.add(name)
                break
    return found


def dataset_level(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """Sidecars of a folder read as acquisitions, and those that only carry metadata the others inherit: a
    sidecar outside any sub-* folder that some sidecar below it inherits (a dataset's task-rest_bold.json)
    describes no series of its own."""
    # Inherited by a sidecar in a deeper folder: a sibling whose entities are a subset of another's in the same
    # folder ("sub-01_T1w" beside "sub-01_ce-gado_T1w", a flat subject folder) is a series of its own.
    inherited = {p for f in files for p in inherited_from(f) if p.parent != f.parent}
    # A sidecar outside a data-type folder (anat, dwi, …), that one below it inherits, is metadata: at the dataset
    # root, or a subject's or session's own level ("sub-01/sub-01_T1w.json"), where BIDS puts no series.
    kept = [f for f in files if not (f in inherited and f.parent.name not in _DATATYPES)]
    return kept, [f for f in files if f not in kept]


def named_only(files: list[Path]) -> tuple[list[Path], list[Path]]:
    """The sidecars of a folder that are one, and the files taken only by their BIDS-like name (outside a data-type
    folder, stating fewer than two sidecar keys) that state no acquisition parameter: those describe no series of
    the folder (a tool's "dwi.json" beside a dummy run's DICOM), so a folder read skips them; named alone on the
    command line, such a file is read and said empty."""
    kept, empty = [], []
    for f in files:
        if _in_dataset(f) or sum(k in _head(f) for k in _KEYS) >= 2:
            kept.append(f)
            continue
        try:  # the family its name alone gives ("_dwi": diffusion) is no statement of the file's
            stated = set(acquisition(f, []).params) - {"sequence_family"}
        except ReadError:
            stated = {"unreadable"}  # the read says why, as for any sidecar
        (kept if stated else empty).append(f)
    return kept, empty


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(4096)
    except OSError:
        return b""


def _out_of_plane(d: dict[str, Any], acq: Acquisition, key) -> None:
    """The out-of-plane reduction factor: dcm2niix writes ParallelReductionOutOfPlane (DICOM (0018,9155)), BIDS
    names it ParallelReductionFactorOutOfPlane. In a 3D acquisition it is the slice-direction parallel factor
    (GE ARC, Philips SENSE S); a 2D acquisition has no slice direction to undersample, so there it is the
    simultaneous-multislice factor (ON-Harmony's Philips "DTI_Biobank_2mm_MB3S1p5_EPI": in-plane 1.5, out of plane
    3), unless the sidecar states MultibandAccelerationFactor itself. With the dimension unstated it is absent.
    """
    found = next((k for k in ("ParallelReductionFactorOutOfPlane", "ParallelReductionOutOfPlane") if k in d), None)
    value = _num(d.get(found)) if found else None
    if value is None:
        return
    if d.get("MRAcquisitionType") == "3D":
        acq.set("parallel_factor_slice", value, key(found) + " (3D: slice direction)")
    elif d.get("MRAcquisitionType") == "2D" and "multiband_factor" not in acq.params and value.is_integer():
        acq.set("multiband_factor", int(value), key(found) + " (2D: simultaneous multislice)")


def _slices(d: dict[str, Any], acq: Acquisition, key) -> None:
    """The number of slices of a 2D acquisition: BIDS SliceTiming holds "the time at which each slice was
    acquired", one entry per slice (simultaneous slices each listed, at the same time). A 3D volume's partitions
    have no slice times (BIDS recommends SliceTiming only where MRAcquisitionType is 2D, bids-specification PR
    1594; dcm2niix writes it for 2D acquisitions only, rordenlab/dcm2niix issue 294), so a sidecar without
    MRAcquisitionType (dcm2niix of 2017, OpenNeuro ds001419's DWI) still states its count by its slice times; a
    3D one, or a list that is not all numbers, states none."""
    times = d.get("SliceTiming")
    dimension = d.get("MRAcquisitionType", "2D")
    if dimension != "2D" or not isinstance(times, list) or not 1 <= len(times) <= 4096:
        return
    if all(_num(t) is not None for t in times):
        where = key("SliceTiming").split("=", 1)[0]  # "file SliceTiming", without the list itself
        acq.set("slices", len(times), f"{where}: {len(times)} slice times")


def _partial_fourier(d: dict[str, Any], acq: Acquisition, key) -> None:
    """PartialFourier as the fraction of k-space sampled, where the sidecar states one.

    dcm2niix maps Siemens' ucPhasePartialFourier (CSA) to 0.5 … 0.875. For Philips and GE, versions of 2018-2019
    wrote EchoTrainLength / phase-encoding steps under the same key (the spine-generic single-subject sidecars:
    sub-juntendoAchieva 3/320 = 0.009375, sub-juntendo750w 3/448 = 0.00669643, sub-glen DWI 47/63 = 0.746032):
    no header of theirs states a fraction (Philips DICOM says partial Fourier on or off only, rordenlab/dcm2niix
    issue 377). That ratio is not read as partial Fourier (the key means something else there: no warning, nothing
    is unreadable); any other value outside one half to one is absent with a warning.
    """
    value = _num(d.get("PartialFourier"))
    stated = d.get("PartialFourier")
    if value is None and isinstance(stated, str) and re.fullmatch(r"\s*[1-9]/(8|16)\s*", stated):
        value = int(stated.strip()[0]) / int(stated.strip()[2:])  # "6/8": as the Siemens console states it
    if value is None:
        return
    if manufacturer(str(d.get("Manufacturer") or "")) != "siemens":
        train = _num(d.get("EchoTrainLength"))
        lines = [_num(d.get(k)) for k in ("PhaseEncodingSteps", "AcquisitionMatrixPE")]
        if train and any(n and abs(train / n - value) < 1e-5 for n in lines):
            return
    if not 0.5 <= value <= 1.0:
        acq.warn(f"partial_fourier: PartialFourier={value:g} is not a fraction of k-space (0.5 to 1)")
        return
    acq.set("partial_fourier", value, key("PartialFourier"))


def _count(value: Any) -> int | None:
    number = _num(value)
    return int(number) if number is not None and number.is_integer() and 0 < number <= 65536 else None


def _matrix(d: dict[str, Any], acq: Acquisition, key) -> None:
    """The acquired matrix (read × phase) and, for Siemens, its base and phase resolution.

    dcm2niix's AcquisitionMatrixPE is the phase entry of the DICOM AcquisitionMatrix; the read entry is
    BaseResolution (Siemens, from the CSA protocol) or FrequencyEncodingSteps (Philips and Canon enhanced
    DICOM, MR FOV/Geometry). The sidecars beside the DICOM fixtures read to the DICOM reader's matrix. Without a
    read entry (GE, older Philips sidecars) the matrix is absent: half of it is no matrix.
    """
    phase = _count(d.get("AcquisitionMatrixPE"))
    for read_key in ("BaseResolution", "FrequencyEncodingSteps"):
        read = _count(d.get(read_key))
        if read and phase:
            acq.set(
                "matrix",
                [read, phase],
                f"{key(read_key)}, AcquisitionMatrixPE={phase} (acquisition matrix read × phase)",
            )
            break
    base = _count(d.get("BaseResolution"))
    if base:
        acq.set("base_resolution", base, key("BaseResolution"))
        resolution = _num(d.get("PhaseResolution"))
        if resolution is not None and 0 < resolution <= 4:
            acq.set("phase_resolution_pct", round(100 * resolution, 4), key("PhaseResolution"))
    if d.get("Interpolation2D") in (1, True):  # dcm2niix writes it only when the protocol interpolates
        acq.set("interpolation", True, key("Interpolation2D"))


# BIDS states times in seconds. No MRI repetition or inversion time reaches 100 s, and no echo time 1 s: a value
# past these is a time written in milliseconds ("EchoTime": 30 for 30 ms), absent with a warning, not read as
# 30 s (30000 ms) and never silently divided.
_SECONDS_AT_MOST = {
    "RepetitionTime": 100.0,
    "InversionTime": 100.0,
    "EchoTime": 1.0,
    "EchoTime1": 1.0,
    "EchoTime2": 1.0,
}


_SECONDS_PARAM = {"RepetitionTime": "repetition_time_ms", "InversionTime": "inversion_time_ms"}


def _in_seconds(k: str, value: float, acq: Acquisition) -> bool:
    limit = _SECONDS_AT_MOST.get(k)
    if limit is None or value <= limit:
        return True
    param = _SECONDS_PARAM.get(k, "echo_time_ms")  # the warning names what is left absent, as every reader's does
    acq.warn(f"{param}: {k}={value:g} is no time in seconds (BIDS states seconds; above {limit:g} s it was in ms?)")
    return False


def _echo_time_list(d: dict[str, Any], acq: Acquisition, key) -> None:
    """EchoTime as a list (converters other than dcm2niix write one sidecar for all echoes of a multi-echo
    series): every echo, the first as the echo time."""
    times = d.get("EchoTime")
    if not isinstance(times, list) or not 1 <= len(times) <= 64:
        return
    numbers = [_num(t) for t in times]
    if all(t is not None and t > 0 for t in numbers) and all(_in_seconds("EchoTime", t, acq) for t in numbers):
        acq.set("echo_time_ms", units.to_unit(numbers[0], "s", "ms"), key("EchoTime") + " s (first echo)")
        acq.set("echo_times_ms", [units.to_unit(t, "s", "ms") for t in numbers], key("EchoTime") + " s")


def _echo_times(d: dict[str, Any], acq: Acquisition, key) -> None:
    """Both echoes of a dual-echo field map: dcm2niix states EchoTime1 and EchoTime2 (seconds) in its sidecars."""
    first, second = _num(d.get("EchoTime1")), _num(d.get("EchoTime2"))
    if first is not None and second is not None and 0 < first < second and _in_seconds("EchoTime2", second, acq):
        acq.set(
            "echo_times_ms",
            [units.to_unit(first, "s", "ms"), units.to_unit(second, "s", "ms")],
            f"{key('EchoTime1')}, EchoTime2={d['EchoTime2']} s",
        )


def _context(path: Path, d: dict[str, Any]) -> dict[str, str]:
    """The BIDS subject/session of the sidecar (from its path) and the region evidence it states."""
    from ..exams import digest

    out = {"source": str(path)}
    parts = path.parts
    for i, part in enumerate(parts[:-1]):
        if part.startswith("sub-") and "subject" not in out:
            # A dataset's `sourcedata/` holds the same subjects' sessions before conversion or curation (BIDS
            # specification, "Source vs. raw vs. derived data"): ds004215 keeps there the FLAIRs, T2* and DWI of
            # the sessions whose T1w and T2w are raw. One dataset, one session, one exam.
            root = parts[: i - 1] if i and parts[i - 1] == "sourcedata" else parts[:i]
            out["subject"], out["dataset"] = part, str(Path(*root)) if root else ""
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
    # dcm2niix writes the DICOM Body Part Examined (0018,0015) as "BodyPartExamined" up to 2023 and as "BodyPart"
    # since (the fixtures' Ingenia and XA30 sidecars of v1.0.20240327 and later): either is the same statement.
    keys = (("BodyPartExamined", "body_part"), ("BodyPart", "body_part"), ("ReceiveCoilName", "coil"))
    for k, key in (*keys, ("ProtocolName", "protocol_name")):
        if isinstance(d.get(k), str) and d[k] and key not in out:
            out[key] = d[k]
    number = d.get("EchoNumber")  # dcm2niix: the echo of a multi-echo acquisition this file holds (echo-<n>)
    if isinstance(number, int) and not isinstance(number, bool) and 1 <= number <= 64:
        out["echo_numbers"], out["echo_numbers_from"] = str(number), "the sidecars' EchoNumber"
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
    # Beside the sidecar, by name: "diff_1.5mm_AP.json" → "diff_1.5mm_AP.bval" (Path.with_suffix would take
    # ".5mm_AP" for the suffix and look for "diff_1.bval": a dot in a series name cost its b-values).
    stem = path.name[: -len(".json")] if path.name.endswith(".json") else path.stem
    bval, bvec = path.with_name(stem + ".bval"), path.with_name(stem + ".bvec")
    if not bval.is_file():
        return
    try:
        values = [float(x) for x in bval.read_text(encoding="ascii").split()]
    except (ValueError, UnicodeDecodeError):
        warnings.append(f"{bval}: not a list of numbers; b-values left absent")
        return
    if not values:
        return
    if not all(math.isfinite(v) for v in values):
        warnings.append(f"{bval}: holds a value that is not a finite number; b-values left absent")
        return
    shells = nominal_shells(values)
    how = bval.name
    if len(shells) < len({round(v) for v in values}):
        how += " (volumes grouped into shells: bshells.py)"
    acq.set("b_values", shells, how)
    top = max(values)
    if top > 0:  # class evidence for matching where no .bvec counts directions (matching-evidence.yaml)
        acq.context["diffusion_weighted_volumes"] = str(sum(1 for b in values if b > 0.5 * top))
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
        if not all(math.isfinite(x) for r in rows for x in r):
            warnings.append(f"{bvec}: holds a value that is not a finite number; directions left absent")
            return
        if len(rows) == 3 and all(len(r) == len(values) for r in rows):
            top = max(values)
            vectors = [(rows[0][i], rows[1][i], rows[2][i]) for i, b in enumerate(values) if b > 0.5 * top]
            acq.set("diffusion_directions", count_directions(vectors), f"{bvec.name}: distinct directions at b≈{top:g}")


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
