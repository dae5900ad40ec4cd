"""Values the inputs state that the readers used to drop or misread (issue 11), each against an independent source.

Expected values come from the vendor's printout beside the export, dcm2niix's sidecar beside the DICOM, or the raw
header as dcmdump shows it; where no public file has the case, the test builds a file of its own from a real header
and says so.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import pydicom
import pytest

from ofsep_presets import ascconv
from ofsep_presets.acquisition import Acquisition
from ofsep_presets.readers import dicom, inspect_path

from .conftest import FIXTURES

EXPORTS = FIXTURES / "vendor-exports"
DICOM = FIXTURES / "dicom"
PRISMA = EXPORTS / "siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1"
CIMAX = EXPORTS / "siemens/CimaX_XA61_ZOOMit/spine-generic_CimaX_XA61_ZOOMit.exar1"
TRIO = EXPORTS / "siemens/Trio_VB17/spine_generic_siemens-trio.edx"


def _acquisitions(path: Path) -> dict[str, Acquisition]:
    return {a.name: a for i in inspect_path(path) for a in i.acquisitions}


def _sidecar(series: str) -> dict:
    [path] = (DICOM / series / "bids_json_dcm2niix").glob("*.json")
    return json.loads(path.read_text())


def _dataset(path: Path) -> pydicom.Dataset:
    raw = path.read_bytes()
    return pydicom.dcmread(io.BytesIO(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw))


def _one(series: str, prefix: str = "") -> Acquisition:
    [inspection] = [i for i in inspect_path(DICOM / series) if i.format == "dicom"]
    [acq] = [a for a in inspection.acquisitions if a.name.startswith(prefix)]
    return acq


# ---- Siemens protocols: EPI factor, every echo, MT pulse, CMRR multiband ----------------------------------------


@pytest.mark.parametrize(
    ("export", "step", "printed"),
    [
        # The printouts beside the exports: VE11C p. "EPI factor 36", XA61 "EPI Factor 36", VB17 "EPI factor 96".
        (PRISMA, "DWI_no-ZOOMit", 36),
        (CIMAX, "DWI", 36),
        (TRIO, "DWI", 96),
        (TRIO, "DWI_b0", 96),
    ],
)
def test_epi_factor_is_the_printed_one_not_lturbofactor_nor_lepifactor(export, step, printed):
    acq = _acquisitions(export)[step]
    assert acq.get("echo_train_length") == printed
    assert "lPhaseEncodingLines" in acq.provenance["echo_train_length"]


def test_turbo_factor_still_comes_from_lturbofactor_on_non_epi_protocols():
    # XA61 printout: T1w "Turbo Factor 192", T2w "Turbo Factor 100".
    acquisitions = _acquisitions(CIMAX)
    assert acquisitions["T1w"].get("echo_train_length") == 192
    assert acquisitions["T2w"].get("echo_train_length") == 100


def test_every_echo_of_a_dual_echo_pd_t2_is_read():
    acq = _one("Siemens/VE11_PD_T2_tse_sag_1.8mm")
    second = _sidecar("Siemens/VE11_PD_T2_tse_sag_1.8mm")["EchoTime"] * 1000  # dcm2niix's file of echo 2
    assert acq.get("echo_times_ms") == [acq.get("echo_time_ms"), pytest.approx(second)]
    assert acq.get("echo_time_ms") == 11.0  # raw header (0018,0081) DS [11] of the first-echo files


def test_echo_times_of_an_ascconv_protocol_stop_at_lcontrasts():
    # The CSA protocol of the same PD/T2 lists alTE[0..31] (stale slots) but lContrasts = 2.
    ds = _dataset(DICOM / "Siemens/VE11_PD_T2_tse_sag_1.8mm/0001.dcm")
    values = ascconv.parse(dicom._siemens_protocol(ds))
    assert values["lContrasts"] == 2 and "alTE[31]" in values
    acq = Acquisition("pd-t2")
    ascconv.to_acquisition(values, acq, "CSA ASCCONV")
    assert acq.get("echo_times_ms") == [11.0, 92.0]


def test_mt_pulse_on_and_off_as_the_printout_says():
    # XA61 printout: GRE-MT1 "MTC On"; GRE-MT0 and GRE-T1w "MTC Off".
    acquisitions = _acquisitions(CIMAX)
    assert acquisitions["GRE-MT1"].get("magnetization_transfer") is True
    assert acquisitions["GRE-MT0"].get("magnetization_transfer") is False
    assert acquisitions["GRE-T1w"].get("magnetization_transfer") is False
    assert _acquisitions(PRISMA)["GRE-MT1"].get("magnetization_transfer") is True  # VE11C printout "MTC On"


def test_mt_state_of_an_enhanced_dicom_agrees_with_dcm2niix():
    acq = _one("Siemens/XA30_enh_DWI_dir80_PA", "10 ")
    assert acq.get("magnetization_transfer") is _sidecar("Siemens/XA30_enh_DWI_dir80_PA")["MTState"]


def test_cmrr_multiband_factor_from_its_wip_block():
    ds = _dataset(next((DICOM / "Siemens/XA30_enh_DWI_dir80_PA").glob("*.dcm")))
    acq = Acquisition("cmrr")
    ascconv.to_acquisition(ascconv.parse(dicom._siemens_protocol(ds)), acq, "ASCCONV")
    assert acq.get("multiband_factor") == _sidecar("Siemens/XA30_enh_DWI_dir80_PA")["MultibandAccelerationFactor"]
    assert "sWipMemBlock.alFree[13]" in acq.provenance["multiband_factor"]


def test_a_customer_sequence_that_is_not_cmrr_states_no_multiband_factor():
    values = {"tSequenceFileName": "%CustomerSeq%\\some_wip_epi", "sWipMemBlock.alFree[13]": 3}
    acq = Acquisition("wip")
    ascconv.to_acquisition(values, acq, "ASCCONV")
    assert acq.get("multiband_factor") is None


def test_one_number_too_large_for_a_float_costs_its_field_only():
    """A 400-digit value (a damaged or hostile protocol) is not a number the mapping reads: it is left absent with
    a warning naming it, and the rest of the protocol is read (it once cost the whole protocol: OverflowError)."""
    text = "alTR[0] = 2500000\nalTE[0] = 30000\nsKSpace.lBaseResolution = 1" + "0" * 400 + "\n"
    acq = Acquisition("huge")
    ascconv.to_acquisition(ascconv.parse(text), acq, "ASCCONV")
    assert acq.get("repetition_time_ms") == 2500 and acq.get("echo_time_ms") == 30  # µs in the text
    assert acq.get("base_resolution") is None
    assert any("sKSpace.lBaseResolution" in w and "not a number" in w for w in acq.warnings)


# ---- DICOM: acceleration, matrix, diffusion, phase-encoding direction ---------------------------------------------


@pytest.mark.parametrize(
    "series",
    ["GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full", "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"],
)
def test_ge_asset_arc_factor_from_its_private_tag(series):
    acq = _one(series)
    assert acq.get("parallel_factor") == _sidecar(series)["ParallelReductionFactorInPlane"]
    assert "(0043,1083)" in acq.provenance["parallel_factor"]


def test_ge_arc_slice_factor_of_a_3d_acquisition():
    series = "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"
    assert _one(series).get("parallel_factor_slice") == _sidecar(series)["ParallelReductionOutOfPlane"]


def test_ge_hyperband_factor_from_its_private_tag(tmp_path):
    # No public GE HyperBand header in the fixtures: a real GE DWI header with (0043,10B6) set as dcm_qa_ge's README
    # documents it ("(0043,10b6) LO [2\4\19\\\\]": HyperBand factor, slice FOV shift, calibration).
    source = DICOM / "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full"
    for path in sorted(source.glob("i*")):
        ds = _dataset(path)
        ds.add_new((0x0043, 0x10B6), "LO", "2\\4\\19\\\\\\\\")
        ds.save_as(tmp_path / path.name)
    [inspection] = inspect_path(tmp_path)
    assert inspection.acquisitions[0].get("multiband_factor") == 2


def test_philips_classic_sense_factor_from_the_private_series_item():
    series = "Philips/Ingenia_classic_DTI_Biobank_2mm_full"
    acq = _one(series)
    assert acq.get("parallel_factor") == _sidecar(series)["ParallelReductionFactorInPlane"]


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        # raw header: MRFOVGeometrySequence (0018,9058) US 256, (0018,9231) US 203
        ("Philips/ElitionX_enh_T1W_TSE_2D", [256, 203]),
        # dcm2niix: AcquisitionMatrixPE 80 (read: (0018,9058) US 80)
        (
            "Canon/Galan3T_V6.1_enh_DTI_PA-ortho_full",
            [80, _sidecar("Canon/Galan3T_V6.1_enh_DTI_PA-ortho_full")["AcquisitionMatrixPE"]],
        ),
    ],
)
def test_matrix_of_enhanced_dicom_from_the_mr_fov_geometry_macro(series, expected):
    acq = _one(series)
    assert acq.get("matrix") == expected


def test_ge_b0_stated_only_in_the_private_diffusion_tag_is_counted():
    series = DICOM / "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full"
    raw = {p.name: _dataset(p) for p in series.glob("i*")}
    # raw header: i22/i23 have no (0018,9087) and (0043,1039) IS [0\8\0\0]; the others (0018,9087) FD 1000
    b0 = [name for name, ds in raw.items() if "DiffusionBValue" not in ds]
    assert b0 and all(int(raw[name][0x0043, 0x1039].value[0]) == 0 for name in b0)
    assert _one("GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full").get("b_values") == [0.0, 1000.0]


def test_ge_diffusion_directions_are_the_header_s_not_the_files_at_hand():
    series = DICOM / "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full"
    files = sorted(series.glob("i*"), key=lambda p: int(p.name.rsplit(".", 1)[1]))
    whole = dicom.read_many(series, files).acquisitions[0].get("diffusion_directions")
    partial = dicom.read_many(series, files[:5])  # the two b0 and three diffusion-weighted files
    [acq] = partial.acquisitions
    # (0019,10E0) DS [6.000000] in every file, and the 14 files of the whole series hold 6 directions.
    assert whole == 6 and acq.get("diffusion_directions") == 6
    assert "(0019,10E0)" in acq.provenance["diffusion_directions"]
    assert any("prescribed diffusion directions" in w for w in partial.warnings)


def test_a_canon_file_without_a_b_value_tag_is_a_b0(tmp_path):
    # No public Canon series lacks the tag in the fixtures (V6 writes (0018,9087) FD 0): the real V6.0 b0 file with
    # its b-value tag removed mirrors the Toshiba layout dcm2niix reads as b=0.
    source = DICOM / "Canon/Galan3T_V6.0_classic_DTI_PA-ortho"
    for path in sorted(source.glob("*.dcm")):
        ds = _dataset(path)
        if float(ds.DiffusionBValue) == 0:
            del ds.DiffusionBValue
        ds.save_as(tmp_path / path.name)
    [inspection] = inspect_path(tmp_path)
    acq = inspection.acquisitions[0]
    assert acq.get("b_values") == [0.0, 1500.0]
    assert "without a b-value tag" in acq.provenance["b_values"]


@pytest.mark.parametrize(
    ("series", "prefix", "expected"),
    [
        ("Siemens/XA30_classic_DWI_dir80_AP", "", "AP"),  # series named "DWI_dir80_AP"
        ("Siemens/XA30_enh_DWI_dir80_PA", "10 ", "PA"),  # named "DWI_dir80_PA"; dcm2niix "j" on an axial COL
        ("Siemens/VE11_DTI_ep2d_diff_20dir_mosaic", "", "AP"),  # dcm2niix "j-" on an axial COL: +column = A >> P
        ("Siemens/VE11_PD_T2_tse_sag_1.8mm", "", "AP"),  # dcm2niix "i" on a sagittal ROW whose row runs to P
    ],
)
def test_siemens_phase_encoding_direction_from_the_header_polarity(series, prefix, expected):
    acq = _one(series, prefix)
    assert acq.get("phase_encoding_direction") == expected


def test_a_file_without_polarity_states_no_phase_encoding_direction(tmp_path):
    source = next((DICOM / "Siemens/XA30_classic_DWI_dir80_AP").iterdir())
    ds = _dataset(source)
    del ds[0x0021, 0x111C]
    ds.save_as(tmp_path / "x.dcm")
    [inspection] = inspect_path(tmp_path)
    assert inspection.acquisitions[0].get("phase_encoding_direction") is None


GE_DWI = "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full"


def _dcm2niix_direction(sidecar: dict) -> str:
    """The patient direction dcm2niix's PhaseEncodingDirection names, by hand: its NIfTI keeps the DICOM row
    direction as +i and flips the rows, so +j runs against the DICOM column direction; the vector in LPS
    (+x left, +y posterior, +z head) is named by its largest component."""
    iop = sidecar["ImageOrientationPatientDICOM"]
    axis = sidecar["PhaseEncodingDirection"]
    vector = iop[:3] if axis.startswith("i") else [-v for v in iop[3:]]
    if axis.endswith("-"):
        vector = [-v for v in vector]
    main = max(range(3), key=lambda i: abs(vector[i]))
    return (("RL", "LR"), ("AP", "PA"), ("FH", "HF"))[main][0 if vector[main] > 0 else 1]


def test_ge_epi_phase_encoding_direction_is_dcm2niix_s():
    """GE EPI polarity from the binary user data (0043,102A), read as dcm2niix does: its sidecar says "Flipped"
    and "j" on this axial DWI, which is P >> A."""
    sidecar = _sidecar(GE_DWI)
    assert sidecar["PhaseEncodingPolarityGE"] == "Flipped" and sidecar["PhaseEncodingDirection"] == "j"
    acq = _one(GE_DWI)
    assert acq.get("phase_encoding_direction") == _dcm2niix_direction(sidecar) == "PA"
    assert "(0043,102A)" in acq.provenance["phase_encoding_direction"]


def test_ge_non_epi_states_no_phase_encoding_direction():
    """The GE MP-RAGE's user data marks no EPI: no polarity, as dcm2niix (its sidecar has no PhaseEncodingDirection)."""
    series = "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"
    assert "PhaseEncodingDirection" not in _sidecar(series)
    assert _one(series).get("phase_encoding_direction") is None


