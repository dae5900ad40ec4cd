"""Vendor printouts read to the same values as the vendor's export of the same protocol: two vendor documents,
each the other's independent truth, compared value by value over every parameter both state.

Rounding the printout does is stated per parameter below; every other difference is listed with its reason.
"""

from __future__ import annotations

import functools
import math
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ofsep_presets.acquisition import Inspection, ReadError
from ofsep_presets.readers import inspect_path, printout
from ofsep_presets.readers.printout_layout import PdfCells

from .conftest import FIXTURES
from .support import print_xml

EXPORTS = FIXTURES / "vendor-exports"
SIEMENS = EXPORTS / "siemens"
PAIRS = {
    "siemens-VE11C": (
        SIEMENS / "Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1",
        SIEMENS / "Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.pdf",
    ),
    "siemens-XA61": (
        SIEMENS / "CimaX_XA61_ZOOMit/spine-generic_CimaX_XA61_ZOOMit.exar1",
        SIEMENS / "CimaX_XA61_ZOOMit/spine-generic_CimaX_XA61_ZOOMit.pdf",
    ),
    "siemens-VB17": (
        SIEMENS / "Trio_VB17/spine_generic_siemens-trio.edx",
        SIEMENS / "Trio_VB17/spine_generic_siemens-trio.pdf",
    ),
}
PHILIPS = EXPORTS / "philips"
PAIRS["philips-R53"] = (PHILIPS / "spine_generic_philips_R53.ExamCard", PHILIPS / "spine_generic_philips_R53.pdf")
GE = EXPORTS / "ge/GE_750_no-FOCUS"
PAIRS["ge-750-html"] = (GE / "protocol.tar", GE / "spine_generic_ge_750_no-FOCUS.html")
PAIRS["ge-750-pdf"] = (GE / "protocol.tar", GE / "spine_generic_ge_750_no-FOCUS.pdf")
MRAAT = FIXTURES / "references/mraat/ge_artist_and_premier_aat_example_protocols/SIGNA Artist/GE_ProtocolExchange"
MRAAT_REPORT = MRAAT / "adult_spine_Ultrafast3partwspine_20220326170523213_12"
# What the printouts round (absolute tolerance per parameter; all others must be equal to 1e-6):
ROUNDED = {
    # Siemens prints the bandwidth in whole Hz/Px, cut, not rounded (export 754.8 -> printed "754 Hz/Px").
    "pixel_bandwidth_hz": 1.0,
    # Siemens prints the phase FoV as a percentage with one decimal ("81.3 %" of 320 mm = 260.16, export 260);
    # the Philips ExamCard stores float32 sizes (236.8000030517578), the printout "236.8".
    "fov_mm": 0.2,
}
# Rounding one vendor's printout does (pair prefix, parameter) -> tolerance:
ROUNDED_BY_VENDOR = {
    # Philips prints "Act. TE (ms)" in whole ms for SE/EPI scans (DWI "70"; ExamCard EX_ACQ_first_echo_time 69.663).
    ("philips", "echo_time_ms"): 0.5,
    ("philips", "echo_times_ms"): 0.5,
    # The ExamCard's float32 slice thickness (0.800000011920929), the printout's "ACQ voxel size RL (mm) 0.8".
    ("philips", "slice_thickness_mm"): 1e-6 + 1e-7,
}
# Warnings a printout must give, by pair: a value printed as a word that tells no number.
EXPECTED_WARNINGS = {
    pair: ["T2w: partial_fourier from Phase partial Fourier='Allowed': a word, not a fraction; left absent"]
    for pair in ("siemens-VE11C", "siemens-VB17")
} | {"siemens-XA61": ["T2w: partial_fourier from Phase Partial Fourier='Allowed': a word, not a fraction; left absent"]}
# Not compared: what only the export's container states or what names rather than measures.
NOT_VALUES = {"manufacturer", "model", "software_version", "series_description", "sequence_family"}
# Differences on purpose: (pair, acquisition, parameter) -> why.
DIFFERENT_ON_PURPOSE = {
    ("siemens-VB17", "DWI_b0", "averages"): "VB17 prints Averages 4 for lAverages 1 with 3 repetitions (b0 volumes)",
    ("siemens-XA61", "Localizer", "slices"): "XA61 prints slice group 2 as a copy of group 1 (5 coronal), the "
    "export's group 2 has 3 sagittal slices: the printout cannot tell the second group",
    ("siemens-VB17", "T2w", "phase_resolution_pct"): "VB17 SPACE: the console prints 'Phase resolution 100 %' "
    "while the export holds sKSpace.dPhaseResolution 1.0125 (lPhaseEncodingLines 324): lines the sequence adds",
    ("siemens-VB17", "T2w", "matrix"): "the same: the printout's 100 % gives 320 phase lines, the export's 324",
}
# The GE report prints "Plane OBLIQUE" alone for the axial-oblique cord series; the LxProtocol beside it also
# holds their prescription (GRIP_SLGROUP1: slice normal within 7° of the z axis), from which the export reads the
# main plane, axial (as the Siemens and Philips exports of the same protocol state it).
for _pair in ("ge-750-html", "ge-750-pdf"):
    for _step in ("DWI", "GRE-MT1", "GRE-MT0", "GRE-T1w", "GRE-ME"):
        DIFFERENT_ON_PURPOSE[(_pair, _step, "orientation")] = (
            "the report prints OBLIQUE; the export's GRIP normal: axial"
        )
