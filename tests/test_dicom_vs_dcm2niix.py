"""The DICOM reader against dcm2niix, series by series: every fixture series that holds the sidecar dcm2niix wrote
for it upstream (../shared/fixtures/dicom/*/*/bids_json_dcm2niix, an independent reading of the same headers)
must state each value the sidecar states, and the same value (issue 11: the held-out truth of DICOM inputs is
dcm2niix's).

Stated differences, each for a reason of the sidecar's, not ours:
- VE11_PD_T2_tse_sag_1.8mm: the sidecar is dcm2niix's second-echo file (`_e2`: TE 92 ms, its own file's time);
  the series' first echo is 11 ms (echo_times_ms [11, 92]).
"""

from __future__ import annotations

import json

import pytest

from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

DICOM = FIXTURES / "dicom"
SERIES = sorted(p.parent.relative_to(DICOM).as_posix() for p in DICOM.glob("*/*/bids_json_dcm2niix"))
SECOND_ECHO_SIDECAR = {"Siemens/VE11_PD_T2_tse_sag_1.8mm": {"echo_time_ms", "acquisition_time"}}
pytestmark = pytest.mark.skipif(not SERIES, reason="the DICOM fixtures are not here")


def _pair(series: str):
    found = {i.format: i.acquisitions for i in inspect_path(DICOM / series)}
    [sidecar] = found["bids-json"]
    return sidecar, found["dicom"][0]


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-3 * max(1.0, abs(a))
    return a == b


@pytest.mark.parametrize("series", SERIES)
def test_the_dicom_reader_states_what_dcm2niix_states_of_the_same_series(series):
    sidecar, dicom = _pair(series)
    skip = SECOND_ECHO_SIDECAR.get(series, set())
    missed = sorted(k for k in sidecar.params if k not in dicom.params and k not in skip)
    differ = {
        k: (sidecar.params[k], dicom.params[k])
        for k in sidecar.params
        if k in dicom.params and k not in skip and not _same(sidecar.params[k], dicom.params[k])
    }
    assert not missed, f"{series}: the DICOM reader leaves out what dcm2niix states: {missed}"
    assert not differ, f"{series}: sidecar vs DICOM: {differ}"


def test_an_enhanced_image_states_its_acquisition_time_in_its_acquisition_datetime():
    sidecar, dicom = _pair("Siemens/XA30_enh_DWI_dir80_PA")
    assert dicom.get("acquisition_time") == sidecar.get("acquisition_time") == "12:11:19.757500"
    assert "AcquisitionDateTime" in dicom.provenance["acquisition_time"]


def test_a_philips_inversion_prepulse_delay_is_the_inversion_time():
    sidecar, dicom = _pair("Philips/Ingenia_classic_ADNI_Sag3D_MPRAGE_1mm")
    assert dicom.get("inversion_time_ms") == sidecar.get("inversion_time_ms") == 900.0
    assert "Prepulse" in dicom.provenance["inversion_time_ms"]


def test_a_philips_series_without_an_inversion_prepulse_has_no_inversion_time():
    # The Biobank DTI: Prepulse Type (2001,101C) "NO", delay 0; its sidecar states no InversionTime either.
    sidecar, dicom = _pair("Philips/Ingenia_classic_DTI_Biobank_2mm_full")
    assert dicom.get("inversion_time_ms") is None and sidecar.get("inversion_time_ms") is None


def _ge_image(tmp_path, **changes):
    """The GE SIGNA Pioneer 3D T1 fixture image with some header values changed, as its own one-file series."""
    import pydicom

    source = DICOM / "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm/i160.MRDC.1"
    ds = pydicom.dcmread(source)
    for keyword, value in changes.items():
        setattr(ds, keyword, value)
    folder = tmp_path / "series"
    folder.mkdir()
    ds.save_as(folder / "i1.MRDC.1")
    [inspection] = inspect_path(folder)
    return inspection.acquisitions[0]


def test_a_ge_ir_prepared_gradient_echo_states_its_inversion_time_without_ir_in_scanning_sequence(tmp_path):
    # spine-generic sub-tokyoSigna1 T1w (GE IR-FSPGR): dcm2niix wrote InversionTime 1 s beside ScanningSequence
    # "GR" and SequenceVariant "SS_SP_SK" (../shared/fixtures/bids): the header states the TI, not IR.
    acq = _ge_image(tmp_path, ScanningSequence="GR", SequenceVariant=["SS", "SP", "SK"], InversionTime=1000)
    assert acq.get("inversion_time_ms") == 1000.0
    assert "inversion-prepared" in acq.provenance["inversion_time_ms"]