def _ge_dwi_with_user_data(tmp_path: Path, edit) -> Acquisition:
    source = sorted((DICOM / GE_DWI).glob("i*"))[0]
    ds = _dataset(source)
    ds[0x0043, 0x102A].value = edit(bytearray(ds[0x0043, 0x102A].value))
    ds.save_as(tmp_path / source.name)
    [inspection] = inspect_path(tmp_path)
    return inspection.acquisitions[0]


def test_ge_polarity_bit_reverses_the_direction(tmp_path):
    """The same header with the polarity bit (+0x30, 0x4) set: with the bottom-up view order it is unflipped."""
    import struct

    def set_bit(data: bytearray) -> bytes:
        at = struct.unpack_from("<H", data, 24)[0] + 0x4C + 0x30  # version 28.003: the RX25+ layout
        data[at] |= 0x4
        return bytes(data)

    assert _ge_dwi_with_user_data(tmp_path, set_bit).get("phase_encoding_direction") == "AP"


def test_ge_damaged_user_data_leaves_the_direction_absent(tmp_path):
    acq = _ge_dwi_with_user_data(tmp_path, lambda data: bytes(data[:400]))
    assert acq.get("phase_encoding_direction") is None
    assert acq.get("repetition_time_ms") and acq.get("matrix")  # the rest read