# Where the printout states a value the export reader still misreads (a defect of the export reader): listed here,
# such a value is kept out of the pair test, and must get a strict-xfail test of its own that fails as XPASS once
# the reader is fixed (the EPI factors of VB17, VE11C and XA61 went that way). Empty: no known misread is left.
EXPORT_MISREADS: set[tuple[str, str, str]] = set()
# (The VE11C MPRAGE's "Turbo factor 192" left this list when the .exar1 reader learnt that a pre-XA 3D tfl keeps a
# stale lTurboFactor, 16 there: the export now states no turbo factor, with a warning, rather than a wrong one;
# see test_ve11c_mprage_turbo_factor_raw_bytes.)
# Exports whose program order the reader cannot tell. (The .exar1 program's child list is not the exam order; its
# step links are, and the reader follows them: the VE11C and XA61 steps now come in their printouts' order.)
ORDER_UNKNOWN: set[str] = set()

# Values compared per pair (both documents state them): a reader that stops reading a row fails here.
MIN_COMPARED = {
    # + 2 × 8 steps since the exports' ASCCONV gives the PAT mode and the phase-encoding direction the printouts
    # state ("PAT mode GRAPPA", "Phase enc. dir. A >> P"): sPat.ucPATMode, and the phase vector of the slice
    # normal and in-plane rotation (ascconv.phase_vector).
    "siemens-VE11C": 194,
    "siemens-XA61": 200,
    "siemens-VB17": 206,
    # + 7: each scan's SENSE switch as parallel_mode (EX_GEO_sense_enable, printed "SENSE yes/no").
    "philips-R53": 143,
    # + 19: each series' MT switch and parallel-imaging method from its imaging options (IOPT / "Imaging Options":
    # MgT, ARC, Asset listed or not) and the DWI's fat saturation (SUPPTQ "1" / "Fat/Water Saturation Fat").
    "ge-750-html": 117,
    "ge-750-pdf": 117,
}

needs_fixtures = pytest.mark.skipif(not EXPORTS.exists(), reason="../shared/fixtures not present")


@functools.cache
def read_one(path) -> Inspection:
    """Each fixture read once per test session (a printout PDF takes seconds to lay out: its cells are laid out
    once, `printed_cells`, and `inspect` reads them as it reads any PDF)."""
    if path.suffix != ".pdf":
        [inspection] = inspect_path(path)
        return inspection

    def cached(where, warnings=None, first_pages=None):
        cells = list(printed_cells(where))  # the fixtures are whole PDFs: not cut
        return PdfCells(cells if first_pages is None else [c for c in cells if c.page <= first_pages])

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(printout, "pdf_cells", cached)
        [inspection] = inspect_path(path)
    return inspection


@functools.cache
def printed_cells(path) -> tuple:
    """A printout PDF's cells, laid out once per session (reading the printout again reuses them)."""
    from ofsep_presets.readers.printout_layout import pdf_cells

    return tuple(pdf_cells(path))


@functools.cache
def read_printout_as_printed(path) -> Inspection:
    """The printout reader's own result, before `inspect` derives anything (the header voxel as printed)."""
    from ofsep_presets.readers import siemens_printout

    return siemens_printout.read_cells(list(printed_cells(path)), str(path), "siemens-printout", path.name)


def _same(a, b, tolerance: float) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y, tolerance) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, abs_tol=tolerance or 1e-6)
    return a == b


def compare(pair: str, export: Inspection, printed: Inspection) -> tuple[int, list[str], list[tuple]]:
    """(values compared, disagreements, export misreads seen) over every parameter both documents state."""
    by_name = {a.name: a for a in printed.acquisitions}
    compared, wrong, misreads = 0, [], []
    for acq in export.acquisitions:
        other = by_name[acq.name]
        for param in sorted((set(acq.params) & set(other.params)) - NOT_VALUES):
            if "acquired voxel" in acq.provenance.get(param, ""):
                # Not stated by the export: our arithmetic from its FoV, matrix and resolutions, checked against
                # the printed voxel (rounding, Siemens' phase × read order, interpolated pixel) in test_derived.py.
                continue
            key = (pair, acq.name, param)
            if key in DIFFERENT_ON_PURPOSE:
                continue
            tolerance = ROUNDED_BY_VENDOR.get((pair.split("-")[0], param), ROUNDED.get(param, 0.0))
            ok = _same(acq.params[param], other.params[param], tolerance)
            if key in EXPORT_MISREADS:
                misreads.append((key, ok))
                continue
            compared += 1
            if not ok:
                wrong.append(f"{acq.name} {param}: export {acq.params[param]!r}, printout {other.params[param]!r}")
    return compared, wrong, misreads