def test_a_ge_inversion_time_of_zero_is_no_inversion(tmp_path):
    acq = _ge_image(tmp_path, ScanningSequence="GR", SequenceVariant=["SS", "SK"], InversionTime=0)
    assert acq.get("inversion_time_ms") is None


@pytest.mark.parametrize(
    "series",
    ["Siemens/VE11_DTI_ep2d_diff_20dir_mosaic", "Siemens/VE11_PD_T2_tse_sag_1.8mm", "Siemens/XA30_enh_DWI_dir80_PA"],
)
def test_a_2d_sidecar_states_its_slices_by_its_slice_times(series):
    """BIDS SliceTiming: one time per slice. The count is the DICOM series' own number of slices."""
    sidecar, dicom = _pair(series)
    assert sidecar.get("slices") == dicom.get("slices") is not None
    assert "slice times" in sidecar.provenance["slices"]


def test_a_field_strength_written_in_gauss_is_read_in_tesla(tmp_path):
    # Older GE Signa headers state (0018,0087) in gauss, as GE protocol exports do (session.xml fieldstrength
    # 30000 in the MR750 fixture): 15000 is 1.5 T.
    acq = _ge_image(tmp_path, MagneticFieldStrength=15000)
    assert acq.get("field_strength_t") == 1.5 and "gauss" in acq.provenance["field_strength_t"]


def test_a_field_strength_in_tesla_is_read_as_it_is(tmp_path):
    assert _ge_image(tmp_path, MagneticFieldStrength=3).get("field_strength_t") == 3.0


# DICOM PS3.3 C.8.3.1, Scan Options (0018,0022): "FS = Fat Saturation" (the standard's defined term, checked in
# the standard's own text as public DICOM toolkits copy it); C.8.13.4 Spectrally Selected Suppression (0018,9025):
# "FAT, WATER, FAT_AND_WATER, SILICON_GEL, NONE". Neither names a technique: `fatsat`, the canonical value that
# names no variant (protocol_spec/model/dicom-terms.yaml).
@pytest.mark.parametrize(
    "series, term",
    [
        ("GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full", "ScanOptions FS"),  # SAT_GEMS\EDR_GEMS\EPI_GEMS\ACC_GEMS\PFF\FS
        ("Siemens/XA30_enh_DWI_dir80_PA", "SpectrallySelectedSuppression FAT"),  # enhanced, no ScanOptions
    ],
)
def test_a_fat_saturation_the_dicom_states_by_its_defined_term_is_read(series, term):
    sidecar, dicom = _pair(series)
    assert dicom.get("fat_suppression") == sidecar.get("fat_suppression") == "fatsat"
    assert term in dicom.provenance["fat_suppression"]


def test_the_siemens_protocol_names_the_fat_suppression_before_the_defined_term():
    # VE11 DTI: ScanOptions FS and the CSA protocol's sPrepPulses.ucFatSat=1; the protocol is the more specific.
    sidecar, dicom = _pair("Siemens/VE11_DTI_ep2d_diff_20dir_mosaic")
    assert dicom.get("fat_suppression") == "fatsat" and "ucFatSat" in dicom.provenance["fat_suppression"]
    assert sidecar.get("fat_suppression") == "fatsat" and "ScanOptions" in sidecar.provenance["fat_suppression"]


def test_no_fat_saturation_term_states_nothing_of_fat_suppression(tmp_path):
    # PFP alone (dcm_qa_toshiba 8006_DTI_AX_30d's "ScanOptions": "PFP"), and NONE (the Elition X T1W TSE's
    # Spectrally Selected Suppression): absent, not `none` (a STIR suppresses fat with no spectral pulse).
    sidecar = tmp_path / "dwi.json"
    stated = {"Manufacturer": "Toshiba", "RepetitionTime": 10, "EchoTime": 0.079, "ScanOptions": "PFP"}
    sidecar.write_text(json.dumps({**stated, "SpectrallySelectedSuppression": "NONE"}))
    [inspection] = inspect_path(sidecar)
    assert "fat_suppression" not in inspection.acquisitions[0].params
    elition = [i for i in inspect_path(DICOM / "Philips/ElitionX_enh_T1W_TSE_2D") if i.format == "dicom"]
    assert elition and all("fat_suppression" not in a.params for i in elition for a in i.acquisitions)
