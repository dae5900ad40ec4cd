"""Sidecars as real datasets write them beyond dcm2niix's own output (issue 11, held-out accuracy): BIDS
inheritance, hand-made key names and values, and text that is not plain UTF-8. Each expected value is what the
mirrored public file states (named at each test), or what the BIDS specification documents.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ofsep_presets.acquisition import ReadError
from ofsep_presets.readers import inspect_path

# OpenNeuroDatasets/ds000172 (CC0), task-rest_bold.json at the dataset root, as stored there: a hand-made
# sidecar (DICOM keyword ManufacturerModelName, PartialFourier as the console prints it, "6/8").
DS000172_ROOT = {
    "RepetitionTime": 3.00,
    "TaskName": "Resting State",
    "Manufacturer": "Siemens",
    "ManufacturerModelName": "Trio",
    "MagneticFieldStrength": 3,
    "ReceiveCoilName": "12 channel head coil",
    "ScanningSequence": "EPI",
    "MRAcquisitionType": "2D",
    "PartialFourier": "6/8",
    "PhaseEncodingDirection": "j-",
    "PixelBandwidth": 1260.0,
    "EPI_Factor": 128,
    "EchoTime": 0.035,
    "FlipAngle": 87.0,
}


def _write(path: Path, data) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def _one(path: Path):
    [inspection] = inspect_path(path)
    return inspection


def test_a_hand_made_sidecar_states_its_model_by_the_dicom_keyword_and_partial_fourier_as_a_fraction(tmp_path):
    inspection = _one(_write(tmp_path / "task-rest_bold.json", DS000172_ROOT))
    [acq] = inspection.acquisitions
    assert acq.get("model") == "Trio"
    assert acq.get("partial_fourier") == 0.75
    assert "ManufacturerModelName" in acq.provenance["model"]
    assert acq.get("repetition_time_ms") == 3000.0 and acq.get("echo_time_ms") == 35.0


@pytest.mark.parametrize("stated", ["6/5", "1/0", "six/8", "0/8"])
def test_a_partial_fourier_text_that_is_no_fraction_of_k_space_is_not_read(tmp_path, stated):
    acq = _one(_write(tmp_path / "x_bold.json", {**DS000172_ROOT, "PartialFourier": stated})).acquisitions[0]
    assert acq.get("partial_fourier") is None


def _dataset(root: Path) -> Path:
    """A BIDS dataset laid out as ds000172 is: the shared values at the root, each subject's sidecar with its own."""
    _write(root / "dataset_description.json", {"Name": "inheritance", "BIDSVersion": "1.8.0"})
    _write(root / "task-rest_bold.json", DS000172_ROOT)
    _write(root / "sub-01" / "func" / "sub-01_task-rest_bold.json", {"AcquisitionTime": "10:00:00.0"})
    _write(root / "sub-02" / "ses-1" / "func" / "sub-02_ses-1_task-rest_run-1_bold.json", {"EchoTime": 0.03})
    return root


def test_a_subject_sidecar_inherits_what_the_dataset_level_sidecar_states(tmp_path):
    root = _dataset(tmp_path / "ds")
    inspection = _one(root / "sub-01" / "func" / "sub-01_task-rest_bold.json")
    [acq] = inspection.acquisitions
    # BIDS inheritance principle: the root file applies (same suffix, its entities a subset of the subject's).
    assert acq.get("repetition_time_ms") == 3000.0 and acq.get("flip_angle_deg") == 87.0
    assert acq.get("model") == "Trio" and acq.get("manufacturer") == "siemens"
    assert acq.get("acquisition_time") == "10:00:00.0"
    assert acq.provenance["repetition_time_ms"].startswith("task-rest_bold.json (inherited)")
    assert acq.provenance["acquisition_time"].startswith("sub-01_task-rest_bold.json")


def test_the_more_specific_sidecar_wins_and_the_dataset_level_one_is_no_acquisition(tmp_path):
    root = _dataset(tmp_path / "ds")
    [inspection] = inspect_path(root)
    by_name = {a.name: a for a in inspection.acquisitions}
    assert set(by_name) == {"sub-01_task-rest_bold", "sub-02_ses-1_task-rest_run-1_bold"}
    assert by_name["sub-02_ses-1_task-rest_run-1_bold"].get("echo_time_ms") == 30.0  # its own, not the root's 35
    assert by_name["sub-01_task-rest_bold"].get("echo_time_ms") == 35.0
    assert any("BIDS inheritance" in w for w in inspection.warnings)


