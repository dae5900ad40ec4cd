"""Philips scan protocols stored inside DICOM: read when a dummy run carries them, then set beside its images.

A Philips console stores, with each series, a private DICOM object (Private MR Series Data Storage
1.3.46.670589.11.0.0.12.2, the "XX_" files; or Raw Data Storage 1.2.840.10008.5.1.4.1.1.66 beside an enhanced
image) holding the scan's own parameter tables, and may store a whole ExamCard (Private MR Examcard Storage
1.3.46.670589.11.0.0.12.4). The layout is the one GDCM documents in its reader (malaterre/GDCM,
Examples/Cxx/DumpExamCard.cxx): the private block "Philips MR Imaging DD 002" of group 2005 has a sequence
(2005,xx32) whose items name a table (2005,xx37: "PDF_EXAM_PARS", "PDF_CONTROL_SCAN_PARS", ... or
"ExamCardBlob"), its encoding (2005,xx39: "IEEE_PDF") and its bytes (2005,xx44). An IEEE_PDF table is the same
parameter table an ExamCard file holds per scan (32-byte header, 50-byte records), so PDF_EXAM_PARS, the EX_*
parameters, is read by the ExamCard reader's own decoder and mapping; an ExamCardBlob item is XML whose
<ExamCardBlob> element is the ExamCard's SOAP document in base64, read as an ExamCard file.

Siemens XA "PhoenixZIPReport" objects are not read: no public source documents where their protocol bytes are
(see the CHANGELOG and the issue note for what was searched).

The file is read whole under limit `read_bytes` (a gzip-wrapped one inflated under `inflate_bytes`), parsed in
memory by pydicom without its pixels. A data set in the Deflated Explicit VR Little Endian transfer syntax
(1.2.840.10008.1.2.1.99, PS3.5 A.5: the data set after the file meta group is one raw DEFLATE stream) is measured
in chunks against `inflate_bytes` before pydicom inflates it (pydicom inflates it whole, with no bound of its own).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import struct
import zlib
from pathlib import Path

from .. import limits, xmlsafe
from ..acquisition import Acquisition, Inspection, ReadError, scanner_from
from . import dicom_private, dicom_scan, philips_examcard

FORMAT = "philips-dicom-protocol"
CREATOR = dicom_private.PRIVATE["philips_protocol_tables"][1]  # "Philips MR Imaging DD 002"
SOP_CLASSES = (b"1.3.46.670589.11.0.0.12.2", b"1.3.46.670589.11.0.0.12.4", b"1.2.840.10008.5.1.4.1.1.66")
MARKERS = (b"PDF_EXAM_PARS", b"ExamCardBlob")
DEFLATED = dicom_scan.DEFLATED
GZIP_MAGIC = b"\x1f\x8b"
TABLES, NAME, ENCODING, DATA = (
    dicom_private.PRIVATE[f"philips_protocol_{part}"][2] for part in ("tables", "name", "encoding", "data")
)  # element offsets in the private block (dicom_private.PRIVATE)


def _bytes(path: Path) -> bytes:
    """The file's DICOM bytes, a .gz inflated (both bounded by limits)."""
    with path.open("rb") as handle:
        raw = limits.read_capped(handle, path)
    if raw[:2] != GZIP_MAGIC:
        return raw
    inflater = zlib.decompressobj(31)
    try:
        data = inflater.decompress(raw, limits.get("inflate_bytes"))
    except zlib.error:
        raise ReadError(f"{path}: a damaged gzip file") from None
    if inflater.unconsumed_tail:
        raise limits.refusal("inflate_bytes", path)
    return data


def _deflated_start(data: bytes) -> int | None:
    """Where the data set starts when the file meta group (explicit VR little endian, PS3.10 7.1) names the
    deflated transfer syntax; None for any other file (the meta group walked as the DICOM reader walks it)."""
    walked = dicom_scan.meta_group(data)
    if not isinstance(walked, tuple):
        return None
    at, syntax = walked
    return at if syntax == DEFLATED else None


