"""Slot decisions on programs and studies like the ones nobody here has seen (issue 10's held-out kinds).

A clinical head study on a GE console: every series filed BodyPartExamined HEAD (what the console writes for the
head coil, a weak statement: regions.yaml `weak_terms`), named as the console's default protocols name them
("Sag T1 FLAIR", "Ax T1 SE +C": GE's own clinical names, as in ON-Harmony's and SOOP's GE sidecars), nothing
saying spine. Its 2D T1 series are no spinal sequence. Built from Acquisition objects, the values a GE DICOM
header states (family from the pulse sequence, plane from the orientation, contrast from the bolus agent).
"""

from __future__ import annotations

from ofsep_presets.acquisition import Acquisition, Inspection
from ofsep_presets.check import check
from ofsep_presets.match import explain


def _acq(name: str, **params) -> Acquisition:
    acq = Acquisition(name)
    for key, value in {"manufacturer": "ge", "field_strength_t": 1.5, **params}.items():
        acq.set(key, value, "test")
    return acq


def _head_study(filed: str | None = "HEAD") -> list[Acquisition]:
    two_d = {"acquisition_type": "2D", "slice_thickness_mm": 5.0, "slice_gap_mm": 1.0, "slices": 22}
    series = [
        _acq(
            "Sag T1 FLAIR",
            sequence_family="tse",
            orientation="sagittal",
            echo_time_ms=9.0,
            repetition_time_ms=2000.0,
            inversion_time_ms=860.0,
            fov_mm=[240.0, 240.0],
            series_number=2,
            **two_d,
        ),
        _acq(
            "Ax T2 FRFSE",
            sequence_family="tse",
            orientation="axial",
            echo_time_ms=100.0,
            repetition_time_ms=5000.0,
            fov_mm=[220.0, 220.0],
            series_number=3,
            **two_d,
        ),
        _acq(
            "Ax DWI",
            sequence_family="epi_dwi",
            orientation="axial",
            b_values=[0.0, 1000.0],
            fov_mm=[240.0, 240.0],
            series_number=4,
            **two_d,
        ),
        _acq(
            "Ax T1 SE +C",
            sequence_family="tse",
            orientation="axial",
            echo_time_ms=10.0,
            repetition_time_ms=500.0,
            fov_mm=[220.0, 220.0],
            contrast_agent=True,
            series_number=8,
            **two_d,
        ),
        _acq(
            "Sag T1 +C",
            sequence_family="tse",
            orientation="sagittal",
            echo_time_ms=10.0,
            repetition_time_ms=500.0,
            fov_mm=[240.0, 240.0],
            contrast_agent=True,
            series_number=9,
            **two_d,
        ),
    ]
    for acq in series:
        if filed:
            acq.context["body_part"] = filed
    return series


def _slots(report) -> dict[str, str]:
    return {s.id: s.matched[0].acquisition.name for s in report.sequences if s.matched}


def test_a_head_study_filed_head_throughout_fills_no_spinal_sequence(spec):
    report = check([Inspection("study", "dicom", acquisitions=_head_study())], spec)
    slots = _slots(report)
    assert slots == {"brain.pd_t2_2d": "Ax T2 FRFSE", "brain.dwi": "Ax DWI"}
    assert [v.key for v in report.variants] == ["brain-standard"]  # no spine exam inferred: nothing is missing there
    why = dict((a.name, w) for a, w in report.unmatched)
    assert "region brain" in why["Sag T1 +C"] and "region brain" in why["Ax T1 SE +C"]


def test_the_lean_needs_every_statement_to_agree(spec):
    """One series whose own slice stack rules the brain out (a sagittal cord T2 of 15 x 3 mm, 45 mm wide, filed HEAD
    as spine-generic sites file theirs) keeps the exam undecided: the series are matched as before."""
    study = _head_study()
    cord = _acq(
        "Sag T2 FSE",
        sequence_family="tse",
        orientation="sagittal",
        acquisition_type="2D",
        echo_time_ms=100.0,
        repetition_time_ms=3000.0,
        slice_thickness_mm=3.0,
        slice_gap_mm=0.0,
        slices=15,
        fov_mm=[240.0, 240.0],
        series_number=10,
    )
    cord.context["body_part"] = "HEAD"
    report = check([Inspection("study", "dicom", acquisitions=[*study, cord])], spec)
    assert _slots(report)["spine.t2_sag"] == "Sag T2 FSE"
    # Without any statement at all no series is placed; the exam still shows a brain exam (its DWI) and no spinal
    # one (no sagittal T2 of the cord, nothing placed in the spine): the 2D T1 +C series fill nothing, and say why.
    report = check([Inspection("study", "dicom", acquisitions=_head_study(filed=None))], spec)
    assert not any(slot.startswith("spine.") for slot in _slots(report))
    why = dict((a.name, w) for a, w in report.unmatched)
    assert why["Ax T1 SE +C"].startswith("fits spine.t1_ax_gd")
    assert "this input shows no Spinal cord MRI" in why["Ax T1 SE +C"]


