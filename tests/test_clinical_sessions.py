"""Clinical sessions read as dcm2niix BIDS sidecars: what a curator's name, a header and an ImageType say together.

Expected values come from the files themselves: the DICOM ScanningSequence and ImageType that dcm2niix copies
(PS3.3 C.8.3.1.1.1, C.7.6.1.1.2), the .bval's b-values, the BIDS specification's entities (`ses-`, `dir-`) and
suffix (`dwi`). The synthetic sidecars below mirror public ones key for key (named in each test); the SOOP ones
are the real fixtures.
"""

from __future__ import annotations

import json

from ofsep_presets.check import check
from ofsep_presets.match import diffusion_class_evidence
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

SOOP = FIXTURES / "references" / "soop"

# The GE DISCOVERY MR750 keys of the NIMH healthy-volunteer dataset's sidecars (OpenNeuro ds004215,
# sourcedata/sub-ON17159/ses-01), dcm2niix v1.0.20211006.
GE_MR750 = {
    "Modality": "MR",
    "MagneticFieldStrength": 3,
    "Manufacturer": "GE",
    "ManufacturersModelName": "DISCOVERY MR750",
    "BodyPartExamined": "BRAIN",
    "ImageType": ["ORIGINAL", "PRIMARY", "OTHER"],
    "ConversionSoftware": "dcm2niix",
}


def _session(tmp_path, files: dict[str, dict], bval: dict[str, str] | None = None):
    for rel, sidecar in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(sidecar))
    for rel, text in (bval or {}).items():
        (tmp_path / rel).write_text(text)
    (tmp_path / "dataset_description.json").write_text(json.dumps({"Name": "clinical", "BIDSVersion": "1.6.0"}))
    return [i for i in inspect_path(tmp_path)]


def _matched(report, seq_id):
    seq = next(s for s in report.sequences if s.id == seq_id)
    return seq.matched[0].acquisition.name if seq.matched else None


def test_a_bids_session_and_direction_entity_are_no_direction_count(spec, tmp_path):
    """ds004215's "sub-ON17159_ses-01_dir-flipped_dwi": `ses-01` is a session, `dir-flipped` a phase-encoding
    direction (BIDS entities), not "01 dir", one direction. Its .bval (here b 0 then 32 × 1000, the volumes a
    32-direction DTI writes) counts the diffusion-weighted volumes: the tensor class, the DTI."""
    dwi = dict(
        GE_MR750,
        MRAcquisitionType="2D",
        SeriesDescription="Axial DTI B=1000",
        ScanningSequence="EP\\SE",
        SequenceVariant="NONE",
        EchoTime=0.0606,
        RepetitionTime=7.8,
        SliceThickness=2,
        ImageOrientationPatientDICOM=[1, 0, 0, 0, 1, 0],
    )
    stem = "sub-ON1/ses-01/dwi/sub-ON1_ses-01_dir-flipped_dwi"
    inspections = _session(tmp_path, {stem + ".json": dwi}, {stem + ".bval": " ".join(["0"] + ["1000"] * 32)})
    [acq] = [a for i in inspections for a in i.acquisitions]
    count, why, stated = diffusion_class_evidence(acq)
    assert (count, stated) == (32, False), why
    report = check(inspections, spec)
    assert _matched(report, "brain.dti") == acq.name
    assert _matched(report, "brain.dwi") is None


def test_a_gradient_echo_named_after_the_flair_it_copies_is_the_t2star(spec, tmp_path):
    """ds004215's "Axial T2 Star (Rx 2D FLAIR)": GE names the T2* after the FLAIR whose slices it copies (Rx),
    but its header states ScanningSequence GR, no inversion, TE 20 ms: a 2D gradient echo, never a FLAIR (an
    inversion-recovery spin echo). The name's T2* is believed; the word FLAIR is not a family here."""
    t2star = dict(
        GE_MR750,
        MRAcquisitionType="2D",
        SeriesDescription="Axial T2 Star (Rx 2D FLAIR)",
        ScanningSequence="GR",
        SequenceVariant="SS",
        EchoTime=0.02,
        RepetitionTime=0.65,
        FlipAngle=20,
        SliceThickness=4,
        ImageOrientationPatientDICOM=[1, 0, 0, 0, 1, 0],
    )
    inspections = _session(tmp_path, {"sub-ON1/ses-01/anat/sub-ON1_ses-01_rec-SCIC_T2starw.json": t2star})
    [acq] = [a for i in inspections for a in i.acquisitions]
    assert acq.get("sequence_family") == "t2star", acq.provenance.get("sequence_family")
    report = check(inspections, spec)
    assert _matched(report, "brain.t2star_2d") == acq.name
    assert _matched(report, "brain.flair_3d") is None