def test_a_sidecar_outside_a_dataset_inherits_nothing(tmp_path):
    _write(tmp_path / "task-rest_bold.json", DS000172_ROOT)
    lone = _write(tmp_path / "func" / "sub-01_task-rest_bold.json", {"RepetitionTime": 2.0, "EchoTime": 0.03})
    acq = _one(lone).acquisitions[0]
    assert acq.get("flip_angle_deg") is None and acq.get("repetition_time_ms") == 2000.0


def test_a_one_element_list_is_its_value_and_a_longer_list_is_no_value(tmp_path):
    data = {
        "RepetitionTime": [2.0, 2.5],
        "EchoTime": 0.03,
        "FlipAngle": [90],
        "Manufacturer": ["Siemens"],
        "MagneticFieldStrength": [3],
        "SliceThickness": {"value": 2},
    }
    inspection = _one(_write(tmp_path / "x_T2w.json", data))
    [acq] = inspection.acquisitions
    assert acq.get("flip_angle_deg") == 90.0 and acq.get("manufacturer") == "siemens"
    assert acq.get("field_strength_t") == 3.0 and acq.get("echo_time_ms") == 30.0
    assert acq.get("repetition_time_ms") is None and acq.get("slice_thickness_mm") is None
    assert any("RepetitionTime: a list of 2" in w for w in inspection.warnings)
    assert any("SliceThickness: an object" in w for w in inspection.warnings)


@pytest.mark.parametrize("maker", [None, 3, {"name": "Siemens"}, ""])
def test_a_manufacturer_that_is_no_name_is_absent_not_other(tmp_path, maker):
    data = {"RepetitionTime": 2.0, "EchoTime": 0.03, "Manufacturer": maker, "ManufacturersModelName": maker}
    acq = _one(_write(tmp_path / "x_T2w.json", data)).acquisitions[0]
    assert acq.get("manufacturer") is None and acq.get("model") is None
    assert acq.get("repetition_time_ms") == 2000.0