def test_fixture_copies_are_not_left_behind(tmp_path):
    shutil.copy(next((DICOM / "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full").glob("i*")), tmp_path / "one")
    before = (tmp_path / "one").read_bytes()
    inspect_path(tmp_path)
    assert (tmp_path / "one").read_bytes() == before  # inputs never modified


# ---- BIDS sidecars ----------------------------------------------------------------------------------------------

SPINE_BIDS = FIXTURES / "bids/spine-generic-single-subject"


def test_bids_phase_encoding_direction_of_spine_generic_siemens_dwi_is_the_protocol_s():
    # spine-generic's Siemens protocol prints the DWI as "Phase Encoding Dir. A >> P" (the XA61 printout beside the
    # export); dcm2niix wrote "j-" with the DICOM orientation of an axial image for every Siemens site.
    [inspection] = inspect_path(SPINE_BIDS / "sub-douglas/dwi/sub-douglas_dwi.json")
    [acq] = inspection.acquisitions
    assert acq.get("phase_encoding_direction") == "AP"
    siemens = [
        a
        for p in sorted(SPINE_BIDS.glob("sub-*/dwi/*_dwi.json"))
        for i in inspect_path(p)
        for a in i.acquisitions
        if a.get("manufacturer") == "siemens" and a.get("acquisition_type") == "2D"  # older sidecars do not say
    ]
    assert len(siemens) >= 5 and {a.get("phase_encoding_direction") for a in siemens} == {"AP"}


