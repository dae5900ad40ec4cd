"""Philips protocols stored inside DICOM (layout: GDCM Examples/Cxx/DumpExamCard.cxx), read and set beside the
images of the same series.

Two real private objects are fixtures: the Ingenia DTI series' "XX_" object (Private MR Series Data Storage) and
the Elition X T1W TSE's Raw Data Storage object beside its enhanced image. Their expected values come from
dcm2niix's sidecar of the same series and from the image's own DICOM header (read here with pydicom), never from
this reader. No public DICOM carrying an "ExamCardBlob" was found: that case is a synthetic file of our own that
mirrors GDCM's documented layout, its payload the real R5.3 ExamCard fixture.
"""

from __future__ import annotations

import base64
import functools
import gzip
import io
import json
import shutil
import struct

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ofsep_presets.acquisition import Inspection, ReadError
from ofsep_presets.readers import dicom_protocol, inspect_path

from .conftest import FIXTURES

PHILIPS = FIXTURES / "dicom" / "Philips"
DTI = PHILIPS / "Ingenia_classic_DTI_Biobank_2mm_full"
DTI_OBJECT = DTI / "XX_0546.gz"
ELITION = PHILIPS / "ElitionX_enh_T1W_TSE_2D"
CARD = FIXTURES / "vendor-exports" / "philips" / "spine_generic_philips_R53.ExamCard"
CREATOR = "Philips MR Imaging DD 002"


@functools.cache
def read_object(path) -> Inspection:
    return dicom_protocol.read(path)


def test_the_dti_series_object_reads_to_dcm2niix_values():
    [acq] = read_object(DTI_OBJECT).acquisitions
    sidecar = json.loads(next((DTI / "bids_json_dcm2niix").glob("*.json")).read_text())
    bvals = (next((DTI / "bids_json_dcm2niix").glob("*.bval")).read_text()).split()
    p = acq.params
    assert acq.name == sidecar["SeriesDescription"] == "DTI_Biobank_2mm_MB3S2_EPI"
    assert p["repetition_time_ms"] == pytest.approx(sidecar["RepetitionTime"] * 1000, abs=0.5)  # "4176" actual
    assert p["echo_time_ms"] == pytest.approx(sidecar["EchoTime"] * 1000, abs=1e-3)
    assert p["flip_angle_deg"] == sidecar["FlipAngle"] and p["slice_thickness_mm"] == sidecar["SliceThickness"]
    assert p["parallel_factor"] == sidecar["ParallelReductionFactorInPlane"]
    assert p["echo_train_length"] == sidecar["EchoTrainLength"]
    assert p["matrix"][1] == sidecar["AcquisitionMatrixPE"]
    assert p["b_values"] == sorted({0.0 if float(b) < 25 else float(b) for b in bvals})
    assert "PDF_EXAM_PARS" in acq.provenance["echo_time_ms"]


def test_the_raw_object_beside_an_enhanced_image_reads_to_its_header():
    [acq] = read_object(ELITION / "0001_Raw.dcm").acquisitions
    image = pydicom.dcmread(ELITION / "0001.dcm", stop_before_pixels=True)
    timing = image.SharedFunctionalGroupsSequence[0].MRTimingAndRelatedParametersSequence[0]
    assert acq.name == image.SeriesDescription
    assert acq.params["repetition_time_ms"] == pytest.approx(float(timing.RepetitionTime), abs=0.5)
    assert acq.params["flip_angle_deg"] == pytest.approx(float(timing.FlipAngle))


def test_a_dummy_run_folder_sets_the_protocol_beside_its_images():
    """The DTI folder: 545 image files and the series' private object; the images are judged, the protocol set
    beside them (a second acquisition of the same series would be matched twice)."""
    inspections = {i.format: i for i in inspect_path(DTI)}
    assert "philips-dicom-protocol" not in inspections
    images = inspections["dicom"]
    assert [a.name for a in images.acquisitions] == ["701 DTI_Biobank_2mm_MB3S2_EPI"]
    [summary] = [w for w in images.warnings if w.startswith("embedded protocol vs images:")]
    assert summary.startswith("embedded protocol vs images: 1 series, ")
    assert int(summary.split(", ")[1].split()[0]) >= 8  # values both state
    lines = [w for w in images.warnings if w.startswith("embedded protocol vs images, ")]
    assert summary.endswith(f"{len(lines)} disagree")
    assert "not MR images ignored" not in " ".join(images.warnings)  # the private object is read, not ignored