def test_a_trace_series_stored_as_the_acquisitions_magnitude_images_is_the_dwi(spec):
    """SOOP sub-10 (Philips Ingenia Ambition X, 1.5 T): "sB1000", ImageType ORIGINAL\\\\PRIMARY\\\\M\\\\SE, named
    `rec-TRACE_dwi` by the curators. The ImageType says the scanner's original magnitude images, as a Philips DWI
    series holds its b 0 and isotropic b 1000 images: the DWI itself. The BIDS suffix `dwi` states the diffusion
    weighting where no .bval is at hand (the header says SE only). Its `rec-ADC` (ImageType …\\\\ADC) stays a map."""
    inspections = inspect_path(SOOP / "sub-10")
    report = check(inspections, spec)
    assert _matched(report, "brain.dwi") == "sub-10_rec-TRACE_dwi"
    assert _matched(report, "brain.pd_t2_2d") is None
    assert [a.name for a in report.maps] == ["sub-10_rec-ADC_dwi"]
    dwi = next(a for i in inspections for a in i.acquisitions if a.name == "sub-10_rec-TRACE_dwi")
    assert dwi.get("sequence_family") == "epi_dwi"
    assert "BIDS suffix _dwi" in dwi.provenance["sequence_family"]


# The keys of a clinical whole-spine T2 as dcm2niix v1.0.20240202 wrote it (Siemens Prisma, syngo MR E11, public
# sidecars of hjleepapa/multimodal-agents-lab data/images/sub-01_T2TSE.json): the composed stations.
SPINE_T2 = {
    "Modality": "MR",
    "MagneticFieldStrength": 3,
    "Manufacturer": "Siemens",
    "ManufacturersModelName": "Prisma",
    "BodyPartExamined": "SPINE",
    "MRAcquisitionType": "2D",
    "ScanningSequence": "SE",
    "SequenceVariant": "SK\\SP\\OSP",
    "SequenceName": "*tseR2d1rr19",
    "SliceThickness": 3.3,
    "EchoTime": 0.104,
    "RepetitionTime": 3.5,
    "FlipAngle": 160,
    "EchoTrainLength": 19,
    "ImageOrientationPatientDICOM": [0, 1, 0, 0, 0, -1],
    "ConversionSoftware": "dcm2niix",
}


def test_a_composed_whole_spine_t2_stands_for_its_stations_only_when_they_are_absent(spec, tmp_path):
    """ImageType …\\\\COMPOSED (Siemens' stitched stations, "I_t2_tse_sag_384_C1-C8_COMP_SP_1") is derived from
    the station series; a PACS may keep only it. Alone, it is the only statement of the sagittal T2 of the spine:
    it fills spine.t2_sag, saying why. Beside an acquired station (ImageType ORIGINAL\\\\PRIMARY\\\\M\\\\NORM) it stays
    a derived copy and the station is the sequence."""
    composed = dict(
        SPINE_T2,
        SeriesDescription="I_t2_tse_sag_384_C1-C8_COMP_SP_1",
        ImageType=["ORIGINAL", "PRIMARY", "M", "NORM", "DIS2D", "COMP", "SP", "COMPOSED"],
    )
    alone = check(_session(tmp_path / "a", {"sub-01/anat/sub-01_T2w.json": composed}), spec)
    [slot] = [s for s in alone.sequences if s.id == "spine.t2_sag"]
    assert slot.matched and slot.matched[0].acquisition.name == "sub-01_T2w"
    assert any("stands for its acquisition" in r for r in slot.matched[0].reasons)
    station = dict(SPINE_T2, SeriesDescription="t2_tse_sag_384_C-spine", ImageType=["ORIGINAL", "PRIMARY", "M", "NORM"])
    files = {"sub-01/anat/sub-01_acq-comp_T2w.json": composed, "sub-01/anat/sub-01_acq-c_T2w.json": station}
    both = check(_session(tmp_path / "b", files), spec)
    assert _matched(both, "spine.t2_sag") == "sub-01_acq-c_T2w"
    assert "composition" in dict((a.name, why) for a, why in both.unmatched)["sub-01_acq-comp_T2w"]