@needs_fixtures
@pytest.mark.parametrize("pair", sorted(PAIRS))
def test_printout_reads_to_the_export_values(pair):
    export_path, printout_path = PAIRS[pair]
    export, printed = read_one(export_path), read_one(printout_path)
    assert printed.format.endswith(("printout", "report")), printed.format
    export_names = [a.name for a in export.acquisitions]
    printed_names = [a.name for a in printed.acquisitions]
    if pair in ORDER_UNKNOWN:
        assert sorted(printed_names) == sorted(export_names)
    else:
        assert printed_names == export_names
    compared, wrong, _ = compare(pair, export, printed)
    assert not wrong, wrong
    assert compared >= MIN_COMPARED[pair], compared  # the values both state, counted when these readers last grew
    assert printed.warnings == EXPECTED_WARNINGS.get(pair, []), printed.warnings


@needs_fixtures
@pytest.mark.parametrize("pair", ["siemens-VE11C", "siemens-XA61", "siemens-VB17"])
def test_siemens_printout_names_the_sequence_as_its_export_does(pair, spec):
    """The printout names each step's sequence: VB17 and VE11C end the header with it ("SIEMENS: tfl",
    ": spcR"), VE11C and XA61 print a "Sequence Name" row (XA61 T1w "tfl", T2w "spcR", GRE-T1w "fl"; pdftotext of
    the same PDFs). The family read from it is the one the export of the same protocol gives from its sequence
    files (tfl, tse_vfl, gre): the 1 mm sagittal MPRAGE is then the brain 3D T1 from the printout as from the
    export (issue 10); it had no family, too little evidence to be matched."""
    from ofsep_presets.check import check

    export_path, printout_path = PAIRS[pair]
    export, printed = read_one(export_path), read_one(printout_path)
    families = {a.name: a.get("sequence_family") for a in export.acquisitions}
    read = {a.name: a.get("sequence_family") for a in printed.acquisitions}
    assert read == families
    assert read["T1w"] == "mprage" and read["T2w"] == "space"
    report = check([printed], spec)
    t1 = next(s for s in report.sequences if s.id == "brain.t1_3d")
    assert [m.acquisition.name for m in t1.matched] == ["T1w"]


@needs_fixtures
def test_siemens_printout_values_as_printed():
    """Values read straight off the VE11C printout (pdftotext of the same PDF shows them)."""
    printed = read_one(PAIRS["siemens-VE11C"][1])
    acq = {a.name: a for a in printed.acquisitions}
    dwi = acq["DWI_no-ZOOMit"].params
    # "b-value 1  0 s/mm²", "b-value 2  800 s/mm²" (the rows "b-value 1  5" below are averages), "Diff. directions 30"
    assert dwi["b_values"] == [0.0, 800.0] and dwi["diffusion_directions"] == 30
    assert dwi["echo_train_length"] == 36  # "EPI factor 36"
    # Localizer: slice group 1 (5 coronal) + slice group 2 (3 sagittal) = 8 slices; the step's orientation is
    # group 1's.
    loc = acq["Localizer"].params
    assert loc["slices"] == 8 and loc["orientation"] == "coronal"
    assert acq["T1w"].params["voxel_size_mm"] == [1.0, 1.0, 1.0]  # header "Voxel size: 1.0×1.0×1.0 mm"
    assert "partial_fourier" not in acq["T2w"].params  # "Phase partial Fourier  Allowed" tells no fraction
    assert "TR=2000.0 ms" in acq["T1w"].provenance["repetition_time_ms"]


