"""Philips .ExamCard: .NET SOAP XML; each scan's `parameterData` is a base64 binary table of EX_*/IF_* values.

Table (little-endian): a 32-byte header of eight int32 (the eighth is the number of parameters), then one
50-byte record per parameter: name (34 bytes, NUL-padded), int32 type (0 float32, 1 int32, 2 strings in 81-byte
slots, 4 enum), int32 count, int32 enum-description offset and int32 value offset, each relative to its own
field. Actual TR/TE often live only in info strings (IF_act_rep_time_echo_time "7.8 / 3.5") when the
parameter itself says "shortest". Cards from R11 drop the enum label lists: labels then come from
protocol_spec/vendors/enums/philips.yaml (learned from an R5 card), and the reader says so.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from functools import cache
from pathlib import Path
from typing import Any

from .. import limits, xmlsafe
from ..acquisition import Acquisition, Inspection, ReadError, scanner_from
from ..families import set_family
from ..resources import spec_dir
from ..yamlload import load_yaml

FORMAT = "philips-examcard"
RECORD = 50
HEADER = 32


def sniff(path: Path, head: bytes) -> bool:
    return b"SOAP-ENV:Envelope" in head and b"ExamCard" in head


@cache
def fallback_enums() -> dict[str, list[str]]:
    return {k: list(v) for k, v in load_yaml(spec_dir() / "vendors" / "enums" / "philips.yaml")["enums"].items()}


def decode_table(blob: bytes) -> tuple[dict[str, Any], set[str]]:
    """{name: value} (scalars unwrapped, enums as labels) and the names whose labels came from the fallback."""
    if len(blob) < HEADER:
        raise ValueError("parameter table shorter than its header")
    count = struct.unpack_from("<8i", blob)[7]
    if not 0 <= count <= (len(blob) - HEADER) // RECORD:
        raise ValueError(f"parameter table claims {count} records")
    values: dict[str, Any] = {}
    fell_back: set[str] = set()
    # Every record may point at the same values: the items decoded across the table, not the table's bytes,
    # bound the work (a 576 KB card of 11,000 records x 4096 values each would be 1.3 GB of Python objects).
    budget = limits.get("loop_count")
    for i in range(count):
        at = HEADER + RECORD * i
        name = blob[at : at + 34].split(b"\0", 1)[0].decode("ascii", "replace")
        kind, n, enum_offset, value_offset = struct.unpack_from("<4i", blob, at + 34)
        start = at + 46 + value_offset
        if n < 0 or n > 4096 or start < 0:
            continue
        budget -= n
        if budget < 0:
            raise limits.refusal("loop_count", "ExamCard parameter table (values decoded)")
        if kind in (0, 1, 4):
            end = start + 4 * n
            if end > len(blob):
                continue
            items = list(struct.unpack_from(f"<{n}{'f' if kind == 0 else 'i'}", blob, start))
            labels = _enum_labels(blob, at + 42 + enum_offset) if kind == 4 and enum_offset else []
            if not labels and kind in (1, 4) and name in fallback_enums():
                # An enum stated by its index alone: an enum record without its label list, or (R11) a plain
                # int32 record. The index means what the R5 card's label list says it means.
                labels, _ = fallback_enums()[name], fell_back.add(name)
            if labels:
                items = [labels[v] if 0 <= v < len(labels) else v for v in items]
        elif kind == 2:
            items = [blob[start + 81 * k : start + 81 * (k + 1)].split(b"\0", 1)[0].decode("latin-1") for k in range(n)]
        else:
            continue
        values[name] = items[0] if n == 1 else items
    return values, fell_back


def _enum_labels(blob: bytes, start: int) -> list[str]:
    if not 0 <= start < len(blob):
        return []
    text = blob[start : start + 2048].split(b"\0", 1)[0].decode("latin-1")
    return [label.strip() for label in text.split(",")] if text else []


def read(path: Path) -> Inspection:
    return read_card(limits.read_file(path), str(path), path.name)


def read_card(data: bytes, source: str, where: str) -> Inspection:
    """An ExamCard's SOAP XML (a file's bytes, or a card stored inside DICOM) read scan by scan."""
    # base64 tables make long text nodes; a card cut short keeps the scans whose tables are whole
    root, broken = xmlsafe.parse_salvaged(data, source, huge=True)
    ids = {e.get("id"): e for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    contrast, order = _steps(root, ids)
    inspection = Inspection(source=source, format=FORMAT)
    if broken:
        inspection.warnings.append(f"{source}: not a complete Philips ExamCard ({broken}); the scans it holds read")
    fell_back_any: set[str] = set()
    procedures = [e for e in root.iter() if _local(e) == "ScanProcedure"]
    procedures.sort(key=lambda e: order.get(e.get("id"), len(order)))  # the ExamCard's execution order
    card = next((e for e in root.iter() if _local(e) == "ExamCard"), None)
    card_name = _text(card, "name")
    card_anatomy = _text(card, "anatomy")
    card_region = _text(card, "anatomicRegion")  # "SRT.T-D9200.Knee": coding scheme, code, meaning
    for procedure in procedures:
        name = (_resolved(procedure.find("name"), ids).text or "unnamed").strip() or "unnamed"
        data = procedure.find("parameterData")
        target = _resolved(data, ids) if data is not None else None
        if target is None or not (target.text or "").strip():
            inspection.warnings.append(f"scan {name!r}: no parameter table; skipped")
            continue
        try:
            values, fell_back = decode_table(base64.b64decode(target.text, validate=False))
        except (binascii.Error, ValueError, struct.error, limits.LimitError) as exc:
            inspection.warnings.append(f"scan {name!r}: parameter table unreadable ({exc}); skipped")
            continue
        fell_back_any |= fell_back
        acq = Acquisition(name)
        with acq.reading("ExamCard parameters"):  # one odd value leaves the scan's other values read
            acq = acquisition(name, values, contrast.get(procedure.get("id")), where)
        acq.context["source"] = source
        # Region evidence for the exam model: the ExamCard's own name and the anatomy it is filed under
        # (Philips files ExamCards by anatomy: Brain, Spine, Knee…); a scan's own anatomy, when set, wins.
        if card_name:
            acq.context["program"] = card_name
        anatomy = _text(procedure, "anatomy") or card_anatomy
        if anatomy:
            acq.context["exam_anatomy"] = anatomy
        region = _text(procedure, "anatomicRegion") or card_region
        if region:
            acq.context["exam_region"] = region
        coils = values.get("EX_GEO_compacted_coils")
        if isinstance(coils, list) and any(coils):
            acq.context["coil"] = " ".join(c for c in coils if c)
        inspection.acquisitions.append(acq)
    if fell_back_any:
        inspection.warnings.append(
            f"enum labels missing from this ExamCard (R11?): {len(fell_back_any)} parameter(s) labelled from "
            "protocol_spec/vendors/enums/philips.yaml, learned from an R5 card"
        )
    if broken and not inspection.acquisitions:
        raise ReadError(f"{source}: not a complete Philips ExamCard ({broken}): no scan could be read")
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


class _Empty:
    text = None


def _local(element) -> str | None:
    """An element's local name; None for comments and the like. By hand, not etree.QName: a card cut short can
    leave a prefixed tag whose namespace declaration was lost ("a2:OutputDescriptorData"), which QName refuses."""
    tag = element.tag
    if not isinstance(tag, str):
        return None
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


def _resolved(element, ids):
    """The element a SOAP field stands for: itself, or the element its href names. .NET's SoapFormatter writes an
    object once and refers to it again by href: a second scan named like an earlier one gets
    `<name href="#ref-162"/>` (the R5.3 fixture card's methodDescription points at an empty geometryName that
    way), and a byte array its own `<SOAP-ENC:base64 id=...>`."""
    if element is None:
        return _Empty
    href = element.get("href") or ""
    if href.startswith("#"):
        target = ids.get(href[1:])
        return target if target is not None else _Empty
    return element


def _text(element, child: str) -> str | None:
    """The stripped text of `element`'s direct child named `child` (any namespace), or None."""
    if element is None:
        return None
    for e in element:
        if _local(e) == child and (e.text or "").strip():
            return e.text.strip()
    return None


