"""The public MR-AAT GE protocol library against OFSEP: its limb, pelvis and abdomen programs fill no brain or spinal
cord slot, each series says which region it was placed in and why, and an exam holding nothing of the spec's
regions says so in plain words.

The programs are the GE SIGNA Artist / SIGNA Premier Protocol Exchange reports of github
MR-AAT-IPEM/mri_aat_protocol_library (MIT), commit 4f31d4afe10d70bdd0873c523cfe9c8e2f497f71, folder
"ge_artist_and_premier_aat_example_protocols/" (read with the library's read_file; not copied here). One of them,
the whole-spine report, is our fixture. Each test report is that fixture's own HTML layout (its header, its series
table, section and row markup) holding the series rows exactly as the public report of the program prints them:
the series header ("NAME - NAME"), and the rows that carry its values (imaging mode, pulse sequence, imaging
options, timing, scan range, acquisition matrix, NEX and phase FOV, diffusion, contrast); the USER CVS / FMRI /
MULTI-PHASE / TRICKS rows are left out.
None of these reports prints a coil, an anatomy or a plane row: the program line ("Protocol: adult_pelvis_GUY - AS
PROSTATE 2023") and the series names are all the region evidence they hold.

The anatomy codes are DICOM PS3.16 CID 4031 "Common Anatomic Regions" as DCMTK lists them (github DCMTK/dcmtk,
dcmsr/libcmr/cid4031.cc: "T-15750", SRT, "Ankle joint"; "70258002", SCT, "Ankle joint" in the later edition).
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from ofsep_presets.check import check
from ofsep_presets.cli import main
from ofsep_presets.exams import split
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES
from .test_region_evidence import _repacked_ge

MRAAT = FIXTURES / "references/mraat/ge_artist_and_premier_aat_example_protocols/SIGNA Artist/GE_ProtocolExchange"
LAYOUT = MRAAT / "adult_spine_Ultrafast3partwspine_20220326170523213_12.html"

IP, ST, SR, ACQ, DF, CT = "IMAGING PARAMETERS", "SCAN TIMING", "SCAN RANGE", "ACQ TIMING", "DIFFUSION", "CONTRAST"

# SIGNA Premier/GE_ProtocolExchange/adult_pelvis_GUY-ASPROSTATETOUSE_2023032011083997_1.html: all six series.
AS_PROSTATE = (
    "adult_pelvis_GUY - AS PROSTATE 2023",
    [
        (
            "3Plane Localizer H/Res",
            {
                IP: [("Imaging Mode", "2D"), ("Pulse Sequence", "Fiesta"), ("Imaging Options", "Seq, Fast")],
                ST: [
                    ("Flip Angle", "45"),
                    ("TE", "Min Full"),
                    ("Number of Echoes", "1"),
                    ("Receiver Bandwidth", "100.00"),
                ],
                SR: [("FOV", "30.0"), ("Slice Thickness", "5.00"), ("Slice Spacing", "0.0")],
                ACQ: [("Freq", "256"), ("Phase", "128"), ("NEX", "0.50"), ("Phase FOV", "1.00")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "Ax T1 FSE Bifurcation",
            {
                IP: [("Imaging Mode", "2D"), ("Pulse Sequence", "FSE-XL"), ("Imaging Options", "EDR, TRF, Fast, ARC")],
                ST: [("Flip Angle", "111"), ("TE", "Min Full"), ("TR", "772.0"), ("Echo Train Length", "4")],
                SR: [
                    ("FOV", "32.0"),
                    ("Slice Thickness", "6.00"),
                    ("Slice Spacing", "2.0"),
                    ("Number of Slices", "35"),
                ],
                ACQ: [("Freq", "512"), ("Phase", "288"), ("NEX", "0.50"), ("Phase FOV", "1.00")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "Ax Thin FRFSE T2 3/0 ARDL M",
            {
                IP: [
                    ("Imaging Mode", "2D"),
                    ("Pulse Sequence", "FSE-XL"),
                    ("Imaging Options", "TRF, Fast, ZIP512, FR"),
                ],
                ST: [("Flip Angle", "111"), ("TE", "102.0"), ("TR", "2816.0"), ("Echo Train Length", "16")],
                SR: [
                    ("FOV", "18.0"),
                    ("Slice Thickness", "3.00"),
                    ("Slice Spacing", "Intleave"),
                    ("Number of Slices", "29"),
                ],
                ACQ: [("Freq", "448"), ("Phase", "256"), ("NEX", "1.00"), ("Phase FOV", "1.00")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "Ax DWI b1400/750/100 3/0mm ARDL L",
            {
                IP: [
                    ("Imaging Mode", "2D"),
                    ("Pulse Sequence", "Spin Echo"),
                    ("Imaging Options", "EDR, EPI, DIFF, Asset"),
                ],
                ST: [("TE", "Minimum"), ("Number of Echoes", "1"), ("TR", "3775.0"), ("Receiver Bandwidth", "111.11")],
                SR: [
                    ("FOV", "28.0"),
                    ("Slice Thickness", "3.00"),
                    ("Slice Spacing", "Intleave"),
                    ("Number of Slices", "29"),
                ],
                ACQ: [("Freq", "128"), ("Phase", "128"), ("Phase FOV", "1.00")],
                DF: [("Number of Diffusion Directions", "3"), ("Multi b-values", "1400.0;750.0;100.0;")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "--option-----",
            {
                IP: [("Imaging Mode", "2D"), ("Pulse Sequence", "Gradient Echo"), ("Imaging Options", "Seq, Fast")],
                SR: [("FOV", "24.0"), ("Slice Thickness", "10.0"), ("Slice Spacing", "5.0")],
                ACQ: [("Freq", "256"), ("Phase", "128"), ("NEX", "1.00"), ("Phase FOV", "1.00")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "AX FRFSE T2 3/0 ARDL",
            {
                IP: [
                    ("Imaging Mode", "2D"),
                    ("Pulse Sequence", "FSE-XL"),
                    ("Imaging Options", "TRF, Fast, ZIP1024, FR"),
                ],
                ST: [("Flip Angle", "111"), ("TE", "126.0"), ("TR", "3003.0"), ("Echo Train Length", "16")],
                SR: [
                    ("FOV", "18.0"),
                    ("Slice Thickness", "3.00"),
                    ("Slice Spacing", "Intleave"),
                    ("Number of Slices", "33"),
                ],
                ACQ: [("Freq", "448"), ("Phase", "384"), ("NEX", "1.00"), ("Phase FOV", "1.00")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
    ],
)

# SIGNA Artist/GE_ProtocolExchange/adult_lowerExtremities_MSK2020-KneestdARDLHR_20210516135531642_1.html: its first
# series (a sagittal fat-suppressed T2 of 27 slices of 3 mm, the knee's, which an unplaced exam would offer the
# spinal T2).
KNEE = (
    "adult_lowerExtremities_MSK -ARDL 2022-Knee std High Resolution",
    [
        (
            "3-Plane Localizer Right",
            {
                IP: [
                    ("Imaging Mode", "2D"),
                    ("Pulse Sequence", "Spin Echo"),
                    ("Imaging Options", "Seq, EDR, TRF, Fast, SS, ARC"),
                ],
                ST: [("TE", "80.0"), ("Number of Echoes", "1"), ("TR", "600.0"), ("Receiver Bandwidth", "83.33")],
                SR: [("FOV", "30.0"), ("Slice Thickness", "7.00"), ("Slice Spacing", "5.0")],
                ACQ: [("Freq", "288"), ("Phase", "240"), ("Phase FOV", "1.00")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "SAG T2 FS",
            {
                IP: [("Imaging Mode", "2D"), ("Pulse Sequence", "FSE-XL"), ("Imaging Options", "EDR, TRF, Fast, ARC")],
                ST: [("Flip Angle", "150"), ("TE", "68.0"), ("TR", "5810.0"), ("Echo Train Length", "15")],
                SR: [
                    ("FOV", "16.0"),
                    ("Slice Thickness", "3.00"),
                    ("Slice Spacing", "0.5"),
                    ("Number of Slices", "27"),
                ],
                ACQ: [("Freq", "384"), ("Phase", "320"), ("NEX", "1.00"), ("Phase FOV", "1.00")],
            },
        ),
    ],
)


# SIGNA Artist/GE_ProtocolExchange/adult_pelvis_GYN-Screeningpelvis2020ardl_20210905222307271_1.html: its first two
# series (a sagittal T2 of 40 slices of 3.5 mm, FOV 26 cm).
GYN = (
    "adult_pelvis_GYN-Screening pelvis 2020 ardl",
    [
        (
            "3Plane Loc",
            {
                IP: [("Imaging Mode", "2D"), ("Pulse Sequence", "Spin Echo"), ("Imaging Options", "Seq, Fast, SS")],
                ST: [("TE", "80.0"), ("Number of Echoes", "1"), ("TR", "Minimum"), ("Receiver Bandwidth", "83.33")],
                SR: [("FOV", "50.0"), ("Slice Thickness", "8.00"), ("Slice Spacing", "0.0")],
                ACQ: [("Freq", "320"), ("Phase", "160"), ("Phase FOV", "1.00")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "Sag T2 ardl",
            {
                IP: [
                    ("Imaging Mode", "2D"),
                    ("Pulse Sequence", "FSE-XL"),
                    ("Imaging Options", "FC, EDR, TRF, Fast, FR"),
                ],
                ST: [("Flip Angle", "160"), ("TE", "80.0"), ("TR", "4879.0"), ("Echo Train Length", "23")],
                SR: [
                    ("FOV", "26.0"),
                    ("Slice Thickness", "3.50"),
                    ("Slice Spacing", "0.4"),
                    ("Number of Slices", "40"),
                ],
                ACQ: [("Freq", "320"), ("Phase", "288"), ("NEX", "1.00"), ("Phase FOV", "1.00")],
            },
        ),
    ],
)

# SIGNA Artist/GE_ProtocolExchange/adult_abdomen_BOD-MRCP2020ARDL_20210618202242783_1.html: its first two series (a
# coronal single-shot FSE of 50 slices of 3 mm, FOV 40 cm).
MRCP = (
    "adult_abdomen_BOD - MRCP 2020 ARDL",
    [
        (
            "3 plane localiser",
            {
                IP: [
                    ("Imaging Mode", "2D"),
                    ("Pulse Sequence", "Spin Echo"),
                    ("Imaging Options", "Seq, EDR, Fast, SS, ARC"),
                ],
                ST: [("TE", "80.0"), ("Number of Echoes", "1"), ("TR", "Minimum"), ("Receiver Bandwidth", "62.50")],
                SR: [("FOV", "48.0"), ("Slice Thickness", "10.00"), ("Slice Spacing", "0.0")],
                ACQ: [("Freq", "352"), ("Phase", "192"), ("Phase FOV", "1.00")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "ARDL H Cor SSFSE 3mm TE 60 ARDLHi",
            {
                IP: [
                    ("Imaging Mode", "2D"),
                    ("Pulse Sequence", "Spin Echo"),
                    ("Imaging Options", "EDR, TRF, Fast, SS, ARC"),
                ],
                ST: [("TE", "62.0"), ("Number of Echoes", "1"), ("TR", "Minimum"), ("Receiver Bandwidth", "83.33")],
                SR: [
                    ("FOV", "40.0"),
                    ("Slice Thickness", "3.00"),
                    ("Slice Spacing", "0.3"),
                    ("Number of Slices", "50"),
                ],
                ACQ: [("Freq", "288"), ("Phase", "224"), ("NEX", "1.00"), ("Phase FOV", "1.00")],
            },
        ),
    ],
)

# SIGNA Artist/GE_ProtocolExchange/adult_spine_A13_Neu_LumbarSpine_2022_20220730160157113_2.html: its first five
# series (the localizer, the sagittal T2, T2 FS and T1, and the axial T2 of the lumbar spine).
LUMBAR = (
    "adult_spine_A13_Neu_Lumbar Spine_2022",
    [
        (
            "LOCALISER",
            {
                IP: [("Imaging Mode", "2D"), ("Pulse Sequence", "Gradient Echo"), ("Imaging Options", "Seq, Fast")],
                SR: [("FOV", "48.0"), ("Slice Thickness", "10.00"), ("Slice Spacing", "0.0")],
                ACQ: [("Freq", "256"), ("Phase", "128"), ("NEX", "1.00"), ("Phase FOV", "1.00")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "ardl h SAG T2",
            {
                IP: [
                    ("Imaging Mode", "2D"),
                    ("Pulse Sequence", "FSE-XL"),
                    ("Imaging Options", "EDR, TRF, Fast, FR, ARC"),
                ],
                ST: [("Flip Angle", "160"), ("TE", "102.0"), ("TR", "2532.0"), ("Echo Train Length", "26")],
                SR: [
                    ("FOV", "30.0"),
                    ("Slice Thickness", "3.00"),
                    ("Slice Spacing", "0.3"),
                    ("Number of Slices", "20"),
                ],
                ACQ: [("Freq", "448"), ("Phase", "384"), ("NEX", "1.50"), ("Phase FOV", "1.00")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "ardl h SAG T2FS",
            {
                IP: [
                    ("Imaging Mode", "2D"),
                    ("Pulse Sequence", "FSE-XL"),
                    ("Imaging Options", "EDR, TRF, Fast, FR, ARC"),
                ],
                ST: [("Flip Angle", "160"), ("TE", "102.0"), ("TR", "2710.0"), ("Echo Train Length", "26")],
                SR: [
                    ("FOV", "30.0"),
                    ("Slice Thickness", "3.00"),
                    ("Slice Spacing", "0.3"),
                    ("Number of Slices", "20"),
                ],
                ACQ: [("Freq", "448"), ("Phase", "384"), ("NEX", "1.50"), ("Phase FOV", "1.00")],
                "SAT": [("Fat/Water Saturation", "Fat Classic")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "ardl m Sag T1",
            {
                IP: [
                    ("Imaging Mode", "2D"),
                    ("Pulse Sequence", "FSE-XL"),
                    ("Imaging Options", "FC, EDR, TRF, Fast, ARC"),
                ],
                ST: [("Flip Angle", "160"), ("TE", "Min Full"), ("TR", "486.0"), ("Echo Train Length", "5")],
                SR: [
                    ("FOV", "30.0"),
                    ("Slice Thickness", "3.00"),
                    ("Slice Spacing", "0.3"),
                    ("Number of Slices", "20"),
                ],
                ACQ: [("Freq", "384"), ("Phase", "288"), ("NEX", "1.50"), ("Phase FOV", "1.00")],
                CT: [("Contrast Yes/No", "No")],
            },
        ),
        (
            "ardl h Ax T2 FRFSE",
            {
                IP: [
                    ("Imaging Mode", "2D"),
                    ("Pulse Sequence", "FSE-XL"),
                    ("Imaging Options", "FC, EDR, TRF, Fast, ZIP1024, FR, ARC"),
                ],
                ST: [("Flip Angle", "160"), ("TE", "102.0"), ("TR", "5425.0"), ("Echo Train Length", "34")],
                SR: [
                    ("FOV", "20.0"),
                    ("Slice Thickness", "3.00"),
                    ("Slice Spacing", "0.0"),
                    ("Number of Slices", "40"),
                ],
                ACQ: [("Freq", "320"), ("Phase", "288"), ("NEX", "1.00"), ("Phase FOV", "1.00")],
            },
        ),
    ],
)


def _report(tmp_path, program: tuple[str, list]) -> str:
    """The fixture's HTML with its program line and series tables replaced by `program`'s, in the fixture's markup."""
    protocol, series = program
    text = LAYOUT.read_text(encoding="latin-1")
    assert "Protocol: adult_spine_Ultrafast 3 part w spine" in text
    head, first = text.split("<table border=1", 1)[0], "<table border=1" + text.split("<table border=1")[1]
    title = re.match(
        r"(<table border=1[^>]*><tr><th colspan=2[^>]*><font[^>]*>)TOP LOC - TOP LOC(</font></th></tr>)", first
    )
    section = re.search(
        r"(<tr><td width=50% valign=top align=left><table width=100%><tr><th align=left[^>]*><font[^>]*>)"
        r"IMAGING PARAMETERS(</font></th></tr>)",
        first,
    )
    row = re.search(
        r"(<tr><td[^>]*><font[^>]*><b>)Imaging Mode(</b></font></td><td[^>]*><font[^>]*>)2D(</font></td></tr>\n)", first
    )
    assert title and section and row
    tables = []
    for name, sections in series:
        cells = "".join(
            section.group(1)
            + heading
            + section.group(2)
            + "".join(row.group(1) + label + row.group(2) + value + row.group(3) for label, value in rows)
            + "</table></td></tr>"
            for heading, rows in sections.items()
        )
        tables.append(f"{title.group(1)}{name} - {name}{title.group(2)}{cells}</table><br><br>")
    head = head.replace("Protocol: adult_spine_Ultrafast 3 part w spine", f"Protocol: {protocol}")
    path = tmp_path / "report.html"
    path.write_text(head + "".join(tables) + "</body></html>", encoding="latin-1")
    return path