@needs_fixtures
def test_ve11c_mprage_turbo_factor_raw_bytes():
    """The VE11C T1w turbo factor: what each document holds, from their own bytes, and what the reader makes of it.

    The printout says 192; the export's only turbo value is a stale lTurboFactor 16 (the console's 192 is the
    partition loop, lPartitions, not stored as a turbo factor): the export reader states none, and says why."""
    import re
    import sqlite3
    import zlib

    export, pdf = PAIRS["siemens-VE11C"]
    printed = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    t1w_printed = printed.split("\\T1w\n", 1)[1].split("\\T2w\n", 1)[0]
    assert re.findall(r"Turbo factor\s+(\d+)", t1w_printed) == ["192"]
    con = sqlite3.connect(f"{export.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    texts = [
        zlib.decompress(blob, -15).decode("utf-8", "replace") for (blob,) in con.execute("select Data from Content")
    ]
    [mprage] = [t for t in texts if "tfl" in t and "sFastImaging.lTurboFactor" in t]
    # The record is JSON: the ASCCONV's tabs are escaped ("lTurboFactor\\t = \\t16").
    numbers = dict(re.findall(r"(sFastImaging\.lTurboFactor|sKSpace\.lPartitions)\\t = \\t(\d+)", mprage))
    assert numbers == {"sFastImaging.lTurboFactor": "16", "sKSpace.lPartitions": "192"}
    # No other turbo value anywhere in the step's protocol (XProtocol and ASCCONV): the slice turbo factor is 1.
    turbo = dict(re.findall(r"(\w*[Tt]urbo\w*)\\t = \\t(\d+)", mprage))
    assert turbo == {"lTurboFactor": "16", "lSliceTurboFactor": "1"} and len(re.findall("[Tt]urbo", mprage)) == 2
    # The reader: no 16 (a wrong number) and no 192 (a number the export does not state), a warning naming why.
    inspection = read_one(export)
    t1w = {a.name: a for a in inspection.acquisitions}["T1w"]
    assert "echo_train_length" not in t1w.params
    [warning] = [w for w in inspection.warnings if w.startswith("T1w: echo_train_length")]
    assert "sFastImaging.lTurboFactor=16" in warning and "stale" in warning and warning.endswith("left absent")
    # The same protocol exported by XA61 states the console's value, read as such ("Turbo Factor 192" printed).
    xa61 = {a.name: a for a in read_one(PAIRS["siemens-XA61"][0]).acquisitions}["T1w"]
    assert xa61.params["echo_train_length"] == int(re.findall(r"Turbo factor\s+(\d+)", t1w_printed)[0])


@needs_fixtures
@pytest.mark.parametrize("pair", ["siemens-VB17", "siemens-VE11C", "siemens-XA61"])
def test_siemens_header_voxel_is_read_in_its_printed_order(pair):
    """The header's "Voxel size: a×b×c" is phase × read × slice: read back as [read, phase, slice] it is the
    export's acquired voxel to the printed decimal; with Interpolation On VE and XA print the interpolated pixel
    (FoV read / (2 × base) on both axes), kept as the reconstructed voxel, VB the acquired voxel."""
    export = {a.name: a for a in read_one(PAIRS[pair][0]).acquisitions}
    printed = read_printout_as_printed(PAIRS[pair][1])
    checked = interpolated = 0
    for acq in printed.acquisitions:
        truth = export[acq.name]
        acquired = truth.get("voxel_size_mm")
        if "voxel_size_mm" in acq.params:
            assert "phase × read × slice" in acq.provenance["voxel_size_mm"]
            assert acq.params["voxel_size_mm"] == [float(f"{v + 1e-9:.1f}") for v in acquired], acq.name
            checked += 1
        else:
            assert truth.get("interpolation") and pair != "siemens-VB17", acq.name
            half = truth.get("fov_mm")[0] / (2 * truth.get("base_resolution"))
            assert acq.params["reconstructed_voxel_mm"] == [round(half, 1), round(half, 1), acquired[2]]
            interpolated += 1
    assert checked >= 7 and (interpolated == 1) == (pair != "siemens-VB17")
    if pair == "siemens-VB17":  # "2.2×2.0×6.0": read 500/256 = 1.95, phase 500/(256 × 90 %) = 2.17
        assert {a.name: a for a in printed.acquisitions}["Localizer"].params["voxel_size_mm"] == [2.0, 2.2, 6.0]


@needs_fixtures
def test_siemens_printout_states_the_acquired_voxel_ingredients():
    """Rows the VE11C printout prints ("Base resolution 96", "Phase resolution 100 %", "FoV phase 37.5 %",
    "Interpolation Off", "PAT mode None", "Frequency 1H 123.259452 MHz", "Contrasts 1") read as the export's."""
    dwi = {a.name: a for a in read_one(PAIRS["siemens-VE11C"][1]).acquisitions}["DWI_no-ZOOMit"].params
    assert dwi["base_resolution"] == 96 and dwi["phase_resolution_pct"] == 100.0 and dwi["matrix"] == [96, 36]
    assert dwi["interpolation"] is False and dwi["partial_fourier"] == 0.875  # "Phase partial Fourier 7/8"
    assert dwi["parallel_factor"] == 1.0 and dwi["field_strength_t"] == 3.0  # 123.259452 MHz / 42.577 = 2.895 T
    vb17 = {a.name: a.params for a in read_one(PAIRS["siemens-VB17"][1]).acquisitions}
    assert vb17["DWI"]["fat_suppression"] == "water_excitation"  # "Fat suppr. Water excit. normal"
    assert vb17["GRE-MT1"]["magnetization_transfer"] is True and vb17["GRE-MT0"]["magnetization_transfer"] is False