def test_a_spinal_study_without_statements_keeps_its_axial_t2star_for_the_cord(spec):
    """A cord study named only by its console defaults (no body part, coil or program word): its sagittal T2 shows
    the spinal exam, nothing shows a brain one, so the axial T2* GRE (FoV 180 mm, 5 mm slices as spine-generic's
    cord GRE-ME) is the cord's, not the brain's."""
    two_d = {"acquisition_type": "2D", "slice_thickness_mm": 3.0}
    study = [
        _acq(
            "Sag T2 FSE",
            sequence_family="tse",
            orientation="sagittal",
            echo_time_ms=100.0,
            repetition_time_ms=3000.0,
            slices=15,
            fov_mm=[260.0, 260.0],
            **two_d,
        ),
        _acq(
            "Ax T2* GRE",
            sequence_family="gre",
            orientation="axial",
            echo_time_ms=20.0,
            repetition_time_ms=650.0,
            flip_angle_deg=20.0,
            slices=30,
            fov_mm=[180.0, 180.0],
            **{**two_d, "slice_thickness_mm": 5.0},
        ),
    ]
    slots = _slots(check([Inspection("study", "dicom", acquisitions=study)], spec))
    assert slots == {"spine.t2_sag": "Sag T2 FSE", "spine.t2star_ax": "Ax T2* GRE"}


def test_a_t1_flair_is_never_the_stir(spec):
    """STIR inverts at 130-250 ms (fat's null point); a T1-weighted FLAIR at 700-1000 ms: a spine program's
    "Sag T1 FLAIR" (TI 860) is not the sagittal STIR, its "Sag STIR" (TI 150) is."""
    two_d = {"acquisition_type": "2D", "orientation": "sagittal", "slice_thickness_mm": 3.0, "fov_mm": [300.0, 300.0]}
    spine = [
        _acq("Sag T2 FSE", sequence_family="tse", echo_time_ms=100.0, repetition_time_ms=3000.0, **two_d),
        _acq("Sag T1 FLAIR", sequence_family="tse", echo_time_ms=9.0, inversion_time_ms=860.0, **two_d),
        _acq("Sag STIR", sequence_family="stir", echo_time_ms=40.0, inversion_time_ms=150.0, **two_d),
    ]
    for acq in spine:
        acq.context["program"] = "C-Spine"
    report = check([Inspection("program", "ge-protocol-tar", acquisitions=spine)], spec)
    assert _slots(report)["spine.stir_sag"] == "Sag STIR"
    alone = check([Inspection("program", "ge-protocol-tar", acquisitions=spine[:2])], spec)
    assert "spine.stir_sag" not in _slots(alone)
    stir = next(e for e in explain(spine[1], spec) if e["sequence"] == "spine.stir_sag")
    assert stir["veto"].startswith("TI 860 ms: a long inversion")


def test_a_gradient_echo_named_t2_is_the_t2star():
    """Siemens names its T2* protocols "t2_fl2d_tra_hemo" and "t2_me2d_tra" (MEDIC), Philips its FFE "T2W_FFE": in a
    gradient echo "T2" can only mean T2* (matching-evidence.yaml `weighting_in_family`)."""
    from ofsep_presets.spec import load_spec

    spec = load_spec("ofsep-2020")
    brain = {"acquisition_type": "2D", "orientation": "axial", "slice_thickness_mm": 4.0, "fov_mm": [230.0, 230.0]}
    for name, family in (("t2_fl2d_tra_hemo", "t2star"), ("T2W_FFE", "gre")):
        acq = _acq(name, sequence_family=family, echo_time_ms=20.0, repetition_time_ms=620.0, **brain)
        t2star = next(e for e in explain(acq, spec) if e["sequence"] == "brain.t2star_2d")
        assert t2star["veto"] is None, (name, t2star)
    # A spin echo's "T2" stays T2: "t2_tse_tra" is never the T2* gradient echo.
    tse = _acq("t2_tse_tra", sequence_family="tse", echo_time_ms=96.0, repetition_time_ms=5000.0, **brain)
    assert next(e for e in explain(tse, spec) if e["sequence"] == "brain.t2star_2d")["veto"]


