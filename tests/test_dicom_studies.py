"""`check` of whole DICOM studies: what a real study holds besides its acquisitions (reformats, projections, the
unfiltered copy of a series, phase images, post-contrast series named in the console's way) never fills a slot,
and says why. Each study is built from real fixture series (tests/dicom_study.py); every element a test sets is
the one a console writes, with its source cited beside it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ofsep_presets.acquisition import Acquisition
from ofsep_presets.cli import main
from ofsep_presets.match import contrast_phases

from .dicom_study import Study, fixture_files, read
from .dicom_study import check_report as _report
from .dicom_study import slot as _slot

T1 = "Siemens/XA30_classic_T1w_MPRAGE_tfl3d_2mm"
DWI = "Siemens/XA30_classic_DWI_dir80_AP"
ADC = "Siemens/XA30_classic_DWI_dir80_AP_ADC"
PHILIPS_T1 = "Philips/Ingenia_classic_ADNI_Sag3D_MPRAGE_1mm"


def test_reformats_projections_phase_and_unfiltered_copies_never_fill_a_slot(tmp_path):
    original = read(fixture_files(T1)[0])
    # The acquisition's own header: original images (PS3.3 C.7.6.1.1.2 value 1), distortion-corrected (DIS2D).
    assert list(original.ImageType)[:2] == ["ORIGINAL", "PRIMARY"] and "DIS2D" in original.ImageType
    study = Study(tmp_path)
    study.add(T1, original.SeriesNumber)
    study.add(DWI, read(fixture_files(DWI)[0]).SeriesNumber)
    study.add(ADC, read(fixture_files(ADC)[0]).SeriesNumber)
    # Inline reformats and projections: ImageType value 1 DERIVED (C.7.6.1.1.2), value 3 MPR / PROJECTION IMAGE
    # (MR Image Type, C.8.3.1.1.1); Siemens names them "<protocol>_MPR_tra".
    study.add(T1, 5002, "anat-T1w_acq-tfl_MPR_tra", image_type=["DERIVED", "PRIMARY", "MPR", "NORM", "DIS2D"])
    study.add(T1, 5003, "anat-T1w_acq-tfl_MIP", image_type=["DERIVED", "PRIMARY", "PROJECTION IMAGE", "DIS2D"])
    # The unfiltered copy Siemens stores beside the corrected images: ND ("no distortion correction") in place of
    # DIS2D, named "…_ND" (ReproNim/reproin issue 58, XA30), the same acquisition (its AcquisitionTime unchanged).
    study.add(T1, 5004, "anat-T1w_acq-tfl_ND", image_type=["ORIGINAL", "PRIMARY", "M", "ND"])
    # A phase series of the same acquisition: value 3 "P" and PHASE, as Siemens writes it (dcm2niix sidecar of a
    # Prisma gre_field_mapping phase series: ["ORIGINAL", "PRIMARY", "P", "ND", "PHASE"]).
    study.add(T1, 5005, "anat-T1w_acq-tfl_Pha", image_type=["ORIGINAL", "PRIMARY", "P", "ND", "PHASE"])
    doc = _report(tmp_path)
    assert _slot(doc, "brain.t1_3d") == f"{original.SeriesNumber} {original.SeriesDescription}"
    assert _slot(doc, "brain.dti") is None and _slot(doc, "brain.t1_3d_gd") is None
    why = doc["unmatched_reasons"]
    assert "derived series" in why["5002 anat-T1w_acq-tfl_MPR_tra"] and "MPR" in why["5002 anat-T1w_acq-tfl_MPR_tra"]
    assert "projection" in why["5003 anat-T1w_acq-tfl_MIP"]
    assert why["5004 anat-T1w_acq-tfl_ND"].startswith(
        f"another image series of the acquisition '{original.SeriesNumber}"
    )
    assert "ND: without distortion correction" in why["5004 anat-T1w_acq-tfl_ND"]
    assert why["5005 anat-T1w_acq-tfl_Pha"].startswith("phase images")
    assert not any(w.startswith("repeat") for w in why.values())  # none of them is a second acquisition
    # The ADC map is derived too, and still there for the session rule that needs it.
    assert any(r["rule"].startswith("ADC map") and r["status"] == "pass" for r in doc["session"])


def test_a_diffusion_series_stored_twice_is_one_acquisition_not_the_dti(tmp_path):
    dwi = read(fixture_files(DWI)[0])
    study = Study(tmp_path)
    study.add(DWI, dwi.SeriesNumber)
    study.add(DWI, dwi.SeriesNumber + 1, f"{dwi.SeriesDescription}_ND")  # same AcquisitionTime: one acquisition
    doc = _report(tmp_path)
    assert _slot(doc, "brain.dwi") == f"{dwi.SeriesNumber} {dwi.SeriesDescription}"
    assert _slot(doc, "brain.dti") is None  # 80 directions would fit it: only a second acquisition may take it
    assert doc["unmatched_reasons"][f"{dwi.SeriesNumber + 1} {dwi.SeriesDescription}_ND"].startswith(
        "another image series of the acquisition"
    )


def test_a_post_contrast_name_outranks_the_empty_contrast_agent_philips_writes(tmp_path):
    header = read(fixture_files(PHILIPS_T1)[0])
    # The real Philips header writes (0018,0010) present and empty (Type 2, PS3.3 C.7.6.4): nothing was entered.
    assert "ContrastBolusAgent" in header and not str(header.ContrastBolusAgent).strip()
    study = Study(tmp_path)
    study.add(PHILIPS_T1, header.SeriesNumber)
    # The same program run after the injection, renamed at the console, acquired later.
    study.add(PHILIPS_T1, 1801, "T1_3D_TFE_GADO", AcquisitionTime="133512.00")
    doc = _report(tmp_path)
    assert _slot(doc, "brain.t1_3d") == f"{header.SeriesNumber} {header.SeriesDescription}"
    assert _slot(doc, "brain.t1_3d_gd") == "1801 T1_3D_TFE_GADO"
    # Its contrast rule is judged on that evidence, not on the empty agent's implied "no" (it failed the slot).
    [seq] = [s for s in doc["sequences"] if s["id"] == "brain.t1_3d_gd"]
    [rule] = [c for c in seq["checks"] if c["param"] == "contrast_agent"]
    assert rule["status"] == "pass" and "name says post-contrast" in rule["provenance"]


@pytest.mark.parametrize(
    "agent, elements, state",
    [
        ("Gadovist", {}, "post"),  # a product name in (0018,0010)
        ("", {"ContrastBolusIngredient": "GADOLINIUM"}, "post"),  # (0018,1048) defined term, C.7.6.4
        ("", {"ContrastBolusVolume": "7.5"}, "post"),  # (0018,1041) in ml
        ("NONE", {}, "pre"),  # an agent naming none: stated
        # (0018,1042) ContrastBolusStartTime: the injection started after this series (AcquisitionTime 19:36:47 in
        # the fixture's header), or before it.
        ("Gadovist", {"ContrastBolusStartTime": "195000"}, "pre"),
        ("Gadovist", {"ContrastBolusStartTime": "193000"}, "post"),
    ],
)
def test_the_contrast_bolus_module_states_the_injection(tmp_path, agent, elements, state):
    assert read(fixture_files(T1)[0]).AcquisitionTime.startswith("1936")
    study = Study(tmp_path)
    study.add(T1, 7, "t1_mprage_sag", ContrastBolusAgent=agent, limit=1, **elements)
    from ofsep_presets.readers import inspect_path

    [acq] = [a for i in inspect_path(tmp_path) for a in i.acquisitions]
    [phase] = contrast_phases([acq])
    assert phase.state == state, (acq.provenance.get("contrast_agent"), phase)
    assert not acq.provenance["contrast_agent"].startswith("implied")


@pytest.mark.parametrize(
    "name, state",
    [
        ("t1_mprage_sag_GD", "post"),
        ("T1_POST_GADO", "post"),
        ("3D_T1_TFE_+C", "post"),
        ("AX_T1_C+", "post"),
        ("t1_mpr_injecte", "post"),
        ("T1 3D injecté", "post"),
        ("post_gado_t1", "post"),
        ("t1_mprage_pre_gd", "pre"),
        ("T1_3D_SANS_GADO", "pre"),
        ("T1 MPR nach KM", "post"),
        ("T1_MPR_ohne_KM", "pre"),
        ("3D T1 PDC", "post"),
        ("T1 3D senza MDC", "pre"),
    ],
)
def test_post_contrast_names_as_consoles_write_them(name, state):
    acq = Acquisition(f"12 {name}")
    [phase] = contrast_phases([acq])
    assert phase.state == state, phase


def test_a_workstation_reformat_and_a_screen_save_stay_in_the_study_they_were_made_in(tmp_path):
    t1, dwi = read(fixture_files(T1)[0]), read(fixture_files(DWI)[0])
    assert t1.StudyInstanceUID == dwi.StudyInstanceUID  # one study, one scanner (the fixture's own headers)
    study = Study(tmp_path)
    study.add(T1, t1.SeriesNumber)
    study.add(DWI, dwi.SeriesNumber)
    # A reformat written by a post-processing workstation into the same study: DERIVED\SECONDARY (PS3.3
    # C.7.6.1.1.2: SECONDARY = created after the examination), under the workstation's own model, station and
    # serial (the General Equipment module, C.7.5.1, describes the device that produced the series).
    study.add(
        T1,
        601,
        "anat-T1w_acq-tfl_MPR_ax",
        image_type=["DERIVED", "SECONDARY", "MPR"],
        ManufacturerModelName="syngo.via",
        StationName="SYNGOVIA01",
        DeviceSerialNumber="123456",
    )

    def screen_save(ds, _):  # a Secondary Capture Image (PS3.4 B.5: SOP class 1.2.840.10008.5.1.4.1.1.7)
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"

    study.add(T1, 99, "Screen Save", edit=screen_save, limit=1)
    doc = _report(tmp_path)  # one exam: no "several exams" refusal (exit 2)
    assert doc["exam"]["kind"] == "DICOM study" and "3 acquisition(s)" in doc["exam"]["label"]
    assert _slot(doc, "brain.t1_3d") == f"{t1.SeriesNumber} {t1.SeriesDescription}"
    assert doc["unmatched_reasons"]["601 anat-T1w_acq-tfl_MPR_ax"].startswith("derived series")
    assert "1 DICOM object(s) that are not MR images ignored: 1 Secondary Capture Image" in doc["warnings"]


def test_a_brain_and_a_spine_study_on_one_scanner_the_same_day_are_two_exams(tmp_path):
    t1 = read(fixture_files(T1)[0])
    study = Study(tmp_path)
    study.add(T1, t1.SeriesNumber)
    # A second study on the same scanner: its own StudyInstanceUID (PS3.3 C.7.2.1), the same equipment.
    spine = Study(tmp_path, study_uid="1.2.826.0.1.3680043.8.498.10000000000000000000000000000000000001")
    spine.count = 100
    spine.add(T1, 2, "t2_tse_sag_cervical", BodyPartExamined="CSPINE")
    result = CliRunner().invoke(main, ["check", "--quiet", str(tmp_path)])
    assert result.exit_code == 2 and "2 exams" in result.stderr, result.output
    each = CliRunner().invoke(main, ["check", "--quiet", str(tmp_path), "--each", "--format", "json"])
    reports = json.loads(each.stdout)
    assert len(reports) == 2 and {r["exam"]["of"] for r in reports} == {2}


@pytest.mark.parametrize("series", ["Siemens/XA30_enh_DWI_dir80_PA", "Canon/Galan3T_V6.1_enh_DTI_PA-ortho_full"])
def test_an_enhanced_object_has_the_acquisition_time_dcm2niix_reads_from_it(series):
    from ofsep_presets.readers import inspect_path

    from .dicom_study import DICOM

    [sidecar] = (DICOM / series / "bids_json_dcm2niix").glob("*.json")
    truth = json.loads(sidecar.read_text())["AcquisitionTime"]
    assert "AcquisitionTime" not in read(fixture_files(series)[0])  # enhanced: only AcquisitionDateTime
    [acq] = [a for i in inspect_path(DICOM / series) if i.format == "dicom" for a in i.acquisitions]
    assert acq.get("acquisition_time") == truth


def test_ge_protocol_name_is_the_exam_s_never_one_series_own(tmp_path):
    t1, dwi = (
        read(fixture_files(s)[0])
        for s in ("GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm", "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full")
    )
    # GE's own headers: one ProtocolName (0018,1030) on an MP-RAGE and on a DWI of the exam, the exam's protocol.
    assert t1.ProtocolName == dwi.ProtocolName and t1.SeriesDescription != dwi.SeriesDescription
    study = Study(tmp_path)
    study.add("GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm", t1.SeriesNumber, ProtocolName="SEP SWAN DWI FLAIR")
    doc = _report(tmp_path)
    assert _slot(doc, "brain.t1_3d") == f"{t1.SeriesNumber} {t1.SeriesDescription}"
    assert _slot(doc, "brain.swi") is None and _slot(doc, "brain.flair_3d") is None


@pytest.mark.parametrize(
    "description, image_type",
    [
        ("DWI_dir80_AP_ADC", ["ORIGINAL", "PRIMARY", "DIFFUSION", "NONE"]),  # dcm2niix reproin: "_ADC" is derived
        ("Apparent Diffusion Coefficient (mm2/s)", ["DERIVED", "PRIMARY", "OTHER"]),  # a console's computed map
    ],
)
def test_an_adc_map_named_so_is_a_map_for_the_session_rule(tmp_path, description, image_type):
    dwi = read(fixture_files(DWI)[0])
    study = Study(tmp_path)
    study.add(DWI, dwi.SeriesNumber)
    study.add(ADC, dwi.SeriesNumber + 1000, description, image_type=image_type)
    doc = _report(tmp_path)
    assert _slot(doc, "brain.dwi") == f"{dwi.SeriesNumber} {dwi.SeriesDescription}"
    assert doc["derived_maps"] == [f"{dwi.SeriesNumber + 1000} {description}"]
    assert any(r["rule"].startswith("ADC map") and r["status"] == "pass" for r in doc["session"])


def test_a_diffusion_series_holding_its_adc_images_stays_the_dwi(tmp_path):
    philips = "Philips/Ingenia_classic_DTI_Biobank_2mm_full"
    first = read(fixture_files(philips)[0])
    assert "M_SE" in first.ImageType  # the acquisition's magnitude images (the real header)

    def adc_inside(ds, i):  # the last files: the derived map the console stored in the DWI series itself
        if i >= 530 and ds.get("SOPClassUID") == first.SOPClassUID:
            ds.ImageType = ["ORIGINAL", "PRIMARY", "ADC_UNSPECIFIED", "ADC", "UNSPECIFIED"]

    Study(tmp_path / "with").add(philips, first.SeriesNumber, edit=adc_inside)
    Study(tmp_path / "without").add(philips, first.SeriesNumber)
    doc, control = _report(tmp_path / "with"), _report(tmp_path / "without")
    name = f"{first.SeriesNumber} {first.SeriesDescription}"
    assert _slot(control, "brain.dti") == name  # the 12-direction series (test_inspect_dicom: dcm2niix's bvec)
    assert _slot(doc, "brain.dti") == name and doc["derived_maps"] == []


@pytest.mark.parametrize(
    "description, image_type, derived",
    [  # Siemens ImageType values as a Prisma writes them (Open-Minds-Lab/mrQA issue 49)
        ("AAHead_Scout_64ch-head-coil_MPR_cor", ["DERIVED", "PRIMARY", "MPR", "ND", "NORM"], True),
        ("T2w_FLAIR", ["ORIGINAL", "PRIMARY", "M", "NORM", "DIS2D"], False),
        ("asl_3d_MedAir", ["ORIGINAL", "PRIMARY", "ASL", "NONE", "ND", "NORM", "MOSAIC"], False),
        ("Perfusion_Weighted", ["DERIVED", "PRIMARY", "ASL", "ND", "NORM", "SUB", "TTEST", "MOSAIC"], True),
        ("MoCoSeries", ["ORIGINAL", "PRIMARY", "M", "ND", "NORM", "MOCO", "MOSAIC"], True),  # MOCO though ORIGINAL
        # Value 2 SECONDARY (PS3.3 C.7.6.1.1.2: created after the examination), even beside an ORIGINAL value 1.
        ("t1_reformat", ["ORIGINAL", "SECONDARY", "OTHER"], True),
    ],
)
def test_what_imagetype_says_a_series_is(tmp_path, description, image_type, derived):
    from ofsep_presets.match import derived_reason
    from ofsep_presets.readers import inspect_path

    Study(tmp_path).add(T1, 40, description, image_type=image_type, limit=1)
    [acq] = [a for i in inspect_path(tmp_path) for a in i.acquisitions]
    assert (derived_reason(acq) is not None) == derived, derived_reason(acq)


def test_an_fmri_epi_says_no_protocol_sequence_is_of_its_kind():
    from .dicom_study import DICOM

    series = "Siemens/VB17_EPI_TrioTim_jpeg_ls_ts"
    header = read(fixture_files(series)[0])
    # The header: echo-planar (ScanningSequence EP), the gradient-echo EPI readout of BOLD (Siemens *epfid2d).
    assert "EP" in header.ScanningSequence and header.SequenceName.startswith("*epfid2d")
    doc = _report(DICOM / series)
    [why] = doc["unmatched_reasons"].values()
    assert why.startswith("no protocol sequence is of its kind") and "echo-planar, no diffusion" in why


def test_two_protocols_with_one_acquisition_time_are_two_acquisitions(tmp_path):
    # De-identification may set every time alike; two series of two protocols (ProtocolName (0018,1030) names
    # each series' protocol on Siemens) are still two acquisitions, never one stored twice.
    study = Study(tmp_path)
    study.add(T1, 5001, "t1_mprage_sag", ProtocolName="t1_mprage_sag", AcquisitionTime="120000.000000")
    study.add(T1, 6001, "t1_mprage_sag_bis", ProtocolName="t1_mprage_sag_bis", AcquisitionTime="120000.000000")
    doc = _report(tmp_path)
    assert _slot(doc, "brain.t1_3d") == "5001 t1_mprage_sag"
    assert not doc["unmatched_reasons"]["6001 t1_mprage_sag_bis"].startswith("another image series")


def test_ge_filtered_images_written_derived_are_the_acquisition(tmp_path):
    from .conftest import FIXTURES

    # GE writes DERIVED\PRIMARY\OTHER on the corrected images of an acquisition itself, named "SC:<protocol>"
    # (spine-generic chiba750, GE Discovery MR750: its T1w and T2w sidecars, dcm2niix's reading of the headers).
    chiba = json.loads(
        (FIXTURES / "bids/spine-generic-single-subject/sub-chiba750/anat/sub-chiba750_T1w.json").read_text()
    )
    assert chiba["Manufacturer"] == "GE" and chiba["ImageType"] == ["DERIVED", "PRIMARY", "OTHER"]
    assert chiba["SeriesDescription"].startswith("SC:")
    series = "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"
    t1 = read(fixture_files(series)[0])
    study = Study(tmp_path)
    study.add(series, t1.SeriesNumber, f"SC:{t1.SeriesDescription}", image_type=list(chiba["ImageType"]))
    alone = _report(tmp_path)
    assert _slot(alone, "brain.t1_3d") == f"{t1.SeriesNumber} SC:{t1.SeriesDescription}"
    study.add(series, t1.SeriesNumber + 100, t1.SeriesDescription)  # its unfiltered images, stored beside
    both = _report(tmp_path)
    assert _slot(both, "brain.t1_3d") == f"{t1.SeriesNumber} SC:{t1.SeriesDescription}"
    assert both["unmatched_reasons"][f"{t1.SeriesNumber + 100} {t1.SeriesDescription}"].startswith(
        "another image series of the acquisition"
    )


@pytest.mark.parametrize("administered, state", [("YES", "post"), ("NO", "pre")])
def test_an_enhanced_object_states_per_frame_whether_the_agent_was_administered(tmp_path, administered, state):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from ofsep_presets.readers import inspect_path

    # The Contrast/Bolus Usage functional group (0018,9341), shared by every frame (PS3.3 C.7.6.16.2 macros).
    def usage(ds, _):
        item = Dataset()
        item.ContrastBolusAgentNumber = 1
        item.ContrastBolusAgentAdministered = administered  # (0018,9342) YES / NO
        ds.SharedFunctionalGroupsSequence[0].ContrastBolusUsageSequence = Sequence([item])

    Study(tmp_path).add("Philips/ElitionX_enh_T1W_TSE_2D", 201, edit=usage, limit=1)
    [acq] = [a for i in inspect_path(tmp_path) if i.format == "dicom" for a in i.acquisitions]
    [phase] = contrast_phases([acq])
    assert phase.state == state and "ContrastBolusAgentAdministered" in acq.provenance["contrast_agent"]


def test_a_diffusion_series_holding_derived_frames_of_any_kind_stays_the_acquisition(tmp_path):
    philips = "Philips/Ingenia_classic_DTI_Biobank_2mm_full"
    first = read(fixture_files(philips)[0])

    def derived_inside(ds, i):  # a few derived images stored in the DWI series (dcm2niix issue 44)
        if i >= 530 and ds.get("SOPClassUID") == first.SOPClassUID:
            ds.ImageType = ["DERIVED", "PRIMARY", "PROJECTION IMAGE"]

    Study(tmp_path).add(philips, first.SeriesNumber, edit=derived_inside)
    doc = _report(tmp_path)
    assert _slot(doc, "brain.dti") == f"{first.SeriesNumber} {first.SeriesDescription}"


@pytest.mark.parametrize("description", ["PhoenixZIPReport", "Phoenix Document", "Screen Save"])
def test_a_report_or_screen_save_stored_as_mr_images_is_no_sequence(tmp_path, description):
    study = Study(tmp_path)
    study.add(T1, 99, description, ProtocolName=description, AcquisitionTime="200000.000000", limit=1)
    doc = _report(tmp_path)
    assert doc["unmatched_reasons"][f"99 {description}"] == "scanner report or screen capture"
    assert all(s["matched"] is None for s in doc["sequences"])


def test_a_repeat_is_the_same_protocol_again_another_protocol_of_the_family_is_not(tmp_path):
    t1 = read(fixture_files(T1)[0])
    study = Study(tmp_path)
    study.add(T1, t1.SeriesNumber)
    # The same protocol run again later (a motion-corrupted MPRAGE repeated: same SeriesDescription and
    # ProtocolName, its own AcquisitionTime), and another 3D T1 protocol of the same family.
    study.add(T1, t1.SeriesNumber + 1000, AcquisitionTime="201500.000000")
    study.add(T1, 7001, "anat-T1w_acq-tra", ProtocolName="anat-T1w_acq-tra", AcquisitionTime="202000.000000")
    doc = _report(tmp_path)
    name = f"{t1.SeriesNumber} {t1.SeriesDescription}"
    assert _slot(doc, "brain.t1_3d") == name
    why = doc["unmatched_reasons"]
    assert why[f"{t1.SeriesNumber + 1000} {t1.SeriesDescription}"].startswith("repeat of brain.t1_3d")
    assert why["7001 anat-T1w_acq-tra"].startswith("fits brain.t1_3d")
    [seq] = [s for s in doc["sequences"] if s["id"] == "brain.t1_3d"]
    assert seq["repeats"] == [f"{t1.SeriesNumber + 1000} {t1.SeriesDescription}"]


@pytest.mark.parametrize(
    "description, why",
    [
        ("AX_LOC", "localizer or calibration"),  # GE localizers are "… Loc"
        ("tgse_pcasl_PLD1800", "functional (fMRI) or perfusion"),  # Siemens pCASL (3D GRASE)
        ("asl_3d_MedAir", "functional (fMRI) or perfusion"),  # mrQA issue 49: a Prisma's ASL series
    ],
)
def test_console_names_joined_by_underscores_are_read_as_words(tmp_path, description, why):
    Study(tmp_path).add(T1, 30, description, ProtocolName=description, AcquisitionTime="200000.000000", limit=1)
    doc = _report(tmp_path)
    assert doc["unmatched_reasons"][f"30 {description}"] == why


def test_a_t1_named_with_underscores_is_never_the_pd_t2(tmp_path):
    series = "Philips/ElitionX_enh_T1W_TSE_2D"
    header = read(fixture_files(series)[0])
    assert header.MRAcquisitionType == "2D" and "T1" in header.ImageType  # a 2D T1-weighted TSE, its header says
    Study(tmp_path).add(series, 301, "AX_T1_TSE_GD", ProtocolName="AX_T1_TSE_GD", limit=1)
    doc = _report(tmp_path)
    assert _slot(doc, "brain.pd_t2_2d") is None


def test_a_series_acquired_after_a_post_contrast_one_is_post_contrast(tmp_path):
    from ofsep_presets.match import acquisition_order
    from ofsep_presets.readers import inspect_path

    study = Study(tmp_path)
    study.add(T1, 5001)  # the real header: no Contrast/Bolus module, acquired at 19:36:47
    study.add(T1, 20, "t1_mprage_sag_GD", AcquisitionTime="195500.000000")
    study.add(T1, 30, "anat-T1w_acq-late", AcquisitionTime="201000.000000")  # later, no word, no module
    acqs = [a for i in inspect_path(tmp_path) for a in i.acquisitions]
    order, basis = acquisition_order(acqs, False)
    assert basis == "acquisition time"
    phases = {a.name: p for a, p in zip(acqs, contrast_phases(acqs, order), strict=True)}
    assert phases["5001 anat-T1w_acq-tfl"].state == "pre"
    assert phases["20 t1_mprage_sag_GD"].state == "post"
    assert (
        phases["30 anat-T1w_acq-late"].state == "post"
        and "after '20 t1_mprage_sag_GD'" in phases["30 anat-T1w_acq-late"].why
    )


GE_LOCALIZER = "GE/SIGNA_Premier_3-Plane_Localizer_ssfse"


def test_a_series_whose_images_lie_in_several_planes_is_a_localizer_whatever_its_name(tmp_path):
    files = [read(f) for f in fixture_files(GE_LOCALIZER)]
    # The real GE series: one sagittal image (normal along x) and one axial (normal along z) in one series, its
    # ImageOrientationPatient (0020,0037) per image (PS3.3 C.7.6.2.1.1: row and column direction cosines).
    assert {tuple(round(float(v)) + 0 for v in ds.ImageOrientationPatient) for ds in files} == {
        (0, 1, 0, 0, 0, -1),
        (1, 0, 0, 0, 1, 0),
    }
    assert len({ds.SeriesInstanceUID for ds in files}) == 1
    # SeriesDescription (0008,103E) is Type 3 in the General Series module (PS3.3 C.7.3.1): a console or a
    # de-identification may leave it out. The series is then named by GE's exam-level ProtocolName.
    Study(tmp_path).add(GE_LOCALIZER, files[0].SeriesNumber, SeriesDescription=None)
    doc = _report(tmp_path)
    name = f"{files[0].SeriesNumber} {files[0].ProtocolName}"
    assert doc["unmatched_reasons"][name] == (
        "localizer or calibration (its images lie in 2 planes: sagittal, axial; ImageOrientationPatient)"
    )
    assert all(s["matched"] is None for s in doc["sequences"])
    from ofsep_presets.readers import inspect_path

    [acq] = [a for i in inspect_path(tmp_path) for a in i.acquisitions]
    assert acq.get("image_planes") == ["sagittal", "axial"] and acq.get("orientation") is None


def test_slabs_tilted_one_from_another_are_one_plane_not_a_localizer(tmp_path):
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from ofsep_presets.readers import inspect_path

    series = "Philips/ElitionX_enh_T1W_TSE_2D"
    header = read(fixture_files(series)[0])
    frames = header.PerFrameFunctionalGroupsSequence
    # The real enhanced object: each frame's Plane Orientation functional group (PS3.3 C.7.6.16.2.4), axial.
    assert {tuple(float(v) for v in f.PlaneOrientationSequence[0].ImageOrientationPatient) for f in frames} == {
        (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
    }

    def tilt(ds, _):  # the second half of the frames a slab tilted 20° about the left-right axis (an axial stack
        # angled disc by disc along a spine): still axial, one plane
        import math

        c, s = math.cos(math.radians(20)), math.sin(math.radians(20))
        for frame in list(ds.PerFrameFunctionalGroupsSequence)[len(frames) // 2 :]:
            item = Dataset()
            item.ImageOrientationPatient = [1, 0, 0, 0, round(c, 6), round(-s, 6)]
            frame.PlaneOrientationSequence = Sequence([item])

    Study(tmp_path).add(series, 201, edit=tilt, limit=1)
    [acq] = [a for i in inspect_path(tmp_path) if i.format == "dicom" for a in i.acquisitions]
    assert acq.get("image_planes") is None and acq.get("orientation") == "axial"
    assert "0.0° from pure axial" in acq.provenance["orientation"]


@pytest.mark.parametrize(
    "iop, plane, said",
    [
        # The real GE MP-RAGE header: an axial stack tilted 13.2° (its normal (-0.053, 0.223, 0.973)).
        (None, "axial", "13.2° from pure axial"),
        # Tilted 40° about the left-right axis: past the 36.9° (cosine 0.8) an oblique axial may lean.
        ([1, 0, 0, 0, 0.766044, -0.642788], "oblique", "40.0° from pure axial, the nearest plane: oblique"),
    ],
)
def test_the_plane_follows_from_the_direction_cosines_with_the_angle_said(tmp_path, iop, plane, said):
    from ofsep_presets.readers import inspect_path

    series = "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"
    Study(tmp_path).add(series, 5, "3D T1", limit=1, **({"ImageOrientationPatient": iop} if iop else {}))
    [acq] = [a for i in inspect_path(tmp_path) for a in i.acquisitions]
    assert acq.get("orientation") == plane and said in acq.provenance["orientation"], acq.provenance["orientation"]


PD_T2 = "Siemens/VE11_PD_T2_tse_sag_1.8mm"


@pytest.mark.parametrize("echo_numbers", [True, False])
def test_the_echoes_of_one_acquisition_stored_as_series_of_their_own_are_one_multi_echo_acquisition(
    tmp_path, echo_numbers
):
    from ofsep_presets.match import match
    from ofsep_presets.readers import inspect_path
    from ofsep_presets.spec import load_spec

    files = [read(f) for f in fixture_files(PD_T2)]
    # The real dual-echo series: echo 1 (EchoNumbers (0018,0086) 1, TE 11 ms) and echo 2 (EchoNumbers 2, TE 92 ms)
    # in one series; dcm2niix's sidecar of its second echo states EchoTime 0.092 s.
    assert {(int(ds.EchoNumbers), float(ds.EchoTime)) for ds in files} == {(1, 11.0), (2, 92.0)}
    [sidecar] = (fixture_files(PD_T2)[0].parent / "bids_json_dcm2niix").glob("*_e2.json")
    assert json.loads(sidecar.read_text())["EchoTime"] == 0.092
    # A console saving each echo as a series of its own (Siemens multi-echo: one series per echo, dcm2niix issues
    # 101 and 568): the same ProtocolName (0018,1030) and geometry, each series its own SeriesNumber.
    # Without EchoNumbers (Type 3, PS3.3 C.8.3.1; a Vida classic export writes none: dcm2niix issue 568) the
    # series' CSA protocol still states both echoes (ASCCONV lContrasts = 2, alTE[0..1] = 11000, 92000 us).
    study = Study(tmp_path)
    number = files[0].SeriesNumber
    drop = {} if echo_numbers else {"EchoNumbers": None}
    study.add(PD_T2, number, keep=lambda ds: int(ds.EchoNumbers) == 1, **drop)
    study.add(PD_T2, number + 1, keep=lambda ds: int(ds.EchoNumbers) == 2, **drop)
    acqs = [a for i in inspect_path(tmp_path) if i.format == "dicom" for a in i.acquisitions]
    first, second = sorted(acqs, key=lambda a: a.get("series_number"))
    assert first.get("echo_times_ms") == [11.0, 92.0] and first.get("echo_time_ms") == 11.0
    told = "EchoNumbers" if echo_numbers else "echo number = place in the CSA protocol's alTE"
    assert f"stored as series of their own ({told};" in first.provenance["echo_times_ms"]
    assert "(TE 11 ms)" in first.provenance["echo_times_ms"]
    assert second.context["echo_of"] == first.name
    result = match(acqs, load_spec("ofsep-2020"), ["brain.pd_t2_2d", "brain.t2_3d"])
    [why] = [u.why for u in result.details if u.acquisition is second]
    assert why.startswith(f"another echo of the acquisition {first.name!r}") and "echo 2" in why


def test_one_echo_in_two_series_is_no_multi_echo_acquisition(tmp_path):
    from ofsep_presets.readers import inspect_path

    # Both series hold echo 1 (EchoNumbers 1): the same protocol twice (a repeat), not two echoes of one. Each is
    # an acquisition of the protocol's two echoes (its CSA ASCCONV alTE), of which its files hold the first.
    study = Study(tmp_path)
    study.add(PD_T2, 3, keep=lambda ds: int(ds.EchoNumbers) == 1)
    study.add(PD_T2, 4, keep=lambda ds: int(ds.EchoNumbers) == 1, AcquisitionTime="161000.000000")
    acqs = [a for i in inspect_path(tmp_path) if i.format == "dicom" for a in i.acquisitions]
    assert all("echo_of" not in a.context for a in acqs)
    assert all(
        "alTE" in a.provenance["echo_times_ms"] and "hold echo time(s) 11 ms" in a.provenance["echo_times_ms"]
        for a in acqs
    )


@pytest.mark.parametrize(
    "series",
    ["Philips/ElitionX_enh_T1W_TSE_2D", "Siemens/XA30_enh_DWI_dir80_PA", "Canon/Galan3T_V6.1_enh_DTI_PA-ortho_full"],
)
def test_an_enhanced_object_without_spacing_between_slices_has_its_gap_from_the_frame_positions(series):
    from ofsep_presets.readers import dicom as reader
    from ofsep_presets.readers import inspect_path

    from .dicom_study import DICOM

    header = read(fixture_files(series)[0])
    shared = header.SharedFunctionalGroupsSequence[0]
    measures = (
        shared.get("PixelMeasuresSequence") or header.PerFrameFunctionalGroupsSequence[0].PixelMeasuresSequence
    )[0]
    iop = (
        shared.get("PlaneOrientationSequence") or header.PerFrameFunctionalGroupsSequence[0].PlaneOrientationSequence
    )[0].ImageOrientationPatient
    _count, apart = reader._frame_stack(header, [float(v) for v in iop])
    if "SpacingBetweenSlices" in measures:
        # Philips and Siemens state (0018,0088) in the Pixel Measures macro: the frames' positions (Plane Position
        # functional group, PS3.3 C.7.6.16.2.3) along the slice normal agree with it.
        assert apart == pytest.approx(float(measures.SpacingBetweenSlices), abs=0.01)
        return
    # Canon V6.1 states none (nor does dcm2niix's sidecar): its frames lie 3 mm apart, its slices 3 mm thick.
    [sidecar] = (DICOM / series / "bids_json_dcm2niix").glob("*.json")
    assert "SpacingBetweenSlices" not in json.loads(sidecar.read_text())
    assert apart == 3.0 and float(measures.SliceThickness) == 3.0
    [acq] = [a for i in inspect_path(DICOM / series) if i.format == "dicom" for a in i.acquisitions]
    assert acq.get("slice_gap_mm") == 0.0 and "ImagePositionPatient" in acq.provenance["slice_gap_mm"]


def test_a_philips_series_states_its_slices_in_every_image():
    """Philips' private Number of Slices MR (2001,xx18 of "Philips Imaging DD 001") is each image's count of its
    volume's slices: over the whole Ingenia DTI fixture (545 files) the images lie at 32 distinct positions along
    the slice normal (their own ImagePositionPatient, read here with pydicom), and 32 is what every file states,
    so the 3 files kept of the ADNI MPRAGE still say its 170 slices (stated, not counted)."""
    from ofsep_presets.readers import inspect_path

    from .dicom_study import DICOM

    series = "Philips/Ingenia_classic_DTI_Biobank_2mm_full"
    # its 544 images (and one Philips private object, which has no position)
    headers = [h for h in map(read, fixture_files(series)) if "ImagePositionPatient" in h]
    iop = [float(v) for v in headers[0].ImageOrientationPatient]
    normal = (iop[1] * iop[5] - iop[2] * iop[4], iop[2] * iop[3] - iop[0] * iop[5], iop[0] * iop[4] - iop[1] * iop[3])
    positions = {
        round(sum(float(p) * n for p, n in zip(h.ImagePositionPatient, normal, strict=True)), 2) for h in headers
    }
    assert len(positions) == 32
    for name, expected in ((series, 32), ("Philips/Ingenia_classic_ADNI_Sag3D_MPRAGE_1mm", 170)):
        block = read(fixture_files(name)[0]).private_block(0x2001, "Philips Imaging DD 001")
        assert block[0x18].value == expected
        [acq] = [a for i in inspect_path(DICOM / name) if i.format == "dicom" for a in i.acquisitions]
        assert acq.get("slices") == expected and "Number of Slices MR" in acq.provenance["slices"]


def test_an_enhanced_object_counts_its_slices_by_its_frames_positions():
    """The Canon V6.1 enhanced DTI holds 520 frames; dcm2niix's .bval beside it lists its 13 volumes, so each
    volume is 40 slices, and its frames lie at 40 positions along the slice normal. No tag of it states a count."""
    from ofsep_presets.readers import inspect_path

    from .dicom_study import DICOM

    series = "Canon/Galan3T_V6.1_enh_DTI_PA-ortho_full"
    [bval] = (DICOM / series / "bids_json_dcm2niix").glob("*.bval")
    volumes = len(bval.read_text().split())
    frames = int(read(fixture_files(series)[0]).NumberOfFrames)
    [acq] = [a for i in inspect_path(DICOM / series) if i.format == "dicom" for a in i.acquisitions]
    assert acq.get("slices") == frames // volumes == 40
    assert "positions along the normal" in acq.provenance["slices"]


@pytest.mark.parametrize(
    ("series", "protocol_ta"),
    [
        ("Philips/Ingenia_classic_ADNI_Sag3D_MPRAGE_1mm", None),
        ("Philips/ElitionX_enh_T1W_TSE_2D", None),
        ("Canon/Galan3T_V6.1_enh_DTI_PA-ortho_full", None),
        ("Siemens/XA30_enh_DWI_dir80_PA", 88.0),  # its protocol's lTotalScanTimeSec, the console's TA
    ],
)
def test_the_acquisition_duration_the_images_state_where_no_protocol_states_one(series, protocol_ta):
    from ofsep_presets.readers import inspect_path

    from .dicom_study import DICOM

    stated = float(read(fixture_files(series)[0]).AcquisitionDuration)  # (0018,9073), seconds
    [acq] = [a for i in inspect_path(DICOM / series) if i.format == "dicom" for a in i.acquisitions]
    if protocol_ta is None:
        assert acq.get("duration_s") == pytest.approx(stated, abs=0.001)
        assert "AcquisitionDuration" in acq.provenance["duration_s"]
    else:
        assert stated != protocol_ta and acq.get("duration_s") == protocol_ta
