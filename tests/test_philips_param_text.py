"""Philips scan parameters as "Label =  value;" text (shared/notes/vendor-formats.md: "Text/PDF printouts:
`Label = value;` lines, indentation marks a sub-parameter"; its excerpt format-excerpts/07_philips_examcard_
printout_txt.txt, a DTI scan). The input below is our own, written in that documented layout (its first 30 lines
are the excerpt's, tab-aligned as such files are); every expected value is the number the text prints."""

from __future__ import annotations

import pytest

from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

SCAN = """Coil selection =\t\t"SENSE-Head-8";
     element selection =\t"SENSE";
     connection =\t\t"d";
Dual coil =\t\t\t"no";
CLEAR =\t\t\t\t"yes";
    body tuned =\t\t"no";
FOV          RL (mm) =\t\t248;
             AP (mm) =\t\t248;
             FH (mm) =\t\t130;
Voxel size   RL (mm) =\t\t2;
             AP (mm) =\t\t2;
Slice thickness (mm) =\t\t2;
Recon voxel size (mm) =\t\t2;
Fold-over suppression =\t\t"no";
Reconstruction matrix =\t\t128;
SENSE =\t\t\t\t"yes";
    P reduction (AP) =\t\t2;
    P os factor =\t\t1;
k-t BLAST =\t\t\t"no";
Stacks =\t\t\t1;
    type =\t\t\t"parallel";
    slices =\t\t\t65;
    slice gap =\t\t\t"user defined";
          gap (mm) =\t\t0;
    slice orientation =\t\t"transverse";
    fold-over direction =\t"AP";
Scan mode =\t\t\t"MS";
    technique =\t\t\t"SE";
Fast Imaging mode =\t\t"EPI";
    shot mode =\t\t\t"single-shot";
Echoes =\t\t\t1;
TE =\t\t\t\t"user defined";
    (ms) =\t\t\t79;
Flip angle (deg) =\t\t90;
TR =\t\t\t\t"shortest";
Fat suppression =\t\t"SPIR";
MTC =\t\t\t\t"no";
Diffusion mode =\t\t"DTI";
    b-factor averages =\t\t(0) 1,
\t\t\t\t(1000) 4;
Act. TR/TE (ms) =\t\t"7500 / 79";
ACQ matrix M x P =\t\t"124 x 124";
EPI factor =\t\t\t65;
"""


def _read(tmp_path, text: str):
    path = tmp_path / "dti.txt"
    path.write_text(text, encoding="utf-8")
    [inspection] = inspect_path(path)
    return inspection


def test_a_philips_parameter_text_reads_its_values_as_printed(tmp_path):
    inspection = _read(tmp_path, SCAN)
    assert inspection.format == "philips-printout"
    [acq] = inspection.acquisitions
    p = acq.params
    assert p["manufacturer"] == "philips"
    assert p["acquisition_type"] == "2D"  # Scan mode "MS"
    assert p["repetition_time_ms"] == 7500.0 and p["echo_time_ms"] == 79.0  # Act. TR/TE; TE's "(ms)" line
    assert p["flip_angle_deg"] == 90.0
    assert p["slice_thickness_mm"] == 2.0 and p["slices"] == 65 and p["slice_gap_mm"] == 0.0
    assert p["orientation"] == "axial"  # "transverse"
    assert p["fov_mm"] == [248.0, 248.0]  # RL (read) × AP (fold-over direction: phase)
    assert p["matrix"] == [124, 124]
    assert p["parallel_factor"] == 2.0  # SENSE yes > P reduction (AP) 2
    assert p["echo_train_length"] == 65  # EPI factor
    assert p["fat_suppression"] == "spir" and p["magnetization_transfer"] is False
    assert p["b_values"] == [0.0, 1000.0]  # a value continued on the next line
    assert "echo_time_ms" in acq.provenance and acq.provenance["echo_time_ms"]


def test_a_top_level_label_seen_again_starts_the_next_scan(tmp_path):
    second = SCAN.replace("65;", "40;").replace("Flip angle (deg) =\t\t90;", "Flip angle (deg) =\t\t80;")
    inspection = _read(tmp_path, SCAN + second)
    assert [a.params["slices"] for a in inspection.acquisitions] == [65, 40]
    assert [a.params["flip_angle_deg"] for a in inspection.acquisitions] == [90.0, 80.0]


THREE_D = """Uniformity =\t\t\t"CLEAR";
FOV          FH (mm) =\t\t256;
             AP (mm) =\t\t240;
             RL (mm) =\t\t192;
Voxel size   FH (mm) =\t\t1;
             AP (mm) =\t\t1;
             RL (mm) =\t\t1.2;
Recon voxel size (mm) =\t\t0.5;
Fold-over suppression =\t\t"no";
Reconstruction matrix =\t\t512;
SENSE =\t\t\t\t"yes";
    P reduction (AP) =\t\t2;
    S reduction (RL) =\t\t1.5;
Stacks =\t\t\t1;
    slices =\t\t\t160;
    slice orientation =\t\t"sagittal";
    fold-over direction =\t"AP";
Scan mode =\t\t\t"3D";
    technique =\t\t\t"FFE";
"""