@needs_fixtures
def test_philips_printout_geometry_and_half_scan_as_printed():
    """R5.3 printout rows: "FOV FH (mm) 320" / "AP (mm) 260" / "RL (mm) 192", "slice orientation sagittal",
    "fold-over direction AP" (phase AP, read FH); "TFE prepulse invert" > "delay user defined" / "(ms) 1000";
    3D "ACQ voxel size RL (mm) 1"; "Halfscan yes" > "factor 0.7450981"; "Act. half scan factor 0.6278125"."""
    printed = {a.name: a.params for a in read_one(PAIRS["philips-R53"][1]).acquisitions}
    t1w, t2w, dwi = printed["T1w"], printed["T2w"], printed["DWI"]
    assert t1w["fov_mm"] == [320.0, 260.0] and t1w["inversion_time_ms"] == 1000.0
    assert t1w["slice_thickness_mm"] == 1.0 and t1w["partial_fourier"] == 1.0  # "Halfscan no"
    assert t2w["fov_mm"] == [256.0, 236.8] and t2w["slice_thickness_mm"] == 0.8 and t2w["partial_fourier"] == 0.6278
    assert dwi["fov_mm"] == [56.0, 42.0] and dwi["partial_fourier"] == 0.7451 and dwi["echo_time_ms"] == 70.0
    assert printed["SURVEY"]["fov_mm"] == [300.0, 300.0]  # coronal, fold-over FH: read RL 300, phase FH 300


@needs_fixtures
def test_ge_report_pdf_reads_a_label_wrapped_onto_two_lines():
    """The 750 PDF prints "Number of Diffusion" / "Directions" on two lines, its value "30" beside the first."""
    dwi = {a.name: a.params for a in read_one(PAIRS["ge-750-pdf"][1]).acquisitions}["DWI"]
    assert dwi["diffusion_directions"] == 30 and dwi["contrast_agent"] is False  # "Contrast Yes/No  No"


def test_print_xml_partial_fourier_allowed_is_warned_by_name(tmp_path):
    """A print-XML "Phase partial Fourier  Allowed" (VE SPACE): absent, said by its field, the rest read."""
    path = print_xml(tmp_path, (("TR", "2300 ms"), ("Phase partial Fourier", "Allowed"), ("Base resolution", "256")))
    [inspection] = inspect_path(path)
    [acq] = inspection.acquisitions
    assert acq.get("repetition_time_ms") == 2300 and acq.get("base_resolution") == 256
    assert "partial_fourier" not in acq.params
    assert inspection.warnings == [
        "t1: partial_fourier from Phase partial Fourier='Allowed': a word, not a fraction; left absent"
    ]


@needs_fixtures
def test_xa_tilted_orientation_is_its_main_plane():
    printed = read_one(PAIRS["siemens-XA61"][1])
    acq = {a.name: a.params for a in printed.acquisitions}
    assert acq["T2w"]["orientation"] == "sagittal"  # "S > T-0.9"
    assert acq["DWI"]["orientation"] == "axial"  # "T > C-6.4"
    assert printed.scanner["field_strength_t"] == 3.0  # title "SIEMENS MAGNETOM 3.0T X60"


@needs_fixtures
def test_philips_printout_values_as_printed():
    """Rows of the R5.3 printout, read through the ExamCard's own parameter names."""
    printed = {a.name: a.params for a in read_one(PAIRS["philips-R53"][1]).acquisitions}
    # GRE-ME: "Act. TR/TE1/delta TE  600 / 7.2 / 6.5", "Echoes 3", "SENSE yes" > "P reduction (AP) 2", "NSA 2".
    me = printed["GRE-ME"]
    assert me["repetition_time_ms"] == 600.0 and me["echo_times_ms"] == [7.2, 13.7, 20.2]
    assert me["parallel_factor"] == 2.0 and me["averages"] == 2.0
    # DWI: "Diffusion mode DTI", "directional resolution opt 32", "b-factor averages (0) 5, (800) 1", "EPI factor 47".
    dwi = printed["DWI"]
    assert dwi["b_values"] == [0.0, 800.0] and dwi["diffusion_directions"] == 32 and dwi["echo_train_length"] == 47
    # SURVEY: "ACQ voxel MPS (mm)  1.25 / 1.50 /" wrapped onto "10.0"; "slices 3", "gap (mm) 1", "coronal".
    survey = printed["SURVEY"]
    assert survey["voxel_size_mm"] == [1.25, 1.5, 10.0] and survey["slices"] == 3 and survey["slice_gap_mm"] == 1.0
    assert survey["orientation"] == "coronal"