def test_a_localizer_stack_does_not_unsettle_the_exam_region(spec):
    """A GE program filed under the brain's anatomy code (T-A0100, the SRT code GE writes in ANATOMY) with its
    3-plane localizer (nine 8 mm slices, 72 mm across): the localizer's stack is no statement that the exam is not
    a brain one, so every series stays brain and the 2D T1 +C fills no spinal slot."""
    study = _head_study(filed=None)
    loc = _acq(
        "3-Plane Loc",
        sequence_family="gre",
        orientation="sagittal",
        acquisition_type="2D",
        slice_thickness_mm=8.0,
        slices=9,
        fov_mm=[240.0, 240.0],
        echo_time_ms=1.6,
        repetition_time_ms=5.0,
    )
    for acq in [loc, *study]:
        acq.context["anatomy"] = "T-A0100"
    report = check([Inspection("program", "ge-protocol-tar", acquisitions=[loc, *study])], spec)
    assert {a.region for a in study} == {"brain"}
    assert not any(slot.startswith("spine.") for slot in _slots(report))


def test_a_combined_card_whose_cord_series_alone_are_named_keeps_its_brain_series(spec):
    """One ExamCard for brain and cord ("de préférence lors du même examen", OFSEP), named by the operator in
    French: only the cord series carry a region word (CERVICAL, MOELLE). The 3D head slab (180 x 1 mm sagittal,
    FoV 256 mm) rules the spine out for the exam, so the unnamed axial DWI and T2* are not inherited as cord series."""
    common = {"manufacturer": "philips"}
    card = [
        _acq(
            "3D T1 SAG",
            sequence_family="mprage",
            acquisition_type="3D",
            orientation="sagittal",
            echo_time_ms=3.5,
            repetition_time_ms=7.8,
            inversion_time_ms=1000.0,
            slice_thickness_mm=1.0,
            slices=180,
            fov_mm=[256.0, 256.0],
            **common,
        ),
        _acq(
            "DIFFUSION AXIALE",
            sequence_family="epi_dwi",
            acquisition_type="2D",
            orientation="axial",
            slice_thickness_mm=3.0,
            slices=40,
            fov_mm=[230.0, 230.0],
            b_values=[0.0, 1000.0],
            **common,
        ),
        _acq(
            "T2 EG AX",
            sequence_family="gre",
            acquisition_type="2D",
            orientation="axial",
            echo_time_ms=16.0,
            repetition_time_ms=700.0,
            slice_thickness_mm=4.0,
            slices=30,
            fov_mm=[230.0, 230.0],
            **common,
        ),
        _acq(
            "T2 SAG CERVICAL",
            sequence_family="tse",
            acquisition_type="2D",
            orientation="sagittal",
            echo_time_ms=120.0,
            repetition_time_ms=3000.0,
            slice_thickness_mm=3.0,
            slices=13,
            fov_mm=[250.0, 250.0],
            **common,
        ),
        _acq(
            "T2 EG AX MOELLE",
            sequence_family="gre",
            acquisition_type="2D",
            orientation="axial",
            echo_time_ms=9.2,
            repetition_time_ms=750.0,
            slice_thickness_mm=3.0,
            slices=30,
            fov_mm=[180.0, 180.0],
            echo_times_ms=[4.6, 9.2, 13.8],
            **common,
        ),
    ]
    slots = _slots(check([Inspection("card", "philips-examcard", acquisitions=card)], spec))
    assert slots == {
        "brain.t1_3d": "3D T1 SAG",
        "brain.dwi": "DIFFUSION AXIALE",
        "brain.t2star_2d": "T2 EG AX",
        "spine.t2_sag": "T2 SAG CERVICAL",
        "spine.t2star_ax": "T2 EG AX MOELLE",
    }