@pytest.mark.parametrize(
    ("program", "word"), [(AS_PROSTATE, "pelvis"), (KNEE, "extremities"), (GYN, "pelvis"), (MRCP, "abdomen")]
)
def test_a_library_program_of_another_region_fills_no_ofsep_slot_and_says_why(spec, tmp_path, program, word):
    """Every series of the prostate, knee, gynaecological pelvis and MRCP programs is read (the report's own
    values), placed in region "other" by the program line, and fills no brain or spinal cord slot; each unmatched
    series names that reason."""
    path = _report(tmp_path, program)
    [inspection] = inspect_path(path)
    assert [a.name.split(" - ")[0] for a in inspection.acquisitions] == [n for n, _ in program[1]]
    [exam] = split([inspection])
    for acq in exam.acquisitions:
        assert acq.region == "other", (acq.name, acq.region_reasons)
        assert any(f"the program path names '{word}'" in r for r in acq.region_reasons), acq.region_reasons
    report = check([inspection], spec)
    assert [s.id for s in report.sequences if s.matched] == []
    for _acq, why in report.unmatched:
        assert why.startswith("localizer") or f"vetoed: region other (the program path names '{word}'" in why, why


def test_an_exam_of_no_spec_region_says_so_and_is_no_pass(spec, tmp_path):
    """The prostate program holds no acquisition of the brain or the cord: the report says so once, with the
    regions found and why, instead of only listing the brain sequences as missing; it is no pass (exit 1)."""
    path = _report(tmp_path, AS_PROSTATE)
    report = check(inspect_path(path), spec)
    said = report.inferred["regions"]
    assert said.startswith("no acquisition of a region ofsep-2020 images (brain, spine): 5 of region other")
    assert "1 localizer(s) or calibration" in said and "This exam is no Brain MRI or Spinal cord MRI" in said
    assert "no sequence of this exam found" in report.inferred["variant brain"]
    assert report.status == "fail"
    result = CliRunner().invoke(main, ["check", str(path), "--spec", "ofsep-2020"])
    assert result.exit_code == 1
    assert "no acquisition of a region the spec images (see 'regions')" in result.output.splitlines()[-1]