def _searchable(data: bytes) -> bytes:
    """The bytes to look for the protocol markers in: a deflated data set inflated (at most `inflate_bytes`)."""
    start = _deflated_start(data)
    if start is None:
        return data
    try:
        return zlib.decompressobj(-15).decompress(data[start:], limits.get("inflate_bytes"))
    except zlib.error:
        return b""


def sniff(path: Path, head: bytes) -> bool:
    """A Philips private object that carries a protocol table or an ExamCard (not any private object)."""
    if head[:2] == GZIP_MAGIC:  # the file meta inflated from the head already read: no second open per file
        try:
            head = zlib.decompressobj(31).decompress(head, 1024)
        except zlib.error:
            return False
    if head[128:132] != b"DICM" or not any(uid in head for uid in SOP_CLASSES):
        return False
    try:
        data = _searchable(_bytes(path))
    except (OSError, ReadError):
        return False
    return any(marker in data for marker in MARKERS)


def takes(path, sop: str) -> bool:
    """For a file the DICOM scan already identified (its SOP class read): whether it is one this reader reads."""
    if sop.encode() not in SOP_CLASSES:
        return False
    try:
        data = _searchable(_bytes(Path(path)))
    except (OSError, ReadError):
        return False
    return any(marker in data for marker in MARKERS)


def read(path: Path) -> Inspection:
    import pydicom

    data = _bytes(path)
    start = _deflated_start(data)
    if start is not None:
        limits.inflated_size(data[start:], path)  # refused past limit `inflate_bytes`, before pydicom inflates it
    try:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
        found = dicom_private.element(ds, "philips_protocol_tables")
        if found is None:
            raise KeyError(CREATOR)
        tables = found.value
    except KeyError:
        raise ReadError(f"{path}: a Philips private object without the {CREATOR!r} tables") from None
    except Exception as exc:  # pydicom raises many types on damaged bytes
        raise ReadError(f"{path}: not a readable DICOM object ({type(exc).__name__})") from None
    inspection = Inspection(source=str(path), format=FORMAT)
    name = " ".join(str(ds.get("SeriesDescription") or ds.get("ProtocolName") or "unnamed").split())
    for item in tables if isinstance(tables, pydicom.Sequence) else []:
        try:
            named = dicom_private.element(item, "philips_protocol_name")
            held = dicom_private.element(item, "philips_protocol_data")
            kind = str(named.value).strip() if named is not None else ""
            blob = bytes(held.value or b"") if held is not None else b""
        except (KeyError, TypeError, ValueError):
            continue
        if kind == "PDF_EXAM_PARS":
            acq = _scan(name, blob, path, inspection.warnings)
            if acq is not None:
                inspection.acquisitions.append(acq)
        elif kind == "ExamCardBlob":
            card = _examcard(blob, path, inspection.warnings)
            if card is not None:
                inspection.acquisitions += card.acquisitions
                inspection.warnings += card.warnings
    if not inspection.acquisitions:
        why = f" ({inspection.warnings[0]})" if inspection.warnings else ""
        raise ReadError(f"{path}: a Philips private object without a readable protocol table{why}")
    for acq in inspection.acquisitions:
        acq.context["source"] = str(path)
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def _scan(name: str, blob: bytes, path: Path, warnings: list[str]) -> Acquisition | None:
    """One series' protocol from its PDF_EXAM_PARS table, mapped as the ExamCard's scan is."""
    try:
        values, fell_back = philips_examcard.decode_table(blob)
    except (ValueError, struct.error, limits.LimitError) as exc:
        warnings.append(f"{name!r}: PDF_EXAM_PARS unreadable ({exc}); skipped")
        return None
    if fell_back:
        warnings.append(f"{name!r}: {len(fell_back)} enum(s) without labels, labelled from an R5 card's lists")
    acq = Acquisition(name)
    with acq.reading("PDF_EXAM_PARS"):
        acq = philips_examcard.acquisition(name, values, None, f"{path.name} PDF_EXAM_PARS")
    return acq