def test_siemens_default_3d_flair_name_is_the_flair(spec, tmp_path):
    """Siemens' product 3D FLAIR is "t2_spc_da-fl_sag_p2_iso" ("da-fl": dark fluid). ARC's real sidecar carries that
    name plus a site suffix ("…_flair-waitforapprovaltouse"); with the product name alone it was classified SPACE
    by "spc" and filled brain.t2_3d, leaving the 3D FLAIR missing. Its own header says FLAIR: SE\\IR, TI 1800 ms,
    SequenceName *spcir (SPACE with inversion recovery)."""
    import json

    from ofsep_presets.families import Hints, classify
    from ofsep_presets.readers import inspect_path

    from .conftest import FIXTURES

    real = FIXTURES / "references/arc/sub-M2005/ses-5643/anat/sub-M2005_ses-5643_acq-spcir2p2_run-5_FLAIR.json"
    sidecar = json.loads(real.read_text())
    assert sidecar["SeriesDescription"].startswith("t2_spc_da-fl_sag_p2_iso")
    sidecar["SeriesDescription"] = sidecar["ProtocolName"] = "t2_spc_da-fl_sag_p2_iso"
    anat = tmp_path / "sub-01" / "anat"
    anat.mkdir(parents=True)
    (anat / "sub-01_acq-spc_T2w.json").write_text(json.dumps(sidecar))  # a curator's suffix that says nothing
    report = check(inspect_path(tmp_path / "sub-01"), spec)
    assert _slots(report) == {"brain.flair_3d": "sub-01_acq-spc_T2w"}
    # An export states the sequence file and TI, no ScanningSequence: the same protocol is the FLAIR too; a TI of
    # more than 1200 ms makes a turbo spin echo named only "spc"/"tse" fluid-attenuated, STIR's short TI does not.
    export = Hints(sequence_name="%SiemensSeq%\\tse_vfl", description="t2_spc_da-fl_sag_p2_iso", acquisition_type="3D")
    assert classify(export)[0] == "flair"
    named_space = Hints(
        sequence_name="*spcir_278ns", description="sag 3D", acquisition_type="3D", inversion_time_ms=2100.0
    )
    assert classify(named_space)[0] == "flair"
    assert classify(Hints(description="t2_spc_sag_p2_iso", acquisition_type="3D"))[0] == "space"
    assert classify(Hints(description="Sag T2 FSE", acquisition_type="2D", inversion_time_ms=160.0))[0] == "tse"


def _ge_report(protocol: str, series: list[tuple[str, list[tuple[str, str]]]]) -> str:
    """A GE Protocol Exchange report in the layout of the MR-AAT-IPEM reports (one table per series, a label cell
    and a value cell per row), holding only the rows given: our own file, not a console's."""

    def table(name: str, rows: list[tuple[str, str]]) -> str:
        cells = "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>\n" for k, v in rows)
        return (
            f"<table border=1><tr><th colspan=2>{name} - {name}</th></tr><tr><td><table><tr><th colspan=2>"
            f"IMAGING PARAMETERS</th></tr>{cells}</table></td></tr></table><br><br>"
        )

    body = "".join(table(n, r) for n, r in series)
    return f"<html><body><center><tr><b>Protocol: {protocol}</b><br></tr>{body}</center></body></html>"