@needs_fixtures
def test_ge_report_html_and_pdf_of_the_1_5t_spine_protocol_agree():
    """The SIGNA Artist 1.5 T spine report (MR-AAT-IPEM): its HTML and its PDF, value by value, series by series."""
    html, pdf = read_one(MRAAT_REPORT.with_suffix(".html")), read_one(MRAAT_REPORT.with_suffix(".pdf"))
    assert len(html.acquisitions) == len(pdf.acquisitions) == 15  # "Page 1 of 15", 15 series tables
    compared = 0
    for a, b in zip(html.acquisitions, pdf.acquisitions, strict=True):
        for param in sorted((set(a.params) | set(b.params)) - NOT_VALUES):
            assert a.params.get(param) == b.params.get(param), (a.name, param)
            compared += 1
    assert compared >= 150
    # The PDF prints each page's series name at a right angle in both margins (pdftotext shows it): the same
    # names, in the same order, as the HTML's series tables; and the "Protocol:" line is both documents' program.
    assert [a.name for a in pdf.acquisitions] == [a.name for a in html.acquisitions]
    assert {a.context.get("program") for a in html.acquisitions + pdf.acquisitions} == {
        "adult_spine_Ultrafast 3 part w spine"
    }
    # As printed for "Sag T1 TOP - Sag T1 TOP": Imaging Options "... ARC" with Phase 2.00 under IMAGING
    # PARAMETERS (the ARC factor), TR 699.0, Echo Train Length 4, FOV 22.0 (cm), Freq 384, Phase 288 (ACQ TIMING).
    sag_t1 = html.acquisitions[3].params
    assert html.acquisitions[3].name == "Sag T1 TOP - Sag T1 TOP"
    assert sag_t1["parallel_factor"] == 2.0 and sag_t1["repetition_time_ms"] == 699.0
    assert sag_t1["echo_train_length"] == 4 and sag_t1["fov_mm"] == [220.0, 220.0]
    assert sag_t1["matrix"] == [384, 288] and sag_t1["slice_thickness_mm"] == 3.0


@needs_fixtures
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (tests only) makes the text printout")
@pytest.mark.parametrize("pair", sorted(p for p in PAIRS if PAIRS[p][1].suffix == ".pdf"))
def test_text_printout_reads_like_the_pdf(pair, tmp_path):
    """The text form of a printout (its layout as text) reads to the same values as the PDF it came from."""
    source = PAIRS[pair][1]
    text = tmp_path / "printout.txt"
    subprocess.run(["pdftotext", "-layout", str(source), str(text)], check=True)
    [from_text] = inspect_path(text)
    from_pdf = read_one(source)
    assert [a.name for a in from_text.acquisitions] == [a.name for a in from_pdf.acquisitions]
    for a, b in zip(from_text.acquisitions, from_pdf.acquisitions, strict=True):
        assert a.params == b.params, a.name
        assert a.params, a.name


def test_a_pdf_that_is_no_printout_is_not_taken_for_one(tmp_path):
    from ofsep_presets.pdf import html_to_pdf

    target = tmp_path / "paper.pdf"
    target.write_bytes(html_to_pdf("<html><body><p>SIEMENS MAGNETOM</p><p>Slice thickness 3 mm</p></body></html>"))
    with pytest.raises(ReadError, match="not a format ofsep-presets reads"):
        inspect_path(target)


PREFIXES = [
    b"%PDF-1.4\n",
    b"SIEMENS MAGNETOM x\n\\\\a\\b\n",
    b"Philips MRI Protocol Dump\nInBox (1) |  T1w 04:22.0\n  INFO PAGE   GEOMETRY   CONTRAST\n",
    b"<html><body>Protocol: x<table border=1><tr><th colspan=2>S</th></tr><th>SCAN TIMING</th>",
    b"Protocol: x\n   IMAGING PARAMETERS   SCAN TIMING\n",
    b"",
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048), prefix=st.sampled_from(PREFIXES))
def test_random_bytes_are_read_or_refused_never_a_crash(tmp_path, data, prefix):
    """Every printout reader (Siemens, Philips, GE; PDF, text, HTML): an Inspection or a ReadError, nothing else."""
    target = tmp_path / "random.pdf"
    target.write_bytes(prefix + data)
    try:
        if printout.sniff(target, (prefix + data)[:4096]):
            inspection = printout.read(target)
            assert isinstance(inspection, Inspection)
    except ReadError:
        pass


@needs_fixtures
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(min_value=0.0, max_value=1.0), pair=st.sampled_from(sorted(PAIRS)))
def test_a_truncated_printout_is_read_or_refused_never_a_crash(tmp_path, cut, pair):
    data = PAIRS[pair][1].read_bytes()
    target = tmp_path / "cut.pdf"
    target.write_bytes(data[: int(len(data) * cut)])
    try:
        result = inspect_path(target)
        assert all(isinstance(i, Inspection) for i in result)
    except ReadError:
        pass


@needs_fixtures
def test_a_printout_beside_its_export_is_not_read_twice():
    """The GE folder holds the tar and its report (HTML and PDF): one exam, read once, from the export."""
    [inspection] = inspect_path(GE)
    assert inspection.format == "ge-protocol-tar"
    assert [a.name for a in inspection.acquisitions].count("GRE-MT0") == 1
    assert "2 printout(s) beside the protocol export not read again (inspect them by name)" in inspection.warnings