def _examcard(blob: bytes, path: Path, warnings: list[str]) -> Inspection | None:
    """The ExamCard an ExamCardBlob item carries: XML whose <ExamCardBlob> is the card's SOAP XML in base64."""
    text = blob.split(b"\0", 1)[0]
    try:
        root = xmlsafe.parse(text, f"{path} ExamCardBlob", huge=True)
        [encoded] = [e.text or "" for e in root.iter() if isinstance(e.tag, str) and _local(e.tag) == "ExamCardBlob"]
        card = base64.b64decode(re.sub(r"\s+", "", encoded), validate=True)
    except (ReadError, ValueError, binascii.Error) as exc:
        warnings.append(f"ExamCardBlob unreadable ({type(exc).__name__}); skipped")
        return None
    try:
        return philips_examcard.read_card(card, f"{path} ExamCardBlob", f"{path.name} ExamCardBlob")
    except ReadError as exc:
        warnings.append(f"ExamCardBlob: {exc}")
        return None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# What a dummy run's embedded protocol and its images both state, compared: the images are what was acquired.
COMPARED = (
    "repetition_time_ms", "echo_time_ms", "inversion_time_ms", "flip_angle_deg", "slice_thickness_mm",
    "slice_gap_mm", "slices", "fov_mm", "matrix", "parallel_factor", "echo_train_length", "b_values",
    "diffusion_directions", "acquisition_type", "orientation",
)  # fmt: skip
RELATIVE, ABSOLUTE = 0.005, 0.01  # a value the DICOM stores rounded (DS strings, float32) still agrees


def _agree(a, b) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_agree(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return abs(a - b) <= max(ABSOLUTE, RELATIVE * max(abs(a), abs(b)))
    return a == b


def compare_with_images(inspections: list[Inspection]) -> None:
    """Where a folder holds embedded protocols and the image series they ran, say what they disagree on.

    A protocol is set beside the image series of the same name (the private object carries its series'
    description). The images are what was acquired and what a check judges: the lines (one heading with the
    counts, one per disagreement) go to the images' Inspection, and a protocol whose series is there is not kept
    as a second acquisition (inspect the private object by name to see it alone).
    """
    protocols = [i for i in inspections if i.format == FORMAT]
    dicoms = [i for i in inspections if i.format == "dicom"]
    if not protocols or not dicoms:
        return
    images: dict[str, list[Acquisition]] = {}
    for acq in (a for i in dicoms for a in i.acquisitions):
        images.setdefault(str(acq.params.get("series_description", acq.name)), []).append(acq)
    lines, compared, scans = [], 0, 0
    for inspection in protocols:
        kept = []
        for acq in inspection.acquisitions:
            matched = images.get(acq.name, [])  # the images' SeriesDescription is the scan's name
            if not matched:
                kept.append(acq)
            for series in matched:
                scans += 1
                for param in COMPARED:
                    ours, theirs = acq.params.get(param), series.params.get(param)
                    if ours is None or theirs is None:
                        continue
                    compared += 1
                    if not _agree(ours, theirs):
                        lines.append(
                            f"embedded protocol vs images, {series.name}: {param} protocol {ours!r}, images {theirs!r}"
                        )
        inspection.acquisitions[:] = kept
        if not kept:  # every scan it carries is beside its images: its notes go with them
            dicoms[0].warnings += [w for w in inspection.warnings if w not in dicoms[0].warnings]
            inspections.remove(inspection)
    if scans:
        dicoms[0].warnings.append(
            f"embedded protocol vs images: {scans} series, {compared} value(s) compared, {len(lines)} disagree"
        )
        dicoms[0].warnings += lines