def test_an_exam_with_spec_regions_says_nothing_of_the_kind(spec):
    """The whole-spine report itself fills spinal slots: no 'regions' statement."""
    report = check(inspect_path(LAYOUT), spec)
    assert any(s.matched for s in report.sequences)
    assert "regions" not in report.inferred


@pytest.mark.parametrize(
    "code",
    # CID 4031 (DCMTK cid4031.cc): ankle joint, wrist joint, pelvis, abdomen, pancreatic duct and bile duct systems
    # (SRT, as GE writes ANATOMY), and the SCT code of the ankle joint.
    ["T-15750", "T-15460", "T-D6000", "T-D4000", "T-65600", "70258002"],
)
def test_a_ge_export_filed_under_a_body_anatomy_code_fills_no_ofsep_slot(spec, tmp_path, code):
    """The real GE tar (LxProtocol per series, its head/spine coils kept) re-filed under a program whose name says
    nothing ("Routine") and an ANATOMY of CID 4031 outside the brain and spine: the anatomy code places every
    series in region "other" (the coil 'ctl' alone never outweighs it), and nothing fills an OFSEP slot. These
    codes were not in the vocabulary: the cord series filled the spinal slots."""
    tar = _repacked_ge(tmp_path, "Routine", code)
    [inspection] = inspect_path(tar)
    assert {a.context.get("anatomy") for a in inspection.acquisitions} == {code}
    [exam] = split([inspection])
    assert {a.region for a in exam.acquisitions} == {"other"}, [(a.name, a.region_reasons) for a in exam.acquisitions]
    assert all(any(f"anatomy code {code} → other" in r for r in a.region_reasons) for a in exam.acquisitions)
    report = check([inspection], spec)
    assert [s.id for s in report.sequences if s.matched] == []
    assert "regions" in report.inferred