def test_a_t1_flair_is_a_t1_weighted_turbo_spin_echo_and_can_be_the_spinal_post_contrast_t1(spec, tmp_path):
    """GE spine programs acquire the sagittal T1 as "T1 FLAIR" (FSE-IR, TI 860 ms: T1-weighted, fluid darkened
    only in passing); after gadolinium it is the sagittal post-contrast T1. It was classified FLAIR by its name and
    vetoed from every spinal T1 slot. A FLAIR proper nulls fluid at TI > 1200 ms; STIR nulls fat below 350 ms."""
    from ofsep_presets.families import Hints, classify
    from ofsep_presets.readers import inspect_path

    t1 = [
        ("Imaging Mode", "2D"),
        ("Pulse Sequence", "FSE-IR"),
        ("TE", "9.0"),
        ("TR", "2000.0"),
        ("TI", "860"),
        ("FOV", "24.0"),
        ("Slice Thickness", "3.00"),
        ("Number of Slices", "15"),
    ]
    report = tmp_path / "spine.html"
    report.write_text(
        _ge_report(
            "adult_spine_C-Spine MS",
            [
                (
                    "Sag T2 FSE",
                    [
                        ("Imaging Mode", "2D"),
                        ("Pulse Sequence", "FSE-XL"),
                        ("TE", "100.0"),
                        ("TR", "3000.0"),
                        ("FOV", "24.0"),
                        ("Slice Thickness", "3.00"),
                        ("Number of Slices", "15"),
                        ("Contrast Yes/No", "No"),
                    ],
                ),
                ("Sag T1 FLAIR", [*t1, ("Contrast Yes/No", "No")]),
                ("Sag T1 FLAIR +C", [*t1, ("Contrast Yes/No", "Yes")]),
            ],
        )
    )
    slots = _slots(check(inspect_path(report), spec))
    assert slots == {"spine.t2_sag": "Sag T2 FSE - Sag T2 FSE", "spine.t1_sag_gd": "Sag T1 FLAIR +C - Sag T1 FLAIR +C"}
    ir = {"scanning_sequence": "SE\\IR", "acquisition_type": "2D"}
    assert classify(Hints(description="T1W_IR", inversion_time_ms=800.0, **ir))[0] == "tse"
    assert classify(Hints(description="Sag T1 FLAIR +C", **ir))[0] == "tse"  # TI not stated: the name says T1
    assert classify(Hints(description="STIR_TSE", inversion_time_ms=160.0, **ir))[0] == "stir"
    assert classify(Hints(description="sag", inversion_time_ms=180.0, **ir))[0] == "stir"
    assert classify(Hints(description="T2_FLAIR_2D", inversion_time_ms=2712.0, **ir))[0] == "flair"


def test_console_default_names_read_as_words():
    """Names are matched as words ("_" and "-" become spaces), so the rules must not spell "_": Siemens' product
    "ep2d_diff_3scan_trace_p2" (SequenceName "*ep_b1000t") is a diffusion EPI even where no b-value is stated (a
    sidecar without its .bval), and "t2_star_tra" a T2*; "t1_tirm_tra" (TI 850 ms) is a T1-weighted inversion
    recovery, not a STIR. A BOLD EPI or a spin-echo field map stays "other"."""
    from ofsep_presets.families import Hints, classify

    epi = {"scanning_sequence": "EP", "acquisition_type": "2D"}
    dwi = classify(Hints(sequence_name="*ep_b1000t", description="ep2d_diff_3scan_trace_p2", **epi))
    assert dwi[0] == "epi_dwi"
    assert classify(Hints(sequence_name="*epfid2d1_64", description="ep2d_bold_moco", **epi))[0] == "other"
    assert classify(Hints(description="SpinEchoFieldMap_AP", **epi))[0] == "other"
    gre = {"scanning_sequence": "GR", "acquisition_type": "2D", "echo_time_ms": 20.0}
    assert classify(Hints(description="t2_star_tra", **gre))[0] == "t2star"
    tirm = {"scanning_sequence": "SE\\IR", "acquisition_type": "2D", "sequence_name": "*tir2d1_7"}
    assert classify(Hints(description="t1_tirm_tra", inversion_time_ms=850.0, **tirm))[0] == "tse"
    assert classify(Hints(description="t2_tirm_sag", inversion_time_ms=160.0, **tirm))[0] == "stir"