def _steps(root, ids) -> tuple[dict[str, bool], dict[str, int]]:
    """ScanProcedure id -> its ExecutionStep's contrast flag, and -> its position among the execution steps
    (ExecutionStep -> SingleScan -> ScanProcedure)."""
    contrast, order = {}, {}
    for step in (e for e in root.iter() if _local(e) == "ExecutionStep"):
        link = step.find("singleScan")
        scan = ids.get((link.get("href") or "")[1:]) if link is not None else None
        if scan is None or scan.find("scanProcedure") is None:
            continue
        procedure = (scan.find("scanProcedure").get("href") or "")[1:]
        order.setdefault(procedure, len(order))
        flag = step.findtext("contrast")
        if flag in ("true", "false"):
            contrast[procedure] = flag == "true"
    return contrast, order


def _numbers(text: Any) -> list[float]:
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", str(text))]


def _parallel_mode(v: dict, acq: Acquisition, src) -> None:
    """SENSE on (EX_GEO_sense_enable YES, printed "SENSE yes") is parallel_mode sense, off is none; a scan with
    compressed SENSE on (EX_ACQ_cs_enable, printed "CS-SENSE": vendor-terminology.md) has no canonical mode."""
    if str(v.get("EX_ACQ_cs_enable") or "NO").upper() != "NO":
        return
    if v.get("EX_GEO_sense_enable") == "YES":
        acq.set("parallel_mode", "sense", src("EX_GEO_sense_enable"))
    elif v.get("EX_GEO_sense_enable") == "NO":
        acq.set("parallel_mode", "none", src("EX_GEO_sense_enable"))