def test_a_lumbar_spine_program_is_no_spinal_cord_exam(spec, tmp_path):
    """OFSEP's spinal exam is the cord: "IRM médullaire", "la totalité de la moelle en 2 ou 3 acquisitions" (seed
    001; ofsep-2020.yaml, exams.spine). The MR-AAT lumbar spine program ("adult_spine_A13_Neu_Lumbar Spine_2022": GE's
    spine folder, the lumbar spine named) images the lumbar spine alone: its sagittal T2 (20 slices of 3 mm, FOV
    30 cm) is no station of the cord, and the program is no spinal cord exam. Each series is of region "lumbar",
    the spine's generic word "spine" refined by "Lumbar"; nothing fills an OFSEP slot; the report lists the spinal
    cord exam (the one of the spine) as missing its sagittal T2 and says why."""
    path = _report(tmp_path, LUMBAR)
    [inspection] = inspect_path(path)
    [exam] = split([inspection])
    for acq in exam.acquisitions:
        assert acq.region == "lumbar", (acq.name, acq.region_reasons)
        assert "the program path names 'lumbar spine' → lumbar" in acq.region_reasons
    report = check([inspection], spec)
    assert [s.id for s in report.sequences if s.matched] == []
    assert [s.id for s in report.sequences if s.status == "missing"] == ["spine.t2_sag"]
    said = report.inferred["regions"]
    assert "4 of region lumbar, a part of the spine that no sequence of ofsep-2020 images alone" in said
    sag_t2 = next(why for a, why in report.unmatched if a.name.startswith("ardl h SAG T2 "))
    assert "vetoed: region lumbar (the program path names 'lumbar spine' → lumbar), not spine" in sag_t2, sag_t2