def test_bids_sidecars_state_their_image_type_and_part_as_the_dicom_does(spec, tmp_path):
    """dcm2niix copies the DICOM ImageType into the sidecar: SOOP's "Cor 3D Flair recon" is DERIVED\\SECONDARY\\MPR
    (a reformat made after the examination), never the 3D FLAIR acquisition, as the same DICOM series is not. A BIDS
    `part-phase` file holds the phase of an acquisition whose magnitude is its `part-mag` twin: not a repeat."""
    import json

    from ofsep_presets.readers import inspect_path

    from .conftest import FIXTURES

    soop = FIXTURES / "references/soop/sub-127"
    assert json.loads((soop / "anat/sub-127_FLAIR.json").read_text())["ImageType"][:3] == [
        "DERIVED",
        "SECONDARY",
        "MPR",
    ]
    report = check(inspect_path(soop), spec)
    assert _slots(report) == {}
    assert dict((a.name, w) for a, w in report.unmatched)["sub-127_FLAIR"].startswith("derived series: a reformat")
    swi = tmp_path / "sub-01" / "swi"
    swi.mkdir(parents=True)
    sidecar = {
        "Manufacturer": "Siemens",
        "MagneticFieldStrength": 3,
        "SeriesDescription": "t2_swi_tra_p2",
        "ScanningSequence": "GR",
        "SequenceVariant": "SP",
        "MRAcquisitionType": "3D",
        "EchoTime": 0.02,
        "RepetitionTime": 0.027,
        "FlipAngle": 15,
        "SliceThickness": 1.5,
        "ConversionSoftware": "dcm2niix",
        "ImageOrientationPatientDICOM": [1, 0, 0, 0, 1, 0],
    }
    (swi / "sub-01_part-mag_swi.json").write_text(json.dumps({**sidecar, "ImageType": ["ORIGINAL", "PRIMARY", "M"]}))
    (swi / "sub-01_part-phase_swi.json").write_text(json.dumps(sidecar))  # no ImageType: the entity alone
    report = check(inspect_path(tmp_path / "sub-01"), spec)
    assert _slots(report) == {"brain.swi": "sub-01_part-mag_swi"}
    assert dict((a.name, w) for a, w in report.unmatched)["sub-01_part-phase_swi"].startswith("phase images (BIDS")


def test_dir_in_a_name_is_a_double_inversion_only_when_it_says_so():
    """ "dir" alone names a double inversion recovery ("3D DIR", "t2_spc_ir_dir"), but research consoles name the
    phase-encoding direction BIDS-style ("cmrr_mbep2d_diff_dir-PA", "DWI_dir-AP") and clinical ones a direction
    count ("DTI 30 dir"): those are diffusion EPIs (where no b-value is stated, the name is all there is)."""
    from ofsep_presets.families import Hints, classify

    epi = {"scanning_sequence": "EP", "acquisition_type": "2D"}
    for name in ("cmrr_mbep2d_diff_dir-PA", "DWI_dir-AP", "DTI 30 dir", "DTI_64_dir"):
        assert classify(Hints(description=name, **epi))[0] == "epi_dwi", name
    assert classify(Hints(description="rfMRI_REST_dir-AP", **epi))[0] == "other"
    ir = {"scanning_sequence": "SE\\IR", "acquisition_type": "3D"}
    for name in ("3D DIR", "t2_spc_ir_dir", "DIR_SPACE", "t2_dir_tra"):
        assert classify(Hints(description=name, **ir))[0] == "dir", name


def test_program_trees_in_the_consoles_other_languages_place_their_series(spec):
    """A Siemens console set to German files its programs under "Kopf", "Wirbelsäule" (HWS/BWS/LWS: cervical,
    thoracic, lumbar spine) and "Knie"; Spanish and Italian consoles under "Cabeza"/"Columna", "Encefalo"/"Rachide".
    The program path is then region evidence as "Head" / "Spine" / "Knee" are."""
    t2 = {
        "sequence_family": "tse",
        "acquisition_type": "2D",
        "orientation": "sagittal",
        "echo_time_ms": 100.0,
        "repetition_time_ms": 3500.0,
        "slice_thickness_mm": 3.0,
        "slices": 15,
        "fov_mm": [250.0, 250.0],
    }
    for path, region in (
        ("\\\\USER\\Kopf\\MS", "brain"),
        ("\\\\USER\\Wirbelsäule\\HWS", "spine"),
        ("\\\\USER\\Knie", "other"),
        ("\\\\USER\\Cabeza\\EM", "brain"),
        ("\\\\USER\\Columna\\Cervical", "spine"),
        ("\\\\USER\\Rachide", "spine"),
    ):
        acq = _acq("t2_tse_sag", manufacturer="siemens", **t2)
        acq.context["program"] = path
        check([Inspection("library", "siemens-exar1", acquisitions=[acq])], spec)
        assert acq.region == region, (path, acq.region_reasons)