def test_a_disagreement_between_protocol_and_images_is_said_by_name(tmp_path):
    """The same folder with the images' TR changed: the line names the series, the parameter and both values."""
    for path in DTI.glob("IM_*.gz"):
        ds = pydicom.dcmread(io.BytesIO(gzip.decompress(path.read_bytes())))
        ds.RepetitionTime = 5000
        ds.save_as(tmp_path / path.name.removesuffix(".gz"))
    shutil.copy(DTI_OBJECT, tmp_path / DTI_OBJECT.name)
    [images] = inspect_path(tmp_path)
    assert (
        "embedded protocol vs images, 701 DTI_Biobank_2mm_MB3S2_EPI: repetition_time_ms protocol 4176.0, images 5000.0"
    ) in images.warnings


def _examcard_object(payload: bytes) -> pydicom.Dataset:
    """A DICOM of our own mirroring GDCM's layout: (2005,xx32) item with xx37 "ExamCardBlob", xx44 the XML."""
    ds = pydicom.Dataset()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = "1.3.46.670589.11.0.0.12.4"  # Private MR Examcard Storage
    ds.file_meta.MediaStorageSOPInstanceUID = "1.2.3.4"
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = "1.3.46.670589.11.0.0.12.4", "1.2.3.4", "MR"
    item = pydicom.Dataset()
    block = item.private_block(0x2005, CREATOR, create=True)
    block.add_new(0x37, "LO", "ExamCardBlob")
    block.add_new(0x44, "OW", payload + b"\0" * (len(payload) % 2 or 2))
    ds.private_block(0x2005, CREATOR, create=True).add_new(0x32, "SQ", pydicom.Sequence([item]))
    return ds


def test_an_examcard_stored_in_dicom_reads_like_the_examcard_file(tmp_path):
    encoded = base64.encodebytes(CARD.read_bytes())
    xml = b'<?xml version="1.0"?><ExamCardBlobContainer><ExamCardBlob>' + encoded + b"</ExamCardBlob>"
    xml += b"</ExamCardBlobContainer>"
    target = tmp_path / "examcard.dcm"
    _examcard_object(xml).save_as(target, enforce_file_format=True)
    [inspection] = inspect_path(target)
    [original] = inspect_path(CARD)
    assert inspection.format == "philips-dicom-protocol"
    assert [a.name for a in inspection.acquisitions] == [a.name for a in original.acquisitions]
    assert [a.params for a in inspection.acquisitions] == [a.params for a in original.acquisitions]


def test_a_blob_that_is_no_examcard_is_refused_in_one_line(tmp_path):
    target = tmp_path / "examcard.dcm"
    _examcard_object(b"<ExamCardBlob>bm90IGFuIGV4YW1jYXJk</ExamCardBlob>").save_as(target, enforce_file_format=True)
    with pytest.raises(ReadError, match="without a readable protocol table"):
        dicom_protocol.read(target)


def _deflated(source, target) -> None:
    """`source` re-written in Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99, PS3.5 A.5: the data set
    after the file meta group one raw DEFLATE stream), as `dcmconv +td` writes it."""
    ds = pydicom.dcmread(source)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    ds.save_as(target, enforce_file_format=True)


def test_a_deflated_object_reads_as_its_plain_encoding(tmp_path):
    """The real DTI series object deflated: found (its markers are inside the DEFLATE stream) and read to the same
    values as the object itself (dcm2niix's values: test_the_dti_series_object_reads_to_dcm2niix_values); in a
    folder beside its images it is the embedded protocol, not an ignored object. It was refused."""
    target = tmp_path / "XX_0546"
    _deflated(io.BytesIO(gzip.decompress(DTI_OBJECT.read_bytes())), target)
    head = target.read_bytes()
    assert dicom_protocol.DEFLATED in head[:512] and b"PDF_EXAM_PARS" not in head
    assert dicom_protocol.sniff(target, head[:4096])
    [acq] = dicom_protocol.read(target).acquisitions
    [plain] = read_object(DTI_OBJECT).acquisitions
    assert acq.params == plain.params and acq.name == plain.name
    assert dicom_protocol.takes(target, "1.3.46.670589.11.0.0.12.2")
    for image in sorted(DTI.glob("IM_*.gz"))[:4]:
        shutil.copy(image, tmp_path / image.name)
    [images] = inspect_path(tmp_path)
    assert any(w.startswith("embedded protocol vs images: 1 series, ") for w in images.warnings), images.warnings
    assert "not MR images ignored" not in " ".join(images.warnings)