@pytest.mark.parametrize(
    ("series", "regions"),
    [
        # A cord program's lumbar station: the cord's own word wins, the station is the spine's.
        ([("\\\\USER\\Spine\\SEP moelle", {}, "T2 sag lombaire")], ["spine"]),
        ([("adult_spine_Whole spine MS", {}, "Sag T2 lumbar")], ["spine"]),
        # The column's generic word beside a part's, in the same text: the part.
        ([("\\\\USER\\Spine\\L-Spine", {}, "t2_tse_sag")], ["lumbar"]),
        ([("\\\\USER\\Wirbelsäule\\LWS", {}, "t2_tse_sag")], ["lumbar"]),
        ([("\\\\USER\\Wirbelsäule\\HWS", {}, "t2_tse_sag")], ["spine"]),
        # GE's "adult_spine_" folder filed under the lumbar spine's anatomy code (CID 4031 T-11503): the part;
        # under the cervical spine's (T-11501): the spine.
        ([("adult_spine_Routine", {"anatomy": "T-11503"}, "Sag T2")], ["lumbar"]),
        ([("adult_spine_Routine", {"anatomy": "T-11501"}, "Sag T2")], ["spine"]),
        # A series' own name does not refine its program: a station of a spine program.
        ([("adult_spine_Routine", {}, "Sag T2 cervical"), ("adult_spine_Routine", {}, "Sag T2 lumbar")], ["spine"] * 2),
        # A study whose stations are filed CSPINE, TSPINE and LSPINE (DICOM PS3.16 Annex L terms): one spine exam,
        # its lower station one of the cord's.
        (
            [(None, {"body_part": p}, f"T2 SAG {i}") for i, p in enumerate(("CSPINE", "TSPINE", "LSPINE"))],
            ["spine"] * 3,
        ),
        ([(None, {"body_part": "LSPINE"}, "T2 SAG")], ["lumbar"]),
        # A Philips card's coded region (scheme.code.meaning, CID 4031) with its anatomy word "Spine", the whole
        # column (Body Part Examined SPINE, CID 4031 T-D04FF): the coded part decides.
        ([("Routine", {"exam_region": "SRT.T-11503.Lumbar spine", "exam_anatomy": "Spine"}, "T2W_TSE")], ["lumbar"]),
        ([("Routine", {"exam_region": "SRT.T-11501.Cervical spine", "exam_anatomy": "Spine"}, "T2W_TSE")], ["spine"]),
        # A series of the generic folder alone (no code) beside the lumbar-coded one is no evidence of the cord's:
        # the lumbar series stays lumbar.
        (
            [("adult_spine_Routine", {"anatomy": "T-11503"}, "Sag T2"), ("adult_spine_Routine", {}, "Ax T2")],
            ["lumbar", "spine"],
        ),
    ],
)
def test_a_part_of_the_spine_named_beside_the_column_or_the_cord(series, regions):
    """The lumbar spine refines the spine (regions.yaml `refines`): stated with the column's generic words only it
    is the lumbar region; stated in a program or study whose own words or other series image the cord (a
    whole-spine or cord program's lumbar station) it is one station of the spine."""
    from ofsep_presets.acquisition import Acquisition, Inspection

    acqs = []
    for program, context, name in series:
        acq = Acquisition(name, {"acquisition_type": "2D", "orientation": "sagittal", "slice_thickness_mm": 3.0})
        acq.context.update(context)
        if program:
            acq.context["program"] = program
        acqs.append(acq)
    [exam] = split([Inspection("library", "ge-protocol", acquisitions=acqs)])
    assert [a.region for a in exam.acquisitions] == regions, [a.region_reasons for a in exam.acquisitions]