def test_a_3d_scan_reads_its_geometry_from_the_rows_per_axis(tmp_path):
    [acq] = _read(tmp_path, THREE_D).acquisitions
    p = acq.params
    assert p["acquisition_type"] == "3D" and p["orientation"] == "sagittal" and p["slices"] == 160
    assert p["fov_mm"] == [256.0, 240.0]  # FH read, AP phase (fold-over direction) of a sagittal stack
    assert p["slice_thickness_mm"] == 1.2  # the acquired voxel along the slices (RL)
    assert p["parallel_factor"] == 2.0 and p["parallel_factor_slice"] == 1.5


@pytest.mark.parametrize(
    "excerpt",
    [
        "02_siemens_printprot_VE11C_pdf.txt",
        "03_siemens_ascconv_from_DICOM_CSA.txt",  # "key = value" lines, no ";"
        "08_philips_examcard_pdf_R53.txt",
        "09_ge_lxprotocol_T2w.txt",
        "13_siemens_edx_VB17.txt",
    ],
)
def test_other_formats_written_with_equals_signs_are_not_taken_for_it(excerpt):
    from ofsep_presets.readers import philips_param_text

    path = FIXTURES.parent / "notes" / "format-excerpts" / excerpt
    if not path.is_file():
        pytest.skip("the shared notes are not here")
    assert not philips_param_text.sniff(path.read_bytes()[:4096])
    assert philips_param_text.sniff(
        (FIXTURES.parent / "notes/format-excerpts/07_philips_examcard_printout_txt.txt").read_bytes()
    )


def test_a_scan_stating_its_diffusion_mode_is_a_diffusion_scan_without_its_b_factor_rows(tmp_path):
    # The documented excerpt's DTI (format-excerpts/07) ends before its b-factor rows: "Diffusion mode = "DTI";"
    # with "Fast Imaging mode = "EPI";" is the scan's own statement that it is diffusion-weighted (it read as a
    # TSE: "technique SE" decided). Its b-values stay absent: the text does not state them.
    lines = SCAN.splitlines(keepends=True)
    cut = [line for line in lines if "b-factor" not in line and not line.startswith("\t\t\t\t(1000)")]
    [acq] = _read(tmp_path, "".join(cut)).acquisitions
    assert acq.get("sequence_family") == "epi_dwi"
    assert "Diffusion mode" in acq.provenance["sequence_family"] or "DIFF" in acq.provenance["sequence_family"]
    assert "b_values" not in acq.params


def _seconds(text: str, repeats: int) -> float:
    import time

    from ofsep_presets.readers import philips_param_text

    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        philips_param_text.read_text(text, "scan.txt", "scan.txt", [])
        best = min(best, time.perf_counter() - start)
    return best


def test_many_continuation_lines_read_in_time_linear_in_their_number():
    """A value continued over many lines (hostile, within the 16 MiB text bound: 80,000 lines of 50 characters,
    4 MB): ten times the lines takes about ten times as long, not fifty (each line appended to the value's string
    copied the whole value again). A ratio of two timings of the same reader, never absolute seconds."""

    def text(lines: int) -> str:
        return SCAN + 'Remark =\t\t"a",\n' + ('\t\t"' + "b" * 50 + '",\n') * lines

    small, large = _seconds(text(8000), 3), _seconds(text(80000), 2)
    assert large < 25 * small, (small, large)


def test_a_long_run_of_blanks_inside_a_value_reads_in_time_linear_in_its_length():
    """'x' + 40,000 spaces + 'y' in one value: the lazy value pattern before the trailing blanks retried the run
    at every character (quadratic: seconds). Ten times the blanks takes about ten times as long; the row still
    reads the number it prints."""

    def text(blanks: int) -> str:
        return SCAN.replace("EPI factor =\t\t\t65;", "EPI factor =\t\t\t65" + " " * blanks + ";")

    small, large = _seconds(text(4000), 3), _seconds(text(40000), 2)
    assert large < 30 * small, (small, large)
    from ofsep_presets.readers import philips_param_text

    [acq] = philips_param_text.read_text(text(40000), "scan.txt", "scan.txt", []).acquisitions
    assert acq.params["echo_train_length"] == 65


def test_the_printout_functions_the_text_reader_shares_are_public_typed_and_said():
    """The Philips printout's label map, axis rows, value reading and label normalisation are the functions both
    printout readers use (no one-line public wrappers around private ones), each typed and documented; and the
    Siemens printed sequence name states its types."""
    import typing

    from ofsep_presets.readers import philips_printout, siemens_printout_extras

    for name in ("labels", "axis_row", "value", "norm"):
        function = getattr(philips_printout, name)
        assert function.__doc__, name
        assert "return" in typing.get_type_hints(function), name
        assert not hasattr(philips_printout, f"_{name}"), name
    hints = typing.get_type_hints(siemens_printout_extras.printed_sequence_name)
    assert set(hints) == {"labelled", "return"}
    assert philips_printout.norm("  Slice   thickness (MM) ") == "slice thickness (mm)"