def test_a_deflated_object_past_the_inflate_limit_is_refused_naming_it(tmp_path, monkeypatch):
    """pydicom inflates a deflated data set whole: it is measured first, in chunks, against `inflate_bytes`."""
    target = tmp_path / "deflated.dcm"
    _deflated(io.BytesIO(gzip.decompress(DTI_OBJECT.read_bytes())), target)
    monkeypatch.setenv("OFSEP_PRESETS_LIMIT_INFLATE_BYTES", "4096")
    with pytest.raises(ReadError, match="inflate_bytes limit"):
        dicom_protocol.read(target)


def _deflated_with_url(source, target) -> None:
    """As _deflated, its file meta group also carrying (0002,0026) Source Presentation Address, VR UR (PS3.10
    table 7.1-1): a VR whose length is 4 bytes after 2 reserved ones (PS3.5 7.1.2), as OB's."""
    ds = pydicom.dcmread(source)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.DeflatedExplicitVRLittleEndian
    ds.file_meta.add_new(0x00020026, "UR", "https://archive.example.org/dicomweb/studies/1.2.3")
    ds.save_as(target, enforce_file_format=True)
    raw = target.read_bytes()
    at = raw.index(b"\x02\x00\x26\x00UR")
    assert raw[at + 6 : at + 8] == b"\0\0" and struct.unpack_from("<I", raw, at + 8)[0] == 50  # a long VR's header


def test_a_deflated_object_with_a_long_vr_in_its_meta_group_is_read_and_measured(tmp_path, monkeypatch):
    """The meta group walked with every long VR (UR here; UC, OD, OL, OV, SV, UV as well): the data set starts past
    the UR's 4-byte length, so the object is found, read to the plain object's values, and its DEFLATE stream is
    measured against `inflate_bytes` before pydicom inflates it whole. Read with a 2-byte length, the UR's reserved
    zeros, the walk lost the data set's start: the object was not found, and not measured."""
    target = tmp_path / "XX_0546"
    _deflated_with_url(io.BytesIO(gzip.decompress(DTI_OBJECT.read_bytes())), target)
    assert dicom_protocol.sniff(target, target.read_bytes()[:4096])
    [acq] = dicom_protocol.read(target).acquisitions
    [plain] = read_object(DTI_OBJECT).acquisitions
    assert acq.params == plain.params and acq.name == plain.name
    monkeypatch.setenv("OFSEP_PRESETS_LIMIT_INFLATE_BYTES", "4096")
    with pytest.raises(ReadError, match="inflate_bytes limit"):
        dicom_protocol.read(target)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.floats(min_value=0.0, max_value=1.0), noise=st.binary(max_size=64))
def test_a_damaged_object_is_read_or_refused_never_a_crash(tmp_path, cut, noise):
    data = (ELITION / "0001_Raw.dcm").read_bytes()
    at = int(len(data) * cut)
    target = tmp_path / "damaged.dcm"
    target.write_bytes(data[:at] + noise + data[at + len(noise) :])
    try:
        if dicom_protocol.sniff(target, target.read_bytes()[:4096]):
            assert isinstance(dicom_protocol.read(target), Inspection)
    except ReadError:
        pass


def test_one_unreadable_format_in_a_folder_leaves_the_others_read(tmp_path):
    """A folder with an ExamCard and a DICOM that holds no image: the card is read and the DICOM's failure is one
    line (before, "no readable DICOM series" failed the whole folder and hid the card)."""
    shutil.copy(CARD, tmp_path / CARD.name)
    (tmp_path / "cut.dcm").write_bytes((ELITION / "0001_Raw.dcm").read_bytes()[:3000])  # no protocol table left
    [card] = inspect_path(tmp_path)
    assert card.format == "philips-examcard" and len(card.acquisitions) == 7
    [line] = [w for w in card.warnings if w.startswith("not read: ")]
    assert "1 DICOM object(s) that are not MR images ignored" in line