def test_a_ge_export_and_its_report_give_each_series_the_same_coil_and_region():
    """The GE 750 protocol.tar and the Protocol Exchange report printed from it (HTML, PDF): the report's "Coil
    Configuration" row prints the LxProtocol's COILCOMPONENT ("HNS CTL Spine;HNS Head/Neck/Chest"), the coil elements
    the series selects. Both are read as the series' coil evidence, before COIL (the configuration's name, "HNS
    Head" for the cord T2w), so each series has the same coil and region from either document."""
    folder = FIXTURES / "vendor-exports/ge/GE_750_no-FOCUS"
    lx = (folder / "protocol.tar").read_bytes()
    assert b'set COILCOMPONENT "HNS CTL Spine;HNS Head/Neck/Chest"' in lx and b'set COIL "HNS Head"' in lx
    html = (folder / "spine_generic_ge_750_no-FOCUS.html").read_text(encoding="latin-1")
    assert "HNS CTL Spine;HNS Head/Neck/Chest" in html

    def placed(name):
        [exam] = split(inspect_path(folder / name))
        return {a.name.split(" - ")[0]: (a.context.get("coil"), a.region) for a in exam.acquisitions}

    tar, report = placed("protocol.tar"), placed("spine_generic_ge_750_no-FOCUS.html")
    assert tar == report
    # The PDF print of the report wraps "HNS CTL Spine;HNS" / "Head/Neck/Chest" over two lines (pdftotext -layout);
    # the list continues below, the next row's value (a label of its own on its line) never does.
    assert placed("spine_generic_ge_750_no-FOCUS.pdf") == report
    assert tar["T2w"] == ("HNS CTL Spine;HNS Head/Neck/Chest", "spine")


def test_a_ge_export_filed_as_the_lumbar_spine_program_fills_no_spinal_cord_slot(spec, tmp_path):
    """The real GE tar re-filed as the MR-AAT lumbar program's session folder (the report's file name,
    "adult_spine_A13_Neu_LumbarSpine_2022_…", CamelCase words) with ANATOMY T-11503, lumbar spine (CID 4031): its
    cord series, spine-coil (HNS CTL Spine) included, are lumbar, as the report of the program is, and fill no
    OFSEP slot."""
    tar = _repacked_ge(tmp_path, "adult_spine_A13_Neu_LumbarSpine_2022_20220730160157113_2", "T-11503")
    [inspection] = inspect_path(tar)
    [exam] = split([inspection])
    assert {a.region for a in exam.acquisitions} == {"lumbar"}, [(a.name, a.region_reasons) for a in exam.acquisitions]
    report = check([inspection], spec)
    assert [s.id for s in report.sequences if s.matched] == []
    assert "of region lumbar" in report.inferred["regions"]