def test_bids_phase_axis_without_polarity_or_dicom_orientation_states_no_direction(tmp_path):
    sidecar = json.loads((SPINE_BIDS / "sub-douglas/dwi/sub-douglas_dwi.json").read_text())
    sidecar.pop("ImageOrientationPatientDICOM")
    (tmp_path / "x_dwi.json").write_text(json.dumps(sidecar))
    [inspection] = inspect_path(tmp_path / "x_dwi.json")
    assert inspection.acquisitions[0].get("phase_encoding_direction") is None


def test_bids_mt_state():
    [inspection] = inspect_path(DICOM / "Siemens/XA30_enh_DWI_dir80_PA/bids_json_dcm2niix")
    assert inspection.acquisitions[0].get("magnetization_transfer") is False  # "MTState": false


# ---- Philips ExamCard -------------------------------------------------------------------------------------------

EXAMCARD = EXPORTS / "philips/spine_generic_philips_R53.ExamCard"


def test_examcard_mt_pulse_and_every_echo_as_the_printout_says():
    acquisitions = _acquisitions(EXAMCARD)
    # R53 printout: GRE-MT "MTC off resonance", every other scan "MTC no"
    assert acquisitions["GRE-MT"].get("magnetization_transfer") is True
    assert acquisitions["GRE-T1"].get("magnetization_transfer") is False
    # GRE-ME: "Echoes 3", "Act. TR/TE1/delta TE 600 / 7.2 / 6.5"
    assert acquisitions["GRE-ME"].get("echo_times_ms") == [7.2, 13.7, 20.2]
    assert acquisitions["DWI"].get("echo_times_ms") == [acquisitions["DWI"].get("echo_time_ms")]