@needs_fixtures
@pytest.mark.parametrize(
    "path",
    [GE / "spine_generic_ge_750_no-FOCUS.html", PAIRS["philips-R53"][1], PAIRS["siemens-VB17"][1]],
    ids=["ge-html", "philips-pdf", "siemens-pdf"],
)
def test_inspect_cli_reads_a_printout_as_table_and_json(path):
    import json

    from click.testing import CliRunner

    from ofsep_presets.cli import main

    table = CliRunner().invoke(main, ["inspect", str(path)])
    assert table.exit_code == 0, table.output
    assert "printout" in table.output or "ge-report" in table.output
    result = CliRunner().invoke(main, ["inspect", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    [document] = json.loads(result.output) if result.output.lstrip().startswith("[") else [json.loads(result.output)]
    names = [a["name"] for a in document["acquisitions"]]
    assert names == [a.name for a in read_one(path).acquisitions] and len(names) >= 7


@needs_fixtures
def test_a_damaged_printout_pdf_says_why_it_cannot_be_read(tmp_path):
    """A printout cut in transfer is refused with the reason (not "not a format ofsep-presets reads")."""
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(PAIRS["siemens-VB17"][1].read_bytes()[:40_000])
    with pytest.raises(ReadError, match=r"not a readable PDF \(PSEOF\)"):
        inspect_path(cut)


def test_inspect_cli_says_one_line_for_a_broken_printout(tmp_path):
    from click.testing import CliRunner

    from ofsep_presets.cli import main

    broken = tmp_path / "broken.html"
    broken.write_bytes(b"<html><body>Protocol: x <th>SCAN TIMING</th></body></html>")
    result = CliRunner().invoke(main, ["inspect", str(broken)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "GE protocol report without any series" in result.output


@needs_fixtures
def test_a_folder_of_a_report_and_its_pdf_reads_the_protocol_once_and_two_reports_as_two_exams(tmp_path):
    """The MR-AAT folder holds one GE report as HTML and as its PDF print (they read to the same values, above):
    one protocol, 15 series, said once. Two different reports in one folder are two documents: two exams."""
    from ofsep_presets.exams import split

    [inspection] = inspect_path(MRAAT)
    assert len(inspection.acquisitions) == 15
    assert any("prints the same protocol as" in w for w in inspection.warnings), inspection.warnings
    both = tmp_path / "reports"
    both.mkdir()
    shutil.copy(MRAAT_REPORT.with_suffix(".html"), both / "a.html")  # in the test's own folder (walks follow no link)
    shutil.copy(GE / "spine_generic_ge_750_no-FOCUS.html", both / "b.html")
    exams = split(inspect_path(both))
    assert sorted(len(e.acquisitions) for e in exams) == [9, 15]


@needs_fixtures
@pytest.mark.parametrize("pair", ["siemens-VE11C", "siemens-XA61", "siemens-VB17"])
def test_siemens_printout_ta_is_the_exports_total_scan_time(pair):
    """The header's TA ("TA: 4:44" VB/VE, "TA: 4:44 min" / "TA: 19 sec" XA) is the step's acquisition time, and the
    export states the same time in seconds (ASCCONV lTotalScanTimeSec: 284 for "4:44", every step of the three
    spine-generic pairs): duration_s, read from each on its own, agrees step by step."""
    export_path, printout_path = PAIRS[pair]
    export, printed = read_one(export_path), read_one(printout_path)
    times = {a.name: a.params.get("duration_s") for a in export.acquisitions}
    assert None not in times.values() and all(
        "lTotalScanTimeSec" in a.provenance["duration_s"] for a in export.acquisitions
    )
    assert {a.name: a.params.get("duration_s") for a in printed.acquisitions} == times
    assert all("TA:" in a.provenance["duration_s"] for a in printed.acquisitions)


@needs_fixtures
def test_philips_printout_total_scan_duration_is_the_examcards():
    """INFO PAGE "Total scan duration 05:34.1" (the breadcrumb's "DWI 05:34.1") and the ExamCard's own string
    IF_str_total_scan_time: the same seconds, scan by scan (R5.3 spine-generic: T1w 04:22.0 = 262 s)."""
    export_path, printout_path = PAIRS["philips-R53"]
    export, printed = read_one(export_path), read_one(printout_path)
    times = {a.name: a.params.get("duration_s") for a in export.acquisitions}
    assert times["T1w"] == 262.0 and times["DWI"] == 334.1 and None not in times.values()
    assert {a.name: a.params.get("duration_s") for a in printed.acquisitions} == times


@needs_fixtures
def test_philips_3d_slice_sense_is_read_from_the_examcard_and_its_printout():
    """A 3D scan's slice-direction SENSE: the ExamCard's EX_GEO_sense_s_red_factor, printed beside P reduction as
    "S reduction (RL) 1.5" (R53 T2w) or "S reduction (FH) 1" (GRE-MT); a 2D scan (DWI, GRE-ME) states none."""
    export_path, printout_path = PAIRS["philips-R53"]
    for inspection in (read_one(export_path), read_one(printout_path)):
        factors = {a.name: a.params.get("parallel_factor_slice") for a in inspection.acquisitions}
        assert factors == {
            "SURVEY": None,
            "T1w": 1.0,
            "T2w": 1.5,
            "DWI": None,
            "GRE-MT": 1.0,
            "GRE-T1": 1.0,
            "GRE-ME": None,
        }


@needs_fixtures
@pytest.mark.parametrize("pair", ["siemens-VE11C", "siemens-XA61", "siemens-VB17"])
def test_siemens_export_states_the_pat_mode_and_phase_direction_its_printout_prints(pair):
    """Every step of the three Siemens exports: the printout's "PAT mode" and "Phase enc. dir." (A >> P for the
    transverse and sagittal steps at rotation 0, R >> L for the coronal localizer, H >> F for the sagittal T2w
    rotated by 90°), read from the export's own sPat.ucPATMode, slice normal and dInPlaneRot."""
    export_path, printout_path = PAIRS[pair]
    printed = {a.name: a for a in read_one(printout_path).acquisitions}
    for acq in read_one(export_path).acquisitions:
        for param in ("parallel_mode", "phase_encoding_direction"):
            assert printed[acq.name].get(param) is not None, (acq.name, param)
            assert acq.get(param) == printed[acq.name].get(param), (acq.name, param, acq.provenance.get(param))


@needs_fixtures
@pytest.mark.parametrize("pair", ["ge-750-html", "ge-750-pdf"])
def test_ge_export_and_report_state_the_mt_pulse_and_fat_saturation(pair):
    """GE states the MT pulse as an imaging option: the report prints "Imaging Options EDR, MgT" for GRE-MT1 and
    "EDR" for GRE-MT0, the MT-on and MT-off scans of the spine-generic protocol (the Siemens printout of the same
    protocol: "MTC On", "MTC Off"); the DWI's "Fat/Water Saturation Fat" is the tar's SUPPTQ "1"."""
    export_path, printout_path = PAIRS[pair]
    siemens = {a.name: a for a in read_one(PAIRS["siemens-VE11C"][1]).acquisitions}
    for inspection in (read_one(export_path), read_one(printout_path)):
        acqs = {a.name: a for a in inspection.acquisitions}
        for name in ("GRE-MT1", "GRE-MT0"):
            assert acqs[name].get("magnetization_transfer") is (name == "GRE-MT1"), acqs[name].provenance
            assert siemens[name].get("magnetization_transfer") is (name == "GRE-MT1")
        assert acqs["DWI"].get("fat_suppression") == "fatsat", acqs["DWI"].provenance
        # "Imaging Options": T1w "EDR, Fast, IrP, Asset", T2w "FC, NPW, EDR, Fast, FR, ARC", DWI neither
        assert [acqs[n].get("parallel_mode") for n in ("T1w", "T2w", "DWI")] == ["asset", "arc", "none"]


@needs_fixtures
def test_philips_examcard_and_printout_state_sense_on_or_off():
    """The R5.3 printout's "SENSE yes" (T1w, T2w...) / "SENSE no" (SURVEY, DWI), the ExamCard's EX_GEO_sense_enable."""
    export_path, printout_path = PAIRS["philips-R53"]
    for inspection in (read_one(export_path), read_one(printout_path)):
        modes = {a.name: a.get("parallel_mode") for a in inspection.acquisitions}
        assert modes["SURVEY"] == modes["DWI"] == "none" and modes["T1w"] == modes["T2w"] == "sense", modes


@needs_fixtures
@pytest.mark.parametrize(
    ("pair", "expected"),
    [
        # Each printout's page title, as printed on every page (pdftotext of the fixture):
        ("siemens-VB17", {"model": "TrioTim", "software_version": "syngo MR B17"}),  # "... TrioTim syngo MR B17"
        # "SIEMENS MAGNETOM Prisma_fit": no version printed; the field from its printed Larmor frequency.
        ("siemens-VE11C", {"model": "Prisma_fit", "field_strength_t": 3.0}),
        # "SIEMENS MAGNETOM 3.0T X60 Numaris/X VA61A-092T": the version; "X60" is tied to no model name here.
        ("siemens-XA61", {"software_version": "Numaris/X VA61A-092T", "field_strength_t": 3.0}),
    ],
)
def test_siemens_printout_names_its_system_and_each_step_as_the_export_names_it(pair, expected):
    export, pdf = PAIRS[pair]
    printed = read_one(pdf)
    assert {k: printed.scanner[k] for k in printed.scanner if k != "manufacturer"} == expected
    # The step's printed name is its protocol name: the export's series description of the same step.
    exported = {a.name: a.get("series_description") for a in read_one(export).acquisitions}
    named = {a.name: a.get("series_description") for a in printed.acquisitions}
    assert named and all(named[n] == exported[n] == n for n in named if n in exported)
    assert len(set(named) & set(exported)) >= 7