def _first_stack(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else (None if isinstance(value, list) else value)


def _echo_times(v: dict[str, Any], acq: Acquisition, src) -> None:
    """Every echo of a multi-echo FFE/TSE: Philips echoes are equidistant, TE1 + k × delta TE.

    The actual values come from IF_act_rep_time_echo_time ("600 / 7.2 / 6.5": TR / TE1 / delta TE, as the
    printout's "Act. TR/TE1/delta TE" says), else from EX_ACQ_first_echo_time and EX_ACQ_echo_time_step.
    """
    echoes = v.get("EX_ACQ_echoes")
    if not isinstance(echoes, int) or not 1 <= echoes <= 64:
        return
    first = acq.get("echo_time_ms")
    if echoes == 1:
        if first is not None:
            acq.set("echo_times_ms", [first], src("EX_ACQ_echoes") + " (one echo: TE)")
        return
    actual = _numbers(v.get("IF_act_rep_time_echo_time", ""))
    if len(actual) == 3:
        te1, step, how = actual[1], actual[2], src("IF_act_rep_time_echo_time") + " (TR / TE1 / delta TE)"
    elif isinstance(v.get("EX_ACQ_first_echo_time"), float) and isinstance(v.get("EX_ACQ_echo_time_step"), float):
        te1, step = v["EX_ACQ_first_echo_time"], v["EX_ACQ_echo_time_step"]
        how = src("EX_ACQ_echo_time_step") + " with EX_ACQ_first_echo_time"
    else:
        return
    acq.set("echo_times_ms", [round(te1 + k * step, 3) for k in range(echoes)], f"{how}, EX_ACQ_echoes={echoes}")


def _half_scan(v: dict[str, Any], acq: Acquisition, src) -> None:
    """Philips half scan (the fraction of phase-encoding profiles acquired) as the partial Fourier fraction.

    The console's actual factor (IF_act_half_scan_factor, printed "Act. half scan factor") wins: a 3D VISTA with
    Halfscan "default" applies one; else Halfscan YES with its factor; Halfscan NO acquires all of k-space.
    """
    actual, mode, factor = (
        v.get("IF_act_half_scan_factor"),
        v.get("EX_ACQ_partial_matrix"),
        v.get("EX_ACQ_partial_matrix_factor"),
    )
    if isinstance(actual, float) and 0 < actual <= 1:
        acq.set("partial_fourier", round(actual, 4), src("IF_act_half_scan_factor"))
    elif mode == "YES" and isinstance(factor, float) and 0 < factor <= 1:
        acq.set("partial_fourier", round(factor, 4), src("EX_ACQ_partial_matrix_factor") + " (Halfscan yes)")
    elif mode == "NO":
        acq.set("partial_fourier", 1.0, src("EX_ACQ_partial_matrix") + " (Halfscan no)")


# "BW in EPI freq. dir. (Hz)" on the printout's info page: an EPI's readout bandwidth per pixel (R5.3 DWI 1505.5;
# Philips' DICOM PixelBandwidth of an EPI is this one: the dcm_qa Biobank DTI states 2502 Hz/px beside a water-fat
# shift of 13.96 px, which would give 31 Hz/px).
READOUT_BW_EPI = "IF_bw_per_pix_EPI_read_out"
WFS_BW = "IF_wf_shift_bw_per_pix_echo1"


def _bandwidth(v: dict[str, Any], acq: Acquisition, src, epi: bool) -> None:
    """Pixel bandwidth (the readout's Hz per pixel, as Siemens, GE and DICOM state it).

    Philips states a water-fat shift and the bandwidth it implies ("WFS (pix) / BW (Hz) 2.268 / 191.5"). That shift
    is along the readout, except in an EPI, whose fat shifts along the phase-encoding direction: there the pair's
    BW is the phase direction's (R5.3 DWI "23.594 / 18.4"), and the readout's is printed on its own ("BW in EPI
    freq. dir. (Hz) 1505.5"). An EPI without that row has no readout bandwidth the card tells: absent, warned.
    """
    shift = _numbers(v.get(WFS_BW, ""))
    if epi:
        readout = _numbers(v.get(READOUT_BW_EPI, ""))
        if readout:
            acq.set("pixel_bandwidth_hz", readout[0], src(READOUT_BW_EPI) + " (BW in EPI freq. dir., Hz per pixel)")
        elif len(shift) == 2:
            acq.warn(
                f"pixel_bandwidth_hz from {WFS_BW}={v[WFS_BW]!r}: an EPI's water-fat shift is along the phase "
                f"direction, not the readout's, and {READOUT_BW_EPI} is absent"
            )
    elif len(shift) == 2:
        acq.set("pixel_bandwidth_hz", shift[1], src(WFS_BW) + " (WFS px / BW Hz)")


# The named directional resolutions and their direction counts (dcm2niix's Philips notes, rordenlab/dcm2niix
# Philips/README.md: "Low which acquires 6 directions ..., Medium (15 directions), High (32 directions)").
NAMED_DIRECTIONS = {"LOW": 6, "MEDIUM": 15, "HIGH": 32}
ORIENTATION = {"TRANSVERSAL": "axial", "SAGITTAL": "sagittal", "CORONAL": "coronal"}
FAT = {"NO": "none", "SPIR": "spir", "SPAIR": "spair", "PROSET": "water_excitation"}


def acquisition(name: str, v: dict[str, Any], contrast: bool | None, where: str) -> Acquisition:
    acq = Acquisition(name)

    def src(key: str) -> str:
        return f"{where} scan {name!r} {key}={v[key]!r}"

    acq.set("manufacturer", "philips", f"{where} (Philips ExamCard)")
    acq.set("series_description", name, f"{where} ScanProcedure name")
    mode = v.get("EX_ACQ_scan_mode")
    if mode in ("3D", "2D", "MS", "M2D"):
        acq.set("acquisition_type", "3D" if mode == "3D" else "2D", src("EX_ACQ_scan_mode"))
    actual = _numbers(v.get("IF_act_rep_time_echo_time", ""))
    if actual:
        acq.set("repetition_time_ms", actual[0], src("IF_act_rep_time_echo_time") + " (actual)")
    if len(actual) > 1:
        acq.set("echo_time_ms", actual[1], src("IF_act_rep_time_echo_time") + " (actual)")
    elif isinstance(v.get("EX_ACQ_first_echo_time"), float):
        acq.set("echo_time_ms", round(v["EX_ACQ_first_echo_time"], 3), src("EX_ACQ_first_echo_time"))
    if v.get("EX_TFEPP_prepulses") == "INV" and isinstance(v.get("EX_TFEPP_pre_T1_delay"), float):
        acq.set("inversion_time_ms", v["EX_TFEPP_pre_T1_delay"], src("EX_TFEPP_pre_T1_delay") + " (TFE prepulse INV)")
    elif v.get("EX_ACQ_imaging_sequence") == "IR" and isinstance(v.get("EX_IR_delay"), float):
        acq.set("inversion_time_ms", v["EX_IR_delay"], src("EX_IR_delay"))
    for key, param in (
        ("EX_ACQ_flip_angle", "flip_angle_deg"),
        ("EX_GEO_slice_thickness", "slice_thickness_mm"),
        ("EX_ACQ_measurements", "averages"),
    ):
        if isinstance(v.get(key), int | float):
            acq.set(param, v[key], src(key))
    voxel = _numbers(v.get("IF_meas_voxel_size", ""))
    if len(voxel) == 3:
        acq.set("voxel_size_mm", voxel, src("IF_meas_voxel_size") + " (acquired)")
    if isinstance(v.get("EX_GEO_fov"), float) and isinstance(v.get("EX_GEO_fov_p"), float):
        acq.set("fov_mm", [v["EX_GEO_fov"], v["EX_GEO_fov_p"]], f"{where} scan {name!r} EX_GEO_fov/EX_GEO_fov_p")
    matrix = _numbers(v.get("IF_meas_matrix_size", ""))
    if len(matrix) == 2:
        acq.set("matrix", matrix, src("IF_meas_matrix_size"))
    # Stack arrays hold one entry per stack (20 slots on R5 cards); a card with one slot gives a scalar, and R11
    # cards may store counts as floats: the first stack's value either way.
    stacks = _first_stack(v.get("EX_GEO_stacks_slices"))
    if isinstance(stacks, int | float) and stacks >= 1 and float(stacks).is_integer():
        acq.set("slices", int(stacks), f"{where} scan {name!r} EX_GEO_stacks_slices[0]={stacks:g}")
    gaps = _first_stack(v.get("EX_GEO_stacks_slice_gaps"))
    if mode in ("MS", "M2D", "2D") and isinstance(gaps, int | float):
        acq.set("slice_gap_mm", gaps, f"{where} scan {name!r} EX_GEO_stacks_slice_gaps[0]={gaps:g}")
    first = _first_stack(v.get("EX_GEO_stacks_orientations"))
    if first in ORIENTATION:
        acq.set("orientation", ORIENTATION[first], f"{where} scan {name!r} EX_GEO_stacks_orientations[0]={first}")
    _parallel_mode(v, acq, src)
    if v.get("EX_GEO_sense_enable") == "NO":
        acq.set("parallel_factor", 1.0, src("EX_GEO_sense_enable") + " (SENSE off)")
    elif v.get("EX_GEO_sense_enable") == "YES" and isinstance(v.get("EX_GEO_sense_p_red_factor"), float):
        acq.set("parallel_factor", v["EX_GEO_sense_p_red_factor"], src("EX_GEO_sense_p_red_factor"))
    if (
        v.get("EX_GEO_sense_enable") == "YES"
        and v.get("EX_ACQ_scan_mode") == "3D"
        and isinstance(v.get("EX_GEO_sense_s_red_factor"), float)
    ):  # the slice-direction SENSE of a 3D scan (printed "S reduction (RL) 1.5")
        acq.set("parallel_factor_slice", v["EX_GEO_sense_s_red_factor"], src("EX_GEO_sense_s_red_factor"))
    fast = v.get("EX_ACQ_fast_imaging_mode")
    factor_key = {"TFE": "EX_TFE_factor", "TSE": "EX_RFE_tse_factor", "EPI": "IF_epi_factor"}.get(str(fast))
    if factor_key and _numbers(v.get(factor_key, "")):
        acq.set("echo_train_length", _numbers(v[factor_key])[0], src(factor_key))
    _bandwidth(v, acq, src, epi=fast == "EPI" or READOUT_BW_EPI in v)
    if v.get("EX_SPIR_fat_suppression") in FAT:
        acq.set("fat_suppression", FAT[v["EX_SPIR_fat_suppression"]], src("EX_SPIR_fat_suppression"))
    if isinstance(v.get("EX_ACQ_dixon"), str) and v["EX_ACQ_dixon"] not in ("", "NO"):
        # mDIXON is a separate switch (R5.3 ExamCard EX_ACQ_dixon "NO", printed "mDIXON no"): on, it is the fat
        # suppression, whatever the SPIR/SPAIR switch says
        acq.set("fat_suppression", "dixon", src("EX_ACQ_dixon"))
    mtc = v.get("EX_MTC_enable")
    if isinstance(mtc, str) and mtc:  # "NO", or the kind of MT pulse ("OFF_RES": the printout's "off resonance")
        acq.set("magnetization_transfer", mtc != "NO", src("EX_MTC_enable"))
    _half_scan(v, acq, src)
    _echo_times(v, acq, src)
    duration = re.fullmatch(r"\s*(?:(\d+):)?(\d+):(\d\d(?:\.\d+)?)\s*", str(v.get("IF_str_total_scan_time", "")))
    if duration:  # the INFO PAGE's "Total scan duration 05:34.1" ([h:]mm:ss.s)
        hours, minutes, seconds = duration.groups()
        total = int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds)
        acq.set("duration_s", round(total, 3), src("IF_str_total_scan_time"))
    if contrast is not None:
        acq.set("contrast_agent", contrast, f"{where} ExecutionStep contrast={str(contrast).lower()}")
    if v.get("EX_DIFF_enable") not in (None, "NO"):
        b = v.get("EX_DIFF_array_b")
        if isinstance(b, list):
            acq.set(
                "b_values",
                sorted({0.0 if x < 25 else float(round(x)) for x in b}),
                f"{where} scan {name!r} EX_DIFF_array_b",
            )
        resolution = str(v.get("EX_DIFF_directional_resolution", ""))
        scheme = re.match(r"OPT(\d+)$", resolution)
        if scheme:
            acq.set("diffusion_directions", int(scheme.group(1)), src("EX_DIFF_directional_resolution"))
        elif resolution in NAMED_DIRECTIONS:
            acq.set("diffusion_directions", NAMED_DIRECTIONS[resolution], src("EX_DIFF_directional_resolution"))
    set_family(
        acq,
        where,
        scanning_sequence={"SE": "SE", "IR": "SE\\IR", "FFE": "GR"}.get(str(v.get("EX_ACQ_imaging_sequence")), ""),
        sequence_name=f"{fast or ''} {'t1 tfe' if fast == 'TFE' and acq.get('inversion_time_ms') else ''}",
        description=name,
        diffusion=f"{src('EX_DIFF_enable')} = {v['EX_DIFF_enable']}"
        if v.get("EX_DIFF_enable") not in (None, "NO")
        else "",
    )
    return acq