def test_ge_oblique_plane_prefixes_are_planes(spec, tmp_path):
    """GE consoles name an oblique slab "OAx", "OSag", "OCor". In a report printed without its plane rows the name
    is the only statement of the plane: "OAx T2 FRFSE" is axial, never a sagittal spinal station."""
    from ofsep_presets.readers import inspect_path

    fse = [
        ("Imaging Mode", "2D"),
        ("Pulse Sequence", "FSE-XL"),
        ("TE", "100.0"),
        ("TR", "4000.0"),
        ("FOV", "26.0"),
        ("Slice Thickness", "3.00"),
        ("Number of Slices", "15"),
        ("Contrast Yes/No", "No"),
    ]
    report = tmp_path / "cspine.html"
    report.write_text(_ge_report("adult_spine_C-Spine", [("Sag T2 FSE", fse), ("OAx T2 FRFSE", fse)]))
    result = check(inspect_path(report), spec)
    t2 = next(s for s in result.sequences if s.id == "spine.t2_sag")
    assert [m.acquisition.name for m in t2.matched] == ["Sag T2 FSE - Sag T2 FSE"]  # one station, not two


def test_a_head_program_holding_the_cord_series_too(spec):
    """OFSEP asks for brain and cord in one session; a site keeps both in one program of its Siemens Head folder.
    Its series named for the cord ("t2_tse_sag_C-spine", "t2_tirm_sag_C-spine") are cord series, and the folder
    then places no series by itself: the unnamed 3 mm sagittal T1 +C goes to the spinal slot it is,
    while the brain's own 2D sagittal T1 +C (23 x 6 mm = 138 mm across: wider than a spinal column) is no spinal
    station."""
    program = "\\\\USER\\Head\\SEP"
    sag = {"acquisition_type": "2D", "orientation": "sagittal", "manufacturer": "siemens"}
    series = [
        _acq(
            "t1_mprage_sag_p2_iso",
            sequence_family="mprage",
            acquisition_type="3D",
            orientation="sagittal",
            echo_time_ms=2.98,
            repetition_time_ms=2300.0,
            inversion_time_ms=900.0,
            slice_thickness_mm=1.0,
            slices=176,
            fov_mm=[256.0, 256.0],
            manufacturer="siemens",
        ),
        _acq(
            "t1_se_sag_post",
            sequence_family="tse",
            echo_time_ms=9.0,
            repetition_time_ms=550.0,
            slice_thickness_mm=5.0,
            slice_gap_mm=1.0,
            slices=23,
            fov_mm=[240.0, 240.0],
            contrast_agent=True,
            **sag,
        ),
        _acq(
            "t2_tse_sag_C-spine",
            sequence_family="tse",
            echo_time_ms=100.0,
            repetition_time_ms=3500.0,
            slice_thickness_mm=3.0,
            slices=15,
            fov_mm=[250.0, 250.0],
            **sag,
        ),
        _acq(
            "t2_tirm_sag_C-spine",
            sequence_family="stir",
            echo_time_ms=50.0,
            repetition_time_ms=4000.0,
            inversion_time_ms=160.0,
            slice_thickness_mm=3.0,
            slices=15,
            fov_mm=[250.0, 250.0],
            **sag,
        ),
        _acq(
            "t1_tse_sag_post",
            sequence_family="tse",
            echo_time_ms=10.0,
            repetition_time_ms=600.0,
            slice_thickness_mm=3.0,
            slices=15,
            fov_mm=[250.0, 250.0],
            contrast_agent=True,
            **sag,
        ),
    ]
    for acq in series:
        acq.context["program"] = program
    report = check([Inspection("library", "siemens-exar1", acquisitions=series)], spec)
    matched = {s.id: [m.acquisition.name for m in s.matched] for s in report.sequences if s.matched}
    assert matched == {
        "brain.t1_3d": ["t1_mprage_sag_p2_iso"],
        "spine.t2_sag": ["t2_tse_sag_C-spine"],
        "spine.stir_sag": ["t2_tirm_sag_C-spine"],
        "spine.t1_sag_gd": ["t1_tse_sag_post"],
    }
    assert "wider than a spine" in dict((a.name, w) for a, w in report.unmatched)["t1_se_sag_post"]