SIDE = {"RepetitionTime": 2.0, "EchoTime": 0.03, "Manufacturer": "Siemens", "SeriesDescription": "t2_tse_tra_é"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_sidecar_saved_as_windows_unicode_reads(tmp_path, encoding):
    path = tmp_path / "x_T2w.json"
    path.write_bytes(json.dumps(SIDE, ensure_ascii=False).encode(encoding))
    acq = _one(path).acquisitions[0]
    assert acq.get("series_description") == "t2_tse_tra_é" and acq.get("repetition_time_ms") == 2000.0


def test_a_latin1_sidecar_reads_and_says_it_is_not_utf8(tmp_path):
    path = tmp_path / "x_T2w.json"
    path.write_bytes(json.dumps(SIDE, ensure_ascii=False).encode("latin-1"))
    inspection = _one(path)
    assert inspection.acquisitions[0].get("series_description") == "t2_tse_tra_é"
    assert any("not UTF-8" in w for w in inspection.warnings)


def test_nul_padding_after_the_object_is_ignored_and_said(tmp_path):
    path = tmp_path / "x_T2w.json"
    path.write_bytes(json.dumps(SIDE).encode() + b"\0" * 4096)
    inspection = _one(path)
    assert inspection.acquisitions[0].get("echo_time_ms") == 30.0
    assert any("NUL padding" in w for w in inspection.warnings)


@pytest.mark.parametrize("bval", ["0 1000 nan", "0 1e309 1000", "0 inf"])
def test_a_bval_file_with_a_non_finite_value_costs_the_b_values_only(tmp_path, bval):
    path = _write(tmp_path / "x_dwi.json", SIDE)
    (tmp_path / "x_dwi.bval").write_text(bval)
    inspection = _one(path)
    acq = inspection.acquisitions[0]
    assert acq.get("b_values") is None and acq.get("repetition_time_ms") == 2000.0
    assert any("not a finite number" in w for w in inspection.warnings)


def test_an_empty_file_is_said_to_be_empty(tmp_path):
    path = tmp_path / "x_T2w.json"
    path.write_bytes(b"")
    with pytest.raises(ReadError, match="empty file"):
        inspect_path(path)


def test_a_dot_in_the_series_name_keeps_the_b_values_beside_the_sidecar(tmp_path):
    # neurolabusc/dcm_qa_stc Ref/Siemens_diff_mbep2d_1.5mm_AP_MB4_64DIR_B1500_BW1672_3.json: dcm2niix names its
    # files after the series, dots and all; the .bval and .bvec share the name.
    name = "Siemens_diff_mbep2d_1.5mm_AP_MB4_64DIR_B1500_BW1672_3"
    path = _write(tmp_path / f"{name}.json", SIDE)
    (tmp_path / f"{name}.bval").write_text("0 1500 1500 1500")
    (tmp_path / f"{name}.bvec").write_text("0 1 0 0\n0 0 1 0\n0 0 0 1\n")
    acq = _one(path).acquisitions[0]
    assert acq.get("b_values") == [0.0, 1500.0] and acq.get("diffusion_directions") == 3


@pytest.mark.parametrize(
    "extra",
    [{"MRAcquisitionType": "3D", "SliceTiming": [0, 0.5]}, {"MRAcquisitionType": "2D", "SliceTiming": [0, "x"]}],
)
def test_slice_times_of_a_3d_volume_or_that_are_not_numbers_state_no_slice_count(tmp_path, extra):
    acq = _one(_write(tmp_path / "x_bold.json", {**SIDE, **extra})).acquisitions[0]
    assert acq.get("slices") is None


def test_times_written_in_milliseconds_are_absent_not_read_as_seconds(tmp_path):
    # A hand-made sidecar with the console's milliseconds where BIDS states seconds: TR 2000, TE 30, TI 900.
    data = {"RepetitionTime": 2000, "EchoTime": 30, "InversionTime": 900, "Manufacturer": "Siemens", "FlipAngle": 9}
    inspection = _one(_write(tmp_path / "x_T1w.json", data))
    [acq] = inspection.acquisitions
    assert acq.get("repetition_time_ms") is None and acq.get("echo_time_ms") is None
    assert acq.get("inversion_time_ms") is None and acq.get("flip_angle_deg") == 9.0
    assert sum("no time in seconds" in w for w in inspection.warnings) == 3


def test_long_but_real_times_in_seconds_are_read(tmp_path):
    # A heavily T2-weighted 3D (MRCP-like) TE of 0.8 s and a long-TR DWI of 17 s (the SPINS HD16 DTI sidecar).
    data = {"RepetitionTime": 17, "EchoTime": [0.4, 0.8], "Manufacturer": "GE"}
    acq = _one(_write(tmp_path / "x_T2w.json", data)).acquisitions[0]
    assert acq.get("repetition_time_ms") == 17000.0 and acq.get("echo_times_ms") == [400.0, 800.0]


def test_series_whose_only_sidecar_is_the_dataset_level_one_are_each_an_acquisition(tmp_path):
    """OpenNeuroDatasets/ds001832 holds one task-rest_bold.json at its root and no sidecar beside its subjects'
    bold series: by BIDS inheritance the root file is each series' sidecar, so each subject's series is read as
    an acquisition of its own (with its subject), and the root file is none. A series inheriting nothing is
    skipped, named."""
    root = tmp_path / "ds"
    _write(root / "dataset_description.json", {"Name": "root-only", "BIDSVersion": "1.8.0"})
    _write(root / "task-rest_bold.json", DS000172_ROOT)
    for rel in (
        "sub-01/func/sub-01_task-rest_bold.nii.gz",
        "sub-02/func/sub-02_task-rest_run-1_bold.nii",
        "sub-03/anat/sub-03_T1w.nii.gz",
    ):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(b"\0" * 352)
    [inspection] = inspect_path(root)
    by_name = {a.name: a for a in inspection.acquisitions}
    assert set(by_name) == {"sub-01_task-rest_bold", "sub-02_task-rest_run-1_bold"}
    assert by_name["sub-01_task-rest_bold"].get("repetition_time_ms") == 3000.0
    assert by_name["sub-02_task-rest_run-1_bold"].context.get("subject") == "sub-02"
    skipped = [w for w in inspection.warnings if "skipped: not a format" in w]
    assert len(skipped) == 1 and "sub-03_T1w.nii.gz" in skipped[0] and "sub-01" not in skipped[0]


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        # OpenNeuroDatasets/ds005687 sub-01/anat/sub-01_T2w.json (Bruker 9.4 T), the whole file: two keys.
        (
            "sub-01_T2w.json",
            {"MagneticFieldStrength": 9.402694181642405, "PulseSequenceDetails": "T2_TurboRARE (E7)"},
            {"field_strength_t": 9.402694181642405},
        ),
        # OpenNeuroDatasets/ds008870 T1w.json at the dataset root, the whole file: one key, no parameter.
        ("T1w.json", {"PulseSequenceType": "Multi-echo MPRAGE (MEMPRAGE)"}, {}),
    ],
)
def test_a_sidecar_named_as_bids_names_one_is_read_outside_its_dataset(tmp_path, name, data, expected):
    """A sidecar copied out of its dataset, stating little: its BIDS name is what it is. Before, "not a format
    ofsep-presets reads" (exit 2) for a file that is plainly a sidecar; now read, and an empty one is said."""
    inspection = _one(_write(tmp_path / name, data))
    assert inspection.format == "bids-json"
    [acq] = inspection.acquisitions
    assert acq.params == expected
    assert any("states no acquisition parameter" in w for w in inspection.warnings) == (not expected)


