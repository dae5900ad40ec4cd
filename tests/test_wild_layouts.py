"""Layouts of real public files beyond the fixtures' own (issue 11, held-out accuracy), each case against an
independent source: the DICOM headers beside a dcm2niix sidecar, the values the file itself states, or the
converter's documented behaviour.

Where the real file's licence does not let us copy it, the test writes a small file of its own that mirrors the
real layout and names the file it mirrors (repository and path).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ofsep_presets.acquisition import Acquisition
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

DICOM = FIXTURES / "dicom"
BIDS = FIXTURES / "bids" / "spine-generic-single-subject"


def _by_format(path: Path) -> dict[str, list[Acquisition]]:
    return {i.format: i.acquisitions for i in inspect_path(path)}


def _sidecar_and_dicom(series: str) -> tuple[Acquisition, Acquisition]:
    found = _by_format(DICOM / series)
    [sidecar] = found["bids-json"]
    dicom = found["dicom"][0]
    return sidecar, dicom


# A dcm2niix sidecar states the acquisition matrix as BaseResolution (Siemens CSA) or FrequencyEncodingSteps
# (Philips/Canon MR FOV/Geometry) × AcquisitionMatrixPE; the DICOM headers beside it are the independent source.
@pytest.mark.parametrize(
    "series",
    [
        "Philips/Ingenia_classic_DTI_Biobank_2mm_full",
        "Philips/Ingenia_classic_ADNI_Sag3D_MPRAGE_1mm",
        "Siemens/XA30_enh_DWI_dir80_PA",
        "Siemens/VE11_DTI_ep2d_diff_20dir_mosaic",
        "Siemens/VE11_PD_T2_tse_sag_1.8mm",
    ],
)
def test_sidecar_matrix_is_the_dicom_acquisition_matrix(series):
    sidecar, dicom = _sidecar_and_dicom(series)
    assert sidecar.get("matrix") is not None
    assert sidecar.get("matrix") == dicom.get("matrix")
    assert "AcquisitionMatrixPE" in sidecar.provenance["matrix"]


@pytest.mark.parametrize("series", ["Siemens/XA30_enh_DWI_dir80_PA", "Siemens/VE11_DTI_ep2d_diff_20dir_mosaic"])
def test_siemens_sidecar_base_resolution_agrees_with_the_csa_protocol(series):
    sidecar, dicom = _sidecar_and_dicom(series)
    assert sidecar.get("base_resolution") == dicom.get("base_resolution") is not None
    assert sidecar.get("phase_resolution_pct") == 100.0  # "PhaseResolution": 1


def test_a_ge_sidecar_without_a_read_entry_has_no_matrix_rather_than_half_of_one():
    sidecar, dicom = _sidecar_and_dicom("GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full")
    assert sidecar.get("matrix") is None and dicom.get("matrix") == [128, 128]


@pytest.mark.parametrize(
    "series", ["GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full", "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"]
)
def test_ge_number_of_excitations_is_the_averages_the_dicom_states(series):
    sidecar, dicom = _sidecar_and_dicom(series)
    assert sidecar.get("averages") == dicom.get("averages") == 1.0
    assert "NumberOfExcitations" in sidecar.provenance["averages"]


# dcm2niix of 2018-2019 wrote, for Philips and GE, PartialFourier = EchoTrainLength / phase-encoding steps: the
# spine-generic sidecars themselves show it (3/320, 3/448, 47/63); Philips DICOM states partial Fourier only as on
# or off (rordenlab/dcm2niix issue 377). Such a value is no partial-Fourier fraction: not read as one.
@pytest.mark.parametrize(
    "sidecar",
    [
        "sub-juntendoAchieva/anat/sub-juntendoAchieva_T2star.json",  # 0.009375 = 3 / 320
        "sub-juntendo750w/anat/sub-juntendo750w_T2star.json",  # 0.00669643 = 3 / 448 (GE)
        "sub-glen/dwi/sub-glen_dwi.json",  # 0.746032 = 47 / 63: in range, but the ratio
        "sub-ucl/dwi/sub-ucl_dwi.json",  # 0.921875 = 59 / 64
    ],
)
def test_a_derived_echo_train_ratio_is_not_a_partial_fourier_fraction(sidecar):
    raw = json.loads((BIDS / sidecar).read_text())
    ratio = raw["EchoTrainLength"] / raw["AcquisitionMatrixPE"]
    assert raw["PartialFourier"] == pytest.approx(ratio, abs=1e-6)  # what the file states, checked
    [inspection] = inspect_path(BIDS / sidecar)
    assert inspection.acquisitions[0].get("partial_fourier") is None
    assert inspection.warnings == []  # a key that means something else there, not an unreadable value


def test_siemens_sidecar_partial_fourier_is_the_csa_fraction_the_dicom_states():
    sidecar, dicom = _sidecar_and_dicom("Siemens/XA30_enh_DWI_dir80_PA")
    assert sidecar.get("partial_fourier") == dicom.get("partial_fourier") == 0.75


def test_a_partial_fourier_below_one_half_is_absent_with_a_warning(tmp_path):
    path = tmp_path / "sub-01_T2w.json"
    sidecar = {"Manufacturer": "Siemens", "RepetitionTime": 3.0, "EchoTime": 0.1, "PartialFourier": 0.3}
    path.write_text(json.dumps(sidecar))
    [inspection] = inspect_path(path)
    assert inspection.acquisitions[0].get("partial_fourier") is None
    assert any("0.3" in w for w in inspection.warnings)


# Mirrors neurolabusc/dcm_qa_xa30 Ref/9_gre_field_mapping_e2_ph.json (dcm2niix v1.0.20220707): a field map's
# sidecar states both echoes, EchoTime1 0.01 and EchoTime2 0.01246 s, beside its own EchoTime.
def test_field_map_sidecar_states_both_echo_times(tmp_path):
    path = tmp_path / "sub-01_phasediff.json"
    path.write_text(
        json.dumps(
            {
                "Modality": "MR",
                "MagneticFieldStrength": 3,
                "Manufacturer": "Siemens",
                "SeriesDescription": "gre_field_mapping",
                "MRAcquisitionType": "2D",
                "EchoNumber": 2,
                "EchoTime": 0.01246,
                "RepetitionTime": 0.6,
                "EchoTime1": 0.01,
                "EchoTime2": 0.01246,
                "BaseResolution": 64,
                "PhaseResolution": 1,
                "AcquisitionMatrixPE": 64,
                "ConversionSoftware": "dcm2niix",
            }
        )
    )
    [inspection] = inspect_path(path)
    acq = inspection.acquisitions[0]
    assert acq.get("echo_times_ms") == [10.0, 12.46]
    assert acq.get("matrix") == [64, 64]


# Mirrors the XA50 .pro layout of cest-sources/cestineers prot/3T/snapshot_GRE/C2P_MPI04_VA50/gre_cest_MPI04_WASABI.pro:
# XProtocol text, then an ASCCONV block whose lines are `key<TAB> = <TAB>value`, dimension and inversion written in
# decimal (4, not 0x4), and the protocol's own name in tProtocolName.
XA50_PRO = """<XProtocol> \n{\n  <ID> 1000001 \n  <ParamMap.""> \n  {\n  }\n}\n
### ASCCONV BEGIN object=MrProtDataImpl@MrProtocolData version=65010000 \
converter=%MEASCONST%/ConverterList/Prot_Converter.txt ###
ulVersion\t = \t65010000
tSequenceFileName\t = \t"%CustomerSeq%\\gre_cest"
tProtocolName\t = \t"{name}"
lContrasts\t = \t1
lAverages\t = \t1
sProtConsistencyInfo.flNominalB0\t = \t2.89362001419
sRXSPEC.alDwellTime[0]\t = \t6400
alTR.__attribute__.size\t = \t256
alTR[0]\t = \t4000
alTI[0]\t = \t300000
alTE[0]\t = \t2000
alTE[1]\t = \t15000
sSliceArray.lSize\t = \t1
sSliceArray.asSlice[0].dThickness\t = \t60.0
sSliceArray.asSlice[0].dPhaseFOV\t = \t180.714285714
sSliceArray.asSlice[0].dReadoutFOV\t = \t220.0
sSliceArray.asSlice[0].sNormal.dSag\t = \t0.024039
sSliceArray.asSlice[0].sNormal.dCor\t = \t-0.333989
sSliceArray.asSlice[0].sNormal.dTra\t = \t0.94227
sPrepPulses.ucInversion\t = \t4
sKSpace.dPhaseResolution\t = \t1.0
sKSpace.lBaseResolution\t = \t112
sKSpace.lPhaseEncodingLines\t = \t92
sKSpace.lImagesPerSlab\t = \t12
sKSpace.ucPhasePartialFourier\t = \t16
sKSpace.ucDimension\t = \t4
sPat.lAccelFactPE\t = \t2
adFlipAngleDegree[0]\t = \t7.0
### ASCCONV END ###
"""


def _pro(tmp_path: Path, name: str, text: str, encoding: str = "utf-8", bom: bool = False) -> Path:
    path = tmp_path / "exported.pro"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.replace("{name}", name).encode(encoding))
    return path


def test_xa_pro_reads_its_values_and_is_named_by_its_tprotocolname(tmp_path):
    [inspection] = inspect_path(_pro(tmp_path, "gre_cest_MPI04_WASABI", XA50_PRO))
    [acq] = inspection.acquisitions
    assert acq.name == acq.get("series_description") == "gre_cest_MPI04_WASABI"  # not the file's name
    assert "tProtocolName" in acq.provenance["series_description"]
    # The file's own values: alTR 4000 us, alTE[0] 2000 us (one contrast), 60 mm slab / 12 images, 112 x 92 lines.
    assert (acq.get("repetition_time_ms"), acq.get("echo_time_ms"), acq.get("echo_times_ms")) == (4.0, 2.0, [2.0])
    assert acq.get("acquisition_type") == "3D" and acq.get("slice_thickness_mm") == 5.0
    assert acq.get("matrix") == [112, 92] and acq.get("slices") == 12
    assert acq.get("inversion_time_ms") is None  # ucInversion 4 (off): the stale alTI is not an inversion time
    assert acq.get("field_strength_t") == 3.0 and acq.get("parallel_factor") == 2.0


def test_pro_names_escaped_the_vb_ve_way_are_unescaped_and_a_plain_plus_is_kept(tmp_path):
    [inspection] = inspect_path(_pro(tmp_path, "t1+AF8-mprage+AF8-sag", XA50_PRO))
    assert inspection.acquisitions[0].name == "t1_mprage_sag"
    (tmp_path / "exported.pro").unlink()
    [inspection] = inspect_path(_pro(tmp_path, "pd+t2-tse", XA50_PRO))
    assert inspection.acquisitions[0].name == "pd+t2-tse"


def test_a_utf8_pro_with_a_byte_order_mark_reads_its_name_as_written(tmp_path):
    # cestineers' XA .pro names hold a micro sign (gre_cest_MPI04_NOE_0.6µT): UTF-8, not Latin-1.
    [inspection] = inspect_path(_pro(tmp_path, "gre_cest_MPI04_NOE_0.6µT", XA50_PRO, bom=True))
    assert inspection.acquisitions[0].name == "gre_cest_MPI04_NOE_0.6µT"
    assert inspection.acquisitions[0].get("repetition_time_ms") == 4.0


@pytest.mark.parametrize(
    ("baseline", "expected"),
    [
        # mc01104/MRI seq/capsuleCL/pt4.pro, saved from the sequence ("Initialized by sequence"): a placeholder.
        ("000", None),
        # A console-saved baseline, as the VB17 TrioTim fixture DICOM carries it (dicom/Siemens/VB17_EPI_...).
        ("N4_VB17A_LATEST_20090307", "N4_VB17A_LATEST_20090307"),
    ],
)
def test_a_baseline_string_of_digits_names_no_software_version(tmp_path, baseline, expected):
    text = XA50_PRO.replace("ulVersion\t", f'sProtConsistencyInfo.tBaselineString\t = \t"{baseline}"\nulVersion\t')
    [inspection] = inspect_path(_pro(tmp_path, "pt4", text))
    assert inspection.acquisitions[0].get("software_version") == expected


def test_a_latin1_pro_still_reads(tmp_path):
    [inspection] = inspect_path(_pro(tmp_path, "t2_tse_tra_µ", XA50_PRO, encoding="latin-1"))
    assert inspection.acquisitions[0].name == "t2_tse_tra_µ"


REFERENCES = FIXTURES / "references"


def _read(path: Path) -> tuple[Acquisition, dict]:
    [inspection] = inspect_path(path)
    return inspection.acquisitions[0], json.loads(path.read_text(encoding="utf-8-sig"))


def test_out_of_plane_factor_of_a_3d_sidecar_is_the_slice_factor_the_dicom_states():
    # dcm2niix writes the DICOM (0018,9155) factor as ParallelReductionOutOfPlane, not BIDS' longer name.
    sidecar, dicom = _sidecar_and_dicom("GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm")
    assert sidecar.get("parallel_factor_slice") == dicom.get("parallel_factor_slice") == 2.0
    assert "ParallelReductionOutOfPlane" in sidecar.provenance["parallel_factor_slice"]


def test_out_of_plane_factor_of_a_2d_sidecar_is_its_multiband_factor():
    # ON-Harmony (OpenNeuro ds004712) Philips Ingenia: the protocol is named for it, "MB3" and "S1p5" (SENSE 1.5).
    acq, raw = _read(REFERENCES / "on-harmony/sub-03286/ses-NOT2ING001/dwi/sub-03286_ses-NOT2ING001_dir-AP_dwi.json")
    assert raw["SeriesDescription"] == "DTI_Biobank_2mm_MB3S1p5_EPI" and raw["MRAcquisitionType"] == "2D"
    assert acq.get("multiband_factor") == 3 and acq.get("parallel_factor") == 1.5
    assert acq.get("parallel_factor_slice") is None


def test_a_3d_philips_sidecar_states_its_slice_sense_factor():
    acq, raw = _read(REFERENCES / "on-harmony/sub-03286/ses-NOT1ACH001/anat/sub-03286_ses-NOT1ACH001_T2w.json")
    assert raw["ParallelReductionOutOfPlane"] == 2 and raw["MRAcquisitionType"] == "3D"
    assert acq.get("parallel_factor_slice") == 2.0 and acq.get("multiband_factor") is None
    assert acq.get("averages") == raw["NumberOfAverages"] == 2  # NumberOfAverages, as the sidecar states it


def test_a_2017_dcm2niix_sidecar_states_its_in_plane_factor_as_accelfactpe():
    # spine-generic sub-tokyoSkyra (dcm2niix v1.0.20170818): no ParallelReductionFactorInPlane key yet.
    acq, raw = _read(BIDS / "sub-tokyoSkyra/anat/sub-tokyoSkyra_T2star.json")
    assert "ParallelReductionFactorInPlane" not in raw and raw["AccelFactPE"] == 2
    assert acq.get("parallel_factor") == 2.0


def test_a_sidecar_written_with_a_byte_order_mark_reads(tmp_path):
    path = tmp_path / "sub-01_T1w.json"
    sidecar = {"Manufacturer": "Siemens", "MagneticFieldStrength": 3, "RepetitionTime": 2.3, "EchoTime": 0.00226}
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(sidecar).encode())
    acq, _ = _read(path)
    assert acq.get("repetition_time_ms") == 2300.0 and acq.get("field_strength_t") == 3.0


def test_numbers_written_as_strings_are_read_and_words_are_not(tmp_path):
    path = tmp_path / "sub-01_T2w.json"
    sidecar = {
        "Manufacturer": "GE",
        "RepetitionTime": "3.2",
        "EchoTime": "0.09",
        "FlipAngle": "90",
        "SliceThickness": "n/a",
    }
    path.write_text(json.dumps(sidecar))
    acq, _ = _read(path)
    assert (acq.get("repetition_time_ms"), acq.get("echo_time_ms"), acq.get("flip_angle_deg")) == (3200.0, 90.0, 90.0)
    assert acq.get("slice_thickness_mm") is None
    assert '"3.2"' in acq.provenance["repetition_time_ms"]


def test_an_echo_time_list_gives_every_echo_and_the_first_as_the_echo_time(tmp_path):
    path = tmp_path / "sub-01_MEGRE.json"
    sidecar = {"Manufacturer": "Philips", "RepetitionTime": 0.05, "EchoTime": [0.0046, 0.0092, 0.0138]}
    path.write_text(json.dumps(sidecar))
    acq, _ = _read(path)
    assert acq.get("echo_time_ms") == 4.6 and acq.get("echo_times_ms") == [4.6, 9.2, 13.8]


def test_a_non_finite_sidecar_value_is_absent(tmp_path):
    path = tmp_path / "sub-01_T2w.json"
    path.write_text('{"Manufacturer": "GE", "RepetitionTime": Infinity, "EchoTime": 0.09, "FlipAngle": NaN}')
    acq, _ = _read(path)
    assert acq.get("repetition_time_ms") is None and acq.get("flip_angle_deg") is None
    assert acq.get("echo_time_ms") == 90.0


EXAMCARD = FIXTURES / "vendor-exports/philips/spine_generic_philips_R53.ExamCard"


def _by_name(path: Path) -> dict[str, Acquisition]:
    return {a.name: a for i in inspect_path(path) for a in i.acquisitions}


def test_a_scan_name_the_soap_writer_refers_to_by_href_is_read(tmp_path):
    # .NET's SoapFormatter writes a string once and refers to it again by href (the fixture card itself points its
    # methodDescription at an empty geometryName that way): a second scan named like an earlier one has
    # <name href="#ref-N"/>. The card rewritten so GRE-T1 reuses GRE-MT's name reads that name, not "unnamed".
    text = EXAMCARD.read_text(encoding="utf-8")
    assert '<name id="ref-203">GRE-T1</name>' in text and '<name id="ref-180">GRE-MT</name>' in text
    card = tmp_path / "reused.ExamCard"
    card.write_text(text.replace('<name id="ref-203">GRE-T1</name>', '<name href="#ref-180"/>'), encoding="utf-8")
    names = [a.name for i in inspect_path(card) for a in i.acquisitions]
    assert names.count("GRE-MT") == 2 and "unnamed" not in names


def test_a_parameter_table_written_inline_is_read_like_one_referred_to(tmp_path):
    import re

    text = EXAMCARD.read_text(encoding="utf-8")
    table = re.search(r'<SOAP-ENC:Array id="ref-170" xsi:type="SOAP-ENC:base64">([^<]*)<', text).group(1)
    inline = text.replace(
        '<parameterData href="#ref-170"/>', f'<parameterData xsi:type="SOAP-ENC:base64">{table}</parameterData>'
    )
    card = tmp_path / "inline.ExamCard"
    card.write_text(inline, encoding="utf-8")
    original, rewritten = _by_name(EXAMCARD)["T1w"], _by_name(card)["T1w"]
    assert rewritten.params == original.params and original.get("inversion_time_ms") == 1000.0


_LX = 'set PSEQ "EPI"\nset IMODE "2D"\nset PLANE "AXIAL"\nset TE "88.0"\nset TR "4800.0"\nset SLTHICK "1.70"\n'


def test_a_lone_lxprotocol_is_named_by_its_series_folder_however_the_path_is_typed(tmp_path, monkeypatch):
    # GE writes one LxProtocol per series folder (mattcieslak/hbcd-docs: ge/DTI_20170221045322618_4/LxProtocol).
    series = tmp_path / "DTI_20170221045322618_4"
    series.mkdir()
    (series / "LxProtocol").write_text(_LX)
    monkeypatch.chdir(series)
    for typed in (series / "LxProtocol", Path("LxProtocol"), Path("./LxProtocol")):
        [inspection] = inspect_path(typed)
        assert inspection.acquisitions[0].get("series_description") == "DTI_20170221045322618_4"


def test_an_lxprotocol_saved_under_its_own_name_is_named_by_it_not_by_the_folder_it_was_put_in(tmp_path):
    # The same file saved from the web as "DTI_LxProtocol" into a download folder: that folder is no series.
    (tmp_path / "inputs").mkdir()
    path = tmp_path / "inputs" / "DTI_LxProtocol"
    path.write_text(_LX)
    [inspection] = inspect_path(path)
    assert inspection.acquisitions[0].get("series_description") == "DTI_LxProtocol"
    assert inspection.acquisitions[0].get("echo_time_ms") == 88.0
