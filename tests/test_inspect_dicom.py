"""DICOM: every fixture series agrees with dcm2niix's sidecar of the same series on every field both carry."""

from __future__ import annotations

import gzip
import hashlib
import shutil
from pathlib import Path

import pytest

from ofsep_presets.acquisition import ReadError
from ofsep_presets.readers import inspect_path
from ofsep_presets.rules import Constraint

from .conftest import FIXTURES

DICOM = FIXTURES / "dicom"
SIDECARS = sorted(DICOM.rglob("bids_json_dcm2niix/*.json"))

# Where the two readings differ on purpose, and why.
DELIBERATE = {
    # The sidecar in the fixtures is dcm2niix's file for the *second* echo (…_e2.json); the canonical model
    # reports the first echo, and the first-echo file is acquired ~57 ms earlier.
    "VE11_PD_T2_tse_sag_1.8mm": {"echo_time_ms", "acquisition_time"},
}


def _same(param: str, ours, theirs) -> bool:
    expected = tuple(theirs) if isinstance(theirs, list) else theirs
    return Constraint(param, "eq", expected, "dcm2niix").evaluate(ours) == "pass"


@pytest.mark.parametrize("sidecar", SIDECARS, ids=[p.parent.parent.name for p in SIDECARS])
def test_dicom_agrees_with_dcm2niix(sidecar: Path):
    series_dir = sidecar.parent.parent
    [dicom] = [i for i in inspect_path(series_dir) if i.format == "dicom"]
    assert len(dicom.acquisitions) == 1
    ours = dicom.acquisitions[0]
    theirs = inspect_path(sidecar)[0].acquisitions[0]
    shared = set(ours.params) & set(theirs.params)
    assert len(shared) >= 15, shared  # the comparison means something only on many fields
    expected_diffs = DELIBERATE.get(series_dir.name, set())
    diffs = {k for k in shared if not _same(k, ours.params[k], theirs.params[k])}
    assert diffs == expected_diffs, {k: (ours.params[k], theirs.params[k]) for k in diffs}
    for param in ours.params:
        assert ours.provenance[param], param


def test_philips_dti_has_12_directions_and_ignores_the_private_object():
    [dicom] = [i for i in inspect_path(DICOM / "Philips/Ingenia_classic_DTI_Biobank_2mm_full") if i.format == "dicom"]
    acq = dicom.acquisitions[0]
    bvecs = (
        (
            DICOM / "Philips/Ingenia_classic_DTI_Biobank_2mm_full/bids_json_dcm2niix/"
            "701_DTI_Biobank_2mm_MB3S2_EPI_cl.bvec"
        )
        .read_text()
        .split("\n")
    )
    assert acq.get("diffusion_directions") == 12
    assert acq.get("b_values") == [0.0, 1000.0]
    assert acq.get("reconstructed_voxel_mm") == [2.0, 2.0, 2.0]  # PixelSpacing 2 × 2, SliceThickness 2
    # acquired: 110 phase lines (dcm2niix AcquisitionMatrixPE) over the 224 mm FoV
    assert acq.get("voxel_size_mm") == [2.0, round(224 / 110, 4), 2.0]
    assert len(bvecs[0].split()) > 12  # dcm2niix's bvec has every volume; 12 distinct directions among them
    # The Philips XX_ file is no image: it is read as the series' embedded protocol (test_dicom_protocol.py).
    assert not any("not MR images" in w for w in dicom.warnings)


def test_derived_maps_are_recognised():
    for folder, kind in (
        ("XA30_classic_DWI_dir80_AP_ADC", "ADC"),
        ("XA30_classic_DWI_dir80_AP_TRACEW", "TRACEW"),
        ("XA30_enh_DWI_dir80_PA_FA", "FA"),
        ("XA30_enh_DWI_dir80_PA_ADC", "ADC"),
    ):
        [acq] = [i for i in inspect_path(DICOM / "Siemens" / folder) if i.format == "dicom"][0].acquisitions
        assert kind in acq.get("derived"), folder
        assert "diffusion_directions" not in acq.params  # a map has no gradient directions of its own


def test_incomplete_series_reports_the_prescribed_directions_and_says_so():
    [dicom] = [i for i in inspect_path(DICOM / "Siemens/VE11_DTI_ep2d_diff_20dir_mosaic") if i.format == "dicom"]
    assert dicom.acquisitions[0].get("diffusion_directions") == 20
    assert any("2 of 20 prescribed diffusion directions" in w for w in dicom.warnings)