def test_a_json_file_not_named_as_a_sidecar_and_stating_one_key_is_still_refused(tmp_path):
    with pytest.raises(ReadError, match="not a format"):
        inspect_path(_write(tmp_path / "settings.json", {"RepetitionTime": 2.0}))


def test_slice_times_count_the_slices_of_a_sidecar_that_does_not_state_its_dimension(tmp_path):
    """OpenNeuroDatasets-JSONLD/ds001419 sub-01_dwi.json (dcm2niix of 2017, Siemens Verio ep2d_diff): no
    MRAcquisitionType, 80 slice times. SliceTiming is written for 2D acquisitions only (BIDS PR 1594, dcm2niix
    issue 294): 80 slices."""
    data = {"Manufacturer": "Siemens", "RepetitionTime": 15.3, "EchoTime": 0.083, "ScanningSequence": "EP"}
    data["SliceTiming"] = [round(i * 0.19125, 5) for i in range(80)]
    acq = _one(_write(tmp_path / "sub-01_dwi.json", data)).acquisitions[0]
    assert acq.get("slices") == 80


def test_a_json_named_like_a_sidecar_that_states_nothing_is_skipped_in_a_folder(tmp_path):
    """Beside a real sidecar, a tool's "dwi.json" or a rating "sub-01_FLAIR.json" (their names only look like
    BIDS series) states no parameter: a folder read skips them, said, rather than make empty acquisitions that
    would form an exam of their own."""
    real = _write(tmp_path / "sub-01_T1w.json", {**DS000172_ROOT, "SeriesDescription": "t1"})
    _write(tmp_path / "dwi.json", {"eddy_params": {"repol": True}})
    _write(tmp_path / "sub-01_FLAIR.json", {"LesionCount": 12})
    [inspection] = inspect_path(tmp_path)
    assert [a.name for a in inspection.acquisitions] == [real.name[: -len(".json")]]
    assert any("2 file(s) skipped" in w and "dwi.json" in w for w in inspection.warnings), inspection.warnings


def test_a_subject_level_sidecar_is_the_metadata_its_series_inherit(tmp_path):
    """BIDS inheritance: "sub-01/sub-01_T1w.json" applies to the subject's anat/sub-01_T1w series; it lies above
    the data-type folders, where BIDS puts no series, so it is metadata, not a second (empty) acquisition."""
    _write(tmp_path / "dataset_description.json", {"Name": "x", "BIDSVersion": "1.8.0"})
    _write(tmp_path / "sub-01" / "sub-01_T1w.json", {"PulseSequenceType": "MPRAGE", "ConversionSoftware": "x"})
    _write(tmp_path / "sub-01" / "anat" / "sub-01_T1w.json", DS000172_ROOT)
    [inspection] = inspect_path(tmp_path)
    assert [a.name for a in inspection.acquisitions] == ["sub-01_T1w"]
    assert inspection.acquisitions[0].get("repetition_time_ms") == 3000.0
    assert any("BIDS inheritance" in w for w in inspection.warnings)


def test_a_flat_subject_folder_keeps_each_series_beside_a_more_specific_one(tmp_path):
    """A subject folder holding its sidecars directly (no anat/): "sub-01_T1w" and "sub-01_ce-gadolinium_T1w" are
    two series (pre and post contrast); the first's entities being a subset of the second's makes it no inherited
    metadata, which only a sidecar in a deeper folder inherits."""
    _write(tmp_path / "dataset_description.json", {"Name": "x", "BIDSVersion": "1.8.0"})
    _write(tmp_path / "sub-01" / "sub-01_T1w.json", DS000172_ROOT)
    _write(tmp_path / "sub-01" / "sub-01_ce-gadolinium_T1w.json", {**DS000172_ROOT, "EchoTime": 0.03})
    [inspection] = inspect_path(tmp_path)
    assert sorted(a.name for a in inspection.acquisitions) == ["sub-01_T1w", "sub-01_ce-gadolinium_T1w"]