def test_a_reformat_of_a_composition_stands_for_nothing(spec, tmp_path):
    """A composed sagittal T1 after gadolinium stands for its stations; an axial MPR of it (ImageType
    DERIVED\\SECONDARY\\MPR\\COMPOSED: a reformat, PS3.3 value 2 SECONDARY) is no acquisition's images, and
    never fills the axial T1 after gadolinium its plane and contrast would fit."""
    post = dict(
        SPINE_T2,
        SequenceName="*tse2d1_3",
        SliceThickness=3,
        EchoTime=0.0095,
        RepetitionTime=0.6,
        FlipAngle=150,
        EchoTrainLength=3,
        ContrastBolusAgent="DOTAREM",
        SeriesDescription="t1_tse_sag_post_COMP_SP",
        ImageType=["ORIGINAL", "PRIMARY", "M", "NORM", "COMP", "SP", "COMPOSED"],
        SeriesNumber=30,
    )
    mpr = dict(
        post,
        ImageOrientationPatientDICOM=[1, 0, 0, 0, 1, 0],
        SeriesDescription="t1_tse_sag_post_COMP_SP_MPR_tra",
        ImageType=["DERIVED", "SECONDARY", "MPR", "COMPOSED"],
        SeriesNumber=31,
    )
    files = {"sub-01/anat/sub-01_acq-comp_ce-gd_T1w.json": post, "sub-01/anat/sub-01_acq-mpr_ce-gd_T1w.json": mpr}
    report = check(_session(tmp_path, files), spec)
    assert _matched(report, "spine.t1_sag_gd") == "sub-01_acq-comp_ce-gd_T1w"
    assert _matched(report, "spine.t1_ax_gd") is None
    assert "sub-01_acq-mpr_ce-gd_T1w" in {a.name for a, _ in report.unmatched}


def test_a_sessions_sourcedata_is_the_same_exam(tmp_path):
    """ds004215 keeps a session's T1w and T2w raw (sub-ON17159/ses-01/anat) and its FLAIRs, T2* and DWI in the
    dataset's sourcedata/ (sourcedata/sub-ON17159/ses-01/…): BIDS's source data of the same subjects. One dataset,
    one subject, one session: one exam, not two halves each missing what the other holds."""
    from ofsep_presets.exams import split

    t1 = dict(GE_MR750, MRAcquisitionType="3D", SeriesDescription="Accelerated Sagittal IR-FSPGR", SeriesNumber=3)
    flair = dict(GE_MR750, MRAcquisitionType="3D", SeriesDescription="Sagittal 3D FLAIR", SeriesNumber=4)
    files = {
        "sub-ON1/ses-01/anat/sub-ON1_ses-01_acq-FSPGR_rec-SCIC_T1w.json": t1,
        "sourcedata/sub-ON1/ses-01/anat/sub-ON1_ses-01_acq-Sagittal3d_rec-SCIC_FLAIR.json": flair,
    }
    exams = split(_session(tmp_path, files))
    assert len(exams) == 1
    assert sorted(a.name for a in exams[0].acquisitions) == [
        "sub-ON1_ses-01_acq-FSPGR_rec-SCIC_T1w",
        "sub-ON1_ses-01_acq-Sagittal3d_rec-SCIC_FLAIR",
    ]


def test_t2_star_in_words_is_the_t2star_weighting(spec):
    """GE names its 2D T2* "Axial T2 Star" (ds004215's SeriesDescription, ScanningSequence GR, TE 20 ms). Where a
    step states no more than its name and plane (a program's line without a sequence type), "T2 Star" is the T2*
    weighting, not a T2: the axial T2*, never the PD/T2 TSE."""
    from ofsep_presets.acquisition import Acquisition, Inspection
    from ofsep_presets.match import weightings_in

    assert weightings_in("Axial T2 Star") == {"T2*"}
    step = Acquisition("Axial T2 Star", {})
    step.set("acquisition_type", "2D", "the program")
    step.set("orientation", "axial", "the program")
    report = check([Inspection("program", "ge-lxprotocol", acquisitions=[step])], spec)
    assert _matched(report, "brain.t2star_2d") == "Axial T2 Star"
    assert _matched(report, "brain.pd_t2_2d") is None