def _r11_style(blob: bytes) -> bytes:
    """The R53 table rewritten as the issue describes R11 cards: no enum label lists, enums stored as plain int32
    records, and the per-stack arrays holding the one stack the scan has (a scalar record)."""
    import struct

    data = bytearray(blob)
    count = struct.unpack_from("<8i", data)[7]
    for i in range(count):
        at = 32 + 50 * i
        name = bytes(data[at : at + 34]).split(b"\0", 1)[0].decode()
        kind, n, _, value_offset = struct.unpack_from("<4i", data, at + 34)
        if kind == 4:
            kind = 1
        if name.startswith("EX_GEO_stacks_"):
            n = 1
        struct.pack_into("<4i", data, at + 34, kind, n, 0, value_offset)
    return bytes(data)


def test_an_r11_style_examcard_table_reads_slices_gap_mode_and_orientation_from_plain_numbers():
    import base64

    from lxml import etree

    from ofsep_presets import xmlsafe
    from ofsep_presets.readers import philips_examcard as reader

    root = xmlsafe.parse(EXAMCARD.read_bytes(), "card", huge=True)
    ids = {e.get("id"): e for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    [dwi] = [
        e
        for e in root.iter()
        if isinstance(e.tag, str) and etree.QName(e).localname == "ScanProcedure" and e.findtext("name") == "DWI"
    ]
    blob = base64.b64decode(ids[dwi.find("parameterData").get("href")[1:]].text)
    values, fell_back = reader.decode_table(_r11_style(blob))
    assert {"EX_ACQ_scan_mode", "EX_GEO_stacks_orientations"} <= fell_back
    acq = reader.acquisition("DWI", values, None, "card")
    # R53 printout of the same DWI: "Scan mode MS", "slices 15", "gap (mm) 0", "slice orientation transverse"
    assert acq.get("acquisition_type") == "2D"
    assert acq.get("slices") == 15
    assert acq.get("slice_gap_mm") == 0.0
    assert acq.get("orientation") == "axial"


def test_field_strength_of_an_xa30_protocol_without_flnominalb0():
    # XA30 protocols drop sProtConsistencyInfo.flNominalB0 (no public XA30 .exar1 exists; the XA30 DICOM's own
    # protocol is the same XA30 ASCCONV): its measured 1H frequency states B0. dcm2niix: MagneticFieldStrength 3,
    # ImagingFrequency 123.262377 MHz.
    series = "Siemens/XA30_enh_DWI_dir80_PA"
    values = ascconv.parse(dicom._siemens_protocol(_dataset(next((DICOM / series).glob("*.dcm")))))
    assert "sProtConsistencyInfo.flNominalB0" not in values
    acq = Acquisition("xa30")
    ascconv.scanner_to_acquisition(values, acq, "ASCCONV")
    sidecar = _sidecar(series)
    assert acq.get("field_strength_t") == sidecar["MagneticFieldStrength"]
    assert "lFrequency" in acq.provenance["field_strength_t"]
    assert abs(values["sTXSPEC.asNucleusInfo[0].lFrequency"] / 1e6 - sidecar["ImagingFrequency"]) < 1e-3


def test_xa_fat_water_contrast_as_the_printout_says():
    # XA61 printout: DWI "Fat-Water Contrast SPAIR", T1w and GRE-ME "Fat-Water Contrast Standard"
    acquisitions = _acquisitions(CIMAX)
    assert acquisitions["DWI"].get("fat_suppression") == "spair"
    assert acquisitions["T1w"].get("fat_suppression") == "none"
    assert acquisitions["GRE-ME"].get("fat_suppression") == "none"


def test_enhanced_dicom_without_partial_fourier_says_full_k_space():
    # raw header: (0018,9081) CS [NO] in the Elition X TSE; the Philips classic DTI says [YES] (fraction unsaid)
    assert _one("Philips/ElitionX_enh_T1W_TSE_2D").get("partial_fourier") == 1.0
    assert _one("Philips/Ingenia_classic_DTI_Biobank_2mm_full").get("partial_fourier") is None


def _ve11c_mprage_protocol() -> str:
    """The VE11C spine-generic MPRAGE's XProtocol + ASCCONV text, from the .exar1's raw record (JSON)."""
    import sqlite3
    import zlib

    con = sqlite3.connect(f"{PRISMA.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    for (blob,) in con.execute("select Data from Content"):
        text = zlib.decompress(blob, -15).decode("utf-8", "replace")
        if "tfl" in text and "sFastImaging.lTurboFactor" in text:
            return json.loads(text.split(";", 1)[1])["Data"]
    raise AssertionError("no MPRAGE record")


def test_a_protocol_value_the_image_header_states_is_not_warned_as_lost(tmp_path, monkeypatch):
    """A VE MPRAGE's CSA protocol leaves its stale lTurboFactor absent with a warning; a DICOM header that states
    EchoTrainLength itself loses nothing, so the warning is not repeated there (it is, where the header is silent)."""
    monkeypatch.setattr(dicom, "_siemens_protocol", lambda ds: _ve11c_mprage_protocol())
    series = DICOM / "Siemens/XA30_classic_T1w_MPRAGE_tfl3d_2mm"
    stated = _dataset(sorted(series.iterdir())[0]).EchoTrainLength
    [inspection] = inspect_path(series)
    assert inspection.acquisitions[0].get("echo_train_length") == stated
    assert not [w for w in inspection.warnings if "echo_train_length" in w]
    for path in sorted(series.iterdir()):
        ds = _dataset(path)
        del ds.EchoTrainLength
        ds.save_as(tmp_path / path.name.removesuffix(".gz"))
    [inspection] = inspect_path(tmp_path)
    assert inspection.acquisitions[0].get("echo_train_length") is None
    assert [w for w in inspection.warnings if "echo_train_length" in w and "stale" in w]


@pytest.mark.parametrize(
    ("series", "expected"),
    [
        # dcm2niix's sidecar beside each: "ParallelAcquisitionTechnique": "SENSE" (from (0018,9078))
        ("Philips/Ingenia_classic_ADNI_Sag3D_MPRAGE_1mm", "sense"),
        ("Philips/Ingenia_classic_DTI_Biobank_2mm_full", "sense"),
        ("Philips/Achieva_enh_MPRAGE_nibabel_stripped", "sense"),
        # (0018,9077) Parallel Acquisition NO in the header
        ("Philips/ElitionX_enh_T1W_TSE_2D", "none"),
        # Canon writes OTHER (its sidecar: "ParallelAcquisitionTechnique": "OTHER"): no canonical mode
        ("Canon/Galan3T_V6.1_enh_DTI_PA-ortho_full", None),
    ],
)
def test_dicom_parallel_mode_is_the_header_s_technique(series, expected):
    sidecars = list((DICOM / series / "bids_json_dcm2niix").glob("*.json"))
    for sidecar in sidecars:  # where dcm2niix read the same header, it names the same technique
        stated = json.loads(sidecar.read_text()).get("ParallelAcquisitionTechnique")
        assert stated is None or stated.lower() == (expected or "other")
    assert _one(series).get("parallel_mode") == expected


def _xa30_ap_protocol() -> dict:
    """The ASCCONV of the XA30 "DWI_dir80_AP" fixture (cmrr_mbep2d_diff), from its own (0021,1019)."""
    from ofsep_presets.readers.dicom import _siemens_protocol

    source = sorted((DICOM / "Siemens/XA30_classic_DWI_dir80_AP").iterdir())[0]
    return ascconv.parse(_siemens_protocol(_dataset(source)))


def test_a_customer_sequence_states_no_phase_direction_from_its_prescription():
    """CMRR's "Invert RO/PE polarity" (its Special card) turns the phase encoding inside the sequence, unseen in
    dInPlaneRot (CMRR-C2P/MB issues 84, 354). The XA30 "DWI_dir80_AP" series is A >> P in its images ((0021,111C)
    = 1 along +column, test above; dcm2niix's reference "j-"), yet its prescription before AutoAlign is a half turn
    (sAAInitialOffset dInPlaneRot 3.1415), which the console's rule alone reads P >> A: from the protocol of a
    customer sequence the direction is absent, with a warning."""
    values = _xa30_ap_protocol()
    assert "CustomerSeq" in values["tSequenceFileName"]
    values["sSliceArray.asSlice[0].dInPlaneRot"] = values["sAAInitialOffset.SliceInformation.dInPlaneRot"]
    acq = Acquisition("DWI_dir80_AP")
    ascconv.to_acquisition(values, acq, "ASCCONV")
    assert acq.get("phase_encoding_direction") is None
    assert any("customer sequence" in w and "phase_encoding_direction" in w for w in acq.warnings)
    assert _one("Siemens/XA30_classic_DWI_dir80_AP").get("phase_encoding_direction") == "AP"  # the images stand


def test_an_unreadable_in_plane_rotation_is_no_rotation_zero():
    """The VE11C T2w (sagittal, dInPlaneRot π/2: its printout's "Phase enc. dir. H >> F"): a word in place of the
    rotation leaves the direction absent, warned, rather than read as rotation 0 (A >> P)."""
    [export] = inspect_path(PRISMA)
    assert next(a for a in export.acquisitions if a.name == "T2w").get("phase_encoding_direction") == "HF"
    values = {"sSliceArray.asSlice[0].sNormal.dSag": 1.0, "sSliceArray.asSlice[0].dInPlaneRot": "Allowed"}
    acq = Acquisition("T2w")
    ascconv.to_acquisition(values, acq, "ASCCONV")
    assert acq.get("orientation") == "sagittal" and acq.get("phase_encoding_direction") is None
    assert any("dInPlaneRot" in w for w in acq.warnings)


SPINE_GENERIC = FIXTURES / "bids" / "spine-generic-single-subject"
HARMONY = FIXTURES / "references" / "on-harmony"


@pytest.mark.parametrize("subject", ["sub-chiba750", "sub-juntendo750w", "sub-tokyoSigna2"])
def test_scan_options_joined_by_underscores_state_fat_saturation(subject):
    """The GE DWI sidecars (dcm2niix of 2017-2020) write ScanOptions joined by underscores,
    "SAT_GEMS_EPI_GEMS_PFF_FS": FS is DICOM's Fat Saturation (PS3.3 C.8.3.1), as a plain "FS" or "PFP\\FS" is."""
    [sidecar] = (SPINE_GENERIC / subject / "dwi").glob("*_dwi.json")
    options = json.loads(sidecar.read_text())["ScanOptions"]
    assert "\\" not in options and options.endswith("_FS")
    [acq] = inspect_path(sidecar)[0].acquisitions
    assert acq.get("fat_suppression") == "fatsat", acq.provenance.get("fat_suppression")


def test_a_known_term_holding_underscores_is_taken_whole():
    from ofsep_presets.readers import dicom_terms

    assert list(dicom_terms.stated("SpectrallySelectedSuppression", "FAT_AND_WATER")) == [
        ("fat_suppression", "fatsat", "FAT_AND_WATER")
    ]
    assert [t for *_, t in dicom_terms.stated("ScanOptions", "PFP_FS")] == ["FS"]
    assert [t for *_, t in dicom_terms.stated("ScanOptions", "EDR_GEMS_MT_GEMS_FILTERED_GEMS_PFF")] == ["MT_GEMS"]


@pytest.mark.parametrize(
    ("subject", "options", "variant"),
    [
        # Siemens: SequenceVariant MTC, DICOM's "MTC = magnetization transfer contrast" (PS3.3 C.8.3.1); the
        # spine-generic GRE-MT1 is the "MTC On" step of the Siemens printouts beside the exports.
        ("sub-mgh", "MT", "MTC_SP"),
        ("sub-oxfordFmrib", "MT_WE", "MTC_SP"),
        # GE: MT_GEMS, GE's own ScanOptions term for its MT pulse (read from the GE DICOM as well).
        ("sub-juntendo750w", "EDR_GEMS_MT_GEMS_FILTERED_GEMS_PFF", "SS_SP"),
    ],
)
def test_a_sidecar_s_mt_pulse_is_read_from_its_dicom_terms(subject, options, variant):
    """The MT-on GRE of the spine-generic subject (flip-1_mt-on_MTS) states its MT pulse only in DICOM terms that
    dcm2niix copies (no MTState key in these sidecars of 2020)."""
    [sidecar] = (SPINE_GENERIC / subject / "anat").glob("*_flip-1_mt-on_MTS.json")
    data = json.loads(sidecar.read_text())
    assert (data["ScanOptions"], data["SequenceVariant"], "MTState" in data) == (options, variant, False)
    [acq] = inspect_path(sidecar)[0].acquisitions
    assert acq.get("magnetization_transfer") is True, acq.provenance.get("magnetization_transfer")
    # the MT-off step of the same subject states no MT term: nothing is said (absent, not false)
    [off] = (SPINE_GENERIC / subject / "anat").glob("*_flip-1_mt-off_MTS.json")
    assert "magnetization_transfer" not in inspect_path(off)[0].acquisitions[0].params


def test_a_trio_dwi_sidecar_s_we_is_the_water_excitation_its_printout_prints():
    """sub-mgh is a TrioTim VB17 running the spine-generic protocol; the Trio VB17 printout of that protocol
    (vendor-exports/siemens/Trio_VB17, the .edx's own PDF) prints the DWI's "Fat suppr. Water excit. normal", and
    the sidecar of the acquired DWI states "ScanOptions": "PFP_SAT2_WE_CT"."""
    sidecar = SPINE_GENERIC / "sub-mgh" / "dwi" / "sub-mgh_dwi.json"
    data = json.loads(sidecar.read_text())
    assert (data["ManufacturersModelName"], data["ScanOptions"]) == ("TrioTim", "PFP_SAT2_WE_CT")
    [acq] = inspect_path(sidecar)[0].acquisitions
    assert acq.get("fat_suppression") == "water_excitation", acq.provenance.get("fat_suppression")
    # the export itself agrees (its ASCCONV sPrepPulses.ucFatSat 0x02)
    assert _acquisitions(TRIO)["DWI"].get("fat_suppression") == "water_excitation"


def test_siemens_water_excitation_in_scan_options():
    """Siemens writes WE for its water excitation (a T1w "with water excitation": "IR\\WE", rordenlab/dcm2niix
    issue 606); the Oxford FMRIB spine-generic GRE-MT, acquired with water excitation (spine-generic/protocols
    issue 4), states "ScanOptions": "WE" (MT off) and "MT_WE" (MT on)."""
    stating = [
        sidecar
        for sidecar in sorted((SPINE_GENERIC / "sub-oxfordFmrib" / "anat").glob("*_MTS.json"))
        if "WE" in json.loads(sidecar.read_text())["ScanOptions"].split("_")
    ]
    assert len(stating) >= 3
    for sidecar in stating:
        [acq] = inspect_path(sidecar)[0].acquisitions
        assert acq.get("fat_suppression") == "water_excitation", (sidecar.name, acq.provenance)


def test_a_sidecar_s_parallel_acquisition_technique_is_the_parallel_mode():
    """on-harmony's Philips sidecars: "ParallelAcquisitionTechnique": "SENSE" (BIDS; DICOM (0018,9078))."""
    sidecars = sorted(HARMONY.rglob("*NOT2ING001*_T1w.json"))
    assert sidecars
    for sidecar in sidecars:
        assert json.loads(sidecar.read_text())["ParallelAcquisitionTechnique"] == "SENSE"
        [acq] = inspect_path(sidecar)[0].acquisitions
        assert acq.get("parallel_mode") == "sense"


def test_ge_hyperband_factor_is_the_mbaccel_key():
    """A real GE export states its HyperBand factor as `set MBACCEL "3"` beside IOPT "EDR, Cla, EPI, DIFF, ARC, HB"
    (the HBCD study's public GE DTI LxProtocol, mattcieslak/hbcd-docs docs/v2.2_sequences/ge): one line of it."""
    from ofsep_presets.readers.ge_protocol import lx_acquisition

    acq = lx_acquisition("DTI", 'set IOPT "EDR, Cla, EPI, DIFF, ARC, HB"\nset MBACCEL "3"\n', "LxProtocol")
    assert acq.get("multiband_factor") == 3 and acq.get("parallel_mode") == "arc"


def test_philips_multiband_sense_is_sense_in_plane():
    """The ON-Harmony Ingenia DWI: "ParallelAcquisitionTechnique": "MBSENSE" beside an in-plane factor of 1.5, its
    series "DTI_Biobank_2mm_MB3S1p5" (SENSE 1.5 with multiband 3)."""
    sidecar = HARMONY / "sub-03286/ses-NOT2ING001/dwi/sub-03286_ses-NOT2ING001_dir-AP_dwi.json"
    stated = json.loads(sidecar.read_text())
    assert stated["ParallelAcquisitionTechnique"] == "MBSENSE" and stated["ParallelReductionFactorInPlane"] == 1.5
    [acq] = inspect_path(sidecar)[0].acquisitions
    assert acq.get("parallel_mode") == "sense" and acq.get("parallel_factor") == 1.5


def test_a_7_tesla_protocol_is_a_7_t_system(tmp_path):
    # Siemens protocols state the magnet's B0, not its class: 6.98093605042 T in the XA ASCCONV of 7 T systems
    # (the layout of ../shared/notes/format-excerpts/03_*: "key<TAB> = <TAB>value" lines between the ASCCONV
    # markers). dcm2niix's sidecar of a Siemens 7 T series says "MagneticFieldStrength": 7 beside
    # "ImagingFrequency": 297.231638 MHz (= 6.98 T; OpenNeuro ds005345), as it says 3 for the 2.89 T systems.
    protocol = tmp_path / "ep2d_bold_7T.pro"
    protocol.write_text(
        "### ASCCONV BEGIN object=MrProtDataImpl@MrProtocolData version=66010002 ###\n"
        'tProtocolName\t = \t"ep2d_bold"\n'
        "sProtConsistencyInfo.flNominalB0\t = \t6.98093605042\n"
        "alTR[0]\t = \t2000000\n"
        "### ASCCONV END ###\n"
    )
    [acq] = [a for i in inspect_path(protocol) for a in i.acquisitions]
    assert acq.get("field_strength_t") == 7.0
    assert "6.98093605042" in acq.provenance["field_strength_t"]
    # the 3 T and 1.5 T classes as before; a value near no class stays as stated
    for raw, nominal in ((2.89362001419, 3.0), (1.494, 1.5), (0.55, 0.55), (9.38, 9.38)):
        acq = Acquisition("b0")
        ascconv.scanner_to_acquisition({"sProtConsistencyInfo.flNominalB0": raw}, acq, "ASCCONV")
        assert acq.get("field_strength_t") == nominal, raw