def test_ge_t1_has_no_b_values():
    [dicom] = [i for i in inspect_path(DICOM / "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm") if i.format == "dicom"]
    acq = dicom.acquisitions[0]
    assert "b_values" not in acq.params  # GE's private b-value tag says 0 on every series
    assert acq.get("slice_thickness_mm") == 1.2 and acq.get("sequence_family") == "mprage"


def test_garbage_truncated_and_empty_files_are_skipped_and_counted(tmp_path, monkeypatch):
    monkeypatch.setenv("OFSEP_PRESETS_LIMIT_INFLATE_BYTES", str(1 << 20))  # the documented cap, made small
    source = next((DICOM / "Siemens/VE11_PD_T2_tse_sag_1.8mm").glob("*.dcm"))
    shutil.copy(source, tmp_path / "good.dcm")
    (tmp_path / "truncated.dcm").write_bytes(source.read_bytes()[:600])
    (tmp_path / "empty.dcm").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    bomb = b"\0" * 128 + b"DICM" + b"\x08\x00\x05\x00" + b"\0" * (2 << 20)  # a dataset, then 2 MB of zeros
    (tmp_path / "bomb.dcm.gz").write_bytes(gzip.compress(bomb))
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()}
    [dicom] = inspect_path(tmp_path)
    assert len(dicom.acquisitions) == 1
    assert any("truncated.dcm" in w for w in dicom.warnings)
    assert any("bomb.dcm.gz" in w and "inflate_bytes limit" in w for w in dicom.warnings)
    assert "2 file(s) skipped: not a format ofsep-presets reads (empty.dcm: empty; notes.txt)" in dicom.warnings
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir()} == before


def test_a_lone_unreadable_dicom_is_a_read_error(tmp_path):
    source = next((DICOM / "Siemens/VE11_PD_T2_tse_sag_1.8mm").glob("*.dcm"))
    (tmp_path / "cut.dcm").write_bytes(source.read_bytes()[:300])
    with pytest.raises(ReadError, match="cut.dcm"):
        inspect_path(tmp_path / "cut.dcm")


def test_fast_header_walk_agrees_with_pydicom_on_every_fixture_file():
    """The scan's fast path must give exactly what the pydicom path gives, wherever it does not decline."""
    import io

    from pydicom.filereader import read_partial

    from ofsep_presets.readers import dicom as reader

    used = set()
    for path in sorted(p for p in DICOM.rglob("*") if p.is_file() and p.suffix not in (".json", ".bval", ".bvec")):
        raw = path.read_bytes()
        raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        fast = reader._fast_info(str(path), raw[: reader.PREFIX])
        if fast is None:
            continue
        ds = read_partial(io.BytesIO(raw), stop_when=reader._stop_scan)
        if "DiffusionBValue" not in ds and "GE" in str(ds.get("Manufacturer", "")):
            ds = read_partial(io.BytesIO(raw), stop_when=reader._stop_full)  # a GE b0's b-value is in (0043,1039)
        expected = reader.FileInfo(
            str(path),
            sop=str(ds.get("SOPClassUID", "")),
            uid=str(ds.get("SeriesInstanceUID", "")),
            number=int(ds.get("InstanceNumber") or 0),
            image_types=tuple(str(t).upper() for t in (ds.get("ImageType") or [])),
            diffusion=tuple(reader._diffusion_of(ds)),
            echo_times=tuple(reader._echo_times_of(ds)),
            normals=tuple(reader._normals_of(ds)),
            echo_numbers=reader._echo_numbers(ds.get("EchoNumbers")),
        )
        assert fast == expected, path
        used.add(path.relative_to(DICOM).parts[0])
    assert used >= {"Siemens", "GE", "Canon"}  # exercised on real files of several vendors, not just declined


def test_a_dicomdir_file_reads_the_exam_it_indexes(tmp_path):
    from pydicom.fileset import FileSet

    source = DICOM / "Siemens/VE11_PD_T2_tse_sag_1.8mm"
    exam = tmp_path / "exam"
    fileset = FileSet()
    for path in sorted(source.glob("*.dcm")):
        fileset.add(path)
    fileset.write(exam)
    [inspection] = inspect_path(exam / "DICOMDIR")
    assert [a.name for a in inspection.acquisitions] == ["3 pd+t2_tse_sag_ISO_1.8mm"]
    assert not any("DICOMDIR" in w for w in inspection.warnings)