def test_planning_scans_of_other_names_are_localizers(spec):
    """Philips SmartExam plans a brain from a low-resolution 3D T1-FFE named "SmartBrain"; older consoles call
    their localizer "tripilot". Such a scan is no 3D T1 even when nothing else is: the 3D T1 is then missing."""
    smart = _acq(
        "SmartBrain",
        sequence_family="spgr",
        acquisition_type="3D",
        orientation="sagittal",
        echo_time_ms=2.3,
        repetition_time_ms=6.0,
        slice_thickness_mm=2.0,
        slices=90,
        fov_mm=[250.0, 250.0],
        manufacturer="philips",
    )
    flair = _acq(
        "3D_FLAIR",
        sequence_family="flair",
        acquisition_type="3D",
        orientation="sagittal",
        echo_time_ms=330.0,
        repetition_time_ms=4800.0,
        inversion_time_ms=1650.0,
        slice_thickness_mm=1.0,
        slices=320,
        fov_mm=[250.0, 250.0],
        manufacturer="philips",
    )
    pilot = _acq(
        "tripilot",
        sequence_family="gre",
        acquisition_type="2D",
        orientation="sagittal",
        slice_thickness_mm=8.0,
        slices=3,
        fov_mm=[280.0, 280.0],
        manufacturer="philips",
    )
    for acq in (smart, flair, pilot):
        acq.context["exam_anatomy"] = "Head"
    report = check([Inspection("card", "philips-examcard", acquisitions=[smart, pilot, flair])], spec)
    assert _slots(report) == {"brain.flair_3d": "3D_FLAIR"}
    why = dict((a.name, w) for a, w in report.unmatched)
    assert why["SmartBrain"] == why["tripilot"] == "localizer or calibration"


def test_a_neuro_folder_names_no_region(spec):
    """A console's Neuro folder holds brain and spine programs alike: "\\\\USER\\Neuro\\Spine\\C-spine" is a spine
    program (the word "neuro" had made it brain too, so its region was split and left undecided)."""
    acq = _acq(
        "t2_tse_sag",
        sequence_family="tse",
        acquisition_type="2D",
        orientation="sagittal",
        echo_time_ms=100.0,
        repetition_time_ms=3500.0,
        slice_thickness_mm=3.0,
        slices=15,
        fov_mm=[250.0, 250.0],
        manufacturer="siemens",
    )
    acq.context["program"] = "\\\\USER\\Neuro\\Spine\\C-spine"
    check([Inspection("library", "siemens-exar1", acquisitions=[acq])], spec)
    assert acq.region == "spine", acq.region_reasons


def test_an_injection_pause_named_in_the_sites_language_marks_the_post_contrast_steps(spec):
    """A Siemens program's pause step for the injection, named as a German or Italian site names it:
    "Kontrastmittel" (German: contrast medium, "KM"), "mezzo di contrasto" (Italian), "Injection Dotarem"
    (French, with the agent) — the words matching-evidence.yaml `contrast_names` already reads. A pause states no
    acquisition: it is the injection step, and the MPRAGE repeated after it is the post-contrast 3D T1, not a
    repeat. A series whose name says "KM" but which acquires images is never taken for the injection."""
    three_d = {
        "sequence_family": "mprage",
        "acquisition_type": "3D",
        "orientation": "sagittal",
        "slice_thickness_mm": 1.0,
        "slice_gap_mm": 0.0,
        "voxel_size_mm": [1.0, 1.0, 1.0],
        "inversion_time_ms": 900.0,
        "repetition_time_ms": 2300.0,
        "echo_time_ms": 2.3,
        "fov_mm": [256.0, 256.0],
        "slices": 176,
    }
    for pause in ("Kontrastmittel", "mezzo di contrasto", "Injection Dotarem"):
        series = [
            _acq("t1_mprage_sag_p2_iso", manufacturer="siemens", **three_d),
            Acquisition(pause),
            _acq("t1_mprage_sag_p2_iso", manufacturer="siemens", **three_d),
        ]
        for acq in series:
            acq.context["program"] = "\\\\USER\\\\Kopf\\\\MS"
        report = check([Inspection(source="program", format="siemens-exar1", acquisitions=series)], spec)
        slots = _slots(report)
        assert slots.get("brain.t1_3d") and slots.get("brain.t1_3d_gd"), (pause, slots)
        assert (pause, "injection step") in [(a.name, w) for a, w in report.unmatched]
    named = _acq("T1 post KM", manufacturer="siemens", **three_d)
    from ofsep_presets.match import is_injection_step

    assert not is_injection_step(named)
    # A printed step read without its values still names a series when its name states a weighting or a plane.
    assert not any(is_injection_step(Acquisition(n)) for n in ("T1_POST_GADO", "post_gado_t1", "AX T1 +C"))
