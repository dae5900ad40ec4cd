"""Sequence families from what a header states: an echo-planar readout without diffusion is no structural sequence.

Truth: the fixture's own DICOM header (ScanningSequence EP, SequenceName *epfid2d1_64: Siemens' gradient-echo EPI,
the BOLD readout; read with pydicom here, independently of our reader).
"""

from __future__ import annotations

import json

import pydicom
from click.testing import CliRunner

from ofsep_presets.cli import main
from ofsep_presets.families import Hints, classify

from .conftest import FIXTURES

BOLD = FIXTURES / "dicom/Siemens/VB17_EPI_TrioTim_jpeg_ls_ts"


def test_the_fixture_header_is_a_gradient_echo_epi():
    header = pydicom.dcmread(next(BOLD.iterdir()), stop_before_pixels=True)
    assert header.ScanningSequence == "EP" and header.SequenceName.startswith("*epfid")


def test_a_gradient_echo_epi_is_family_other_whatever_its_te():
    family, why = classify(
        Hints(
            scanning_sequence="EP",
            sequence_variant="SK",
            sequence_name="*epfid2d1_64",
            description="ax_asc_35sl",
            acquisition_type="2D",
            echo_time_ms=30,
        )
    )
    assert family == "other" and "echo-planar" in why
    # GE writes EP\GR for its gradient-echo EPI (BOLD, DSC perfusion).
    assert classify(Hints(scanning_sequence="EP\\GR", description="Ax perf", echo_time_ms=35))[0] == "other"


def test_diffusion_stays_diffusion():
    assert classify(Hints(scanning_sequence="EP", sequence_name="*ep_b1000t", description="DWI"))[0] == "epi_dwi"
    assert classify(Hints(scanning_sequence="EP", description="ax", max_b=1000))[0] == "epi_dwi"


def test_a_bold_series_fills_no_slot_of_the_protocol():
    result = CliRunner().invoke(main, ["check", str(BOLD), "--spec", "ofsep-2020", "--format", "json", "--quiet"])
    report = json.loads(result.output)
    assert [s["id"] for s in report["sequences"] if s.get("matched")] == []
    assert "1 ax_asc_35sl" in report["unmatched"]


def test_a_3d_tse_named_tse_is_the_single_slab_space_family():
    """A name saying TSE with MRAcquisitionType 3D (ARC's "T2 3D TSE SAG 160sl", Siemens *spc3d1 / tse_vfl) is a
    3D turbo spin echo: the SPACE / CUBE / VISTA family, as the same name with 2D is a TSE."""
    three = classify(Hints(scanning_sequence="SE", description="T2 3D TSE SAG 160sl", acquisition_type="3D"))
    two = classify(Hints(scanning_sequence="SE", description="T2 TSE SAG", acquisition_type="2D"))
    assert three[0] == "space" and two[0] == "tse"


def test_a_ge_propeller_series_is_a_turbo_spin_echo():
    """The MR-AAT GE SIGNA Artist report prints "Sag T1 TOP Prop" with Pulse Sequence PROPELLER (GE's FSE read out
    in rotating blades): family tse, like the report's FSE-XL series, and so a candidate for the spinal T1."""
    from ofsep_presets.readers import inspect_path

    report = FIXTURES / (
        "references/mraat/ge_artist_and_premier_aat_example_protocols/SIGNA Artist/GE_ProtocolExchange/"
        "adult_spine_Ultrafast3partwspine_20220326170523213_12.html"
    )
    text = report.read_text(errors="replace")
    assert ">PROPELLER<" in text and ">Sag T1 TOP Prop - Sag T1 TOP Prop<" in text
    [inspection] = inspect_path(report)
    prop = next(a for a in inspection.acquisitions if a.name == "Sag T1 TOP Prop - Sag T1 TOP Prop")
    assert prop.get("sequence_family") == "tse"


def test_a_ge_gradient_echo_pulse_sequence_is_a_gradient_echo_and_its_loc_a_localizer(spec):
    """The same report's "TOP LOC" series: Pulse Sequence "Gradient Echo", Imaging Mode 2D (as printed). Its readout
    is a gradient echo (ge.yaml `scanning_sequences`), and its name, GE's "LOC", says localizer: it is listed as
    one, never weighed for a slot."""
    from ofsep_presets.check import check
    from ofsep_presets.readers import inspect_path

    report = FIXTURES / (
        "references/mraat/ge_artist_and_premier_aat_example_protocols/SIGNA Artist/GE_ProtocolExchange/"
        "adult_spine_Ultrafast3partwspine_20220326170523213_12.html"
    )
    assert ">Gradient Echo<" in report.read_text(errors="replace")
    [inspection] = inspect_path(report)
    locs = [a for a in inspection.acquisitions if " LOC" in a.name]
    assert len(locs) == 3 and {a.get("sequence_family") for a in locs} == {"gre"}
    result = check([inspection], spec)
    assert {why for acq, why in result.unmatched if acq in locs} == {"localizer or calibration"}


# Philips names its readout in the Scanning Technique (2001,1020), not in ScanningSequence: the fixture Ingenia
# DTI's classic header says ScanningSequence SE with technique DwiSE, its ADNI MPRAGE GR with T1TFE.
PHILIPS_DTI = FIXTURES / "dicom/Philips/Ingenia_classic_DTI_Biobank_2mm_full"


def _philips_header(folder):
    import gzip
    import io

    first = sorted(p for p in folder.rglob("IM_*") if p.is_file())[0]
    raw = first.read_bytes()
    return pydicom.dcmread(io.BytesIO(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw), force=True)


def test_a_philips_dwise_without_b_values_is_diffusion_not_a_turbo_spin_echo():
    """A Philips diffusion series whose b-values are not at hand (a sidecar without its .bval, a phase or map
    series of the DTI: the motivating dcm_qa_philips_enh "DTIphase_S2MB2", taken for the 2D PD/T2 TSE) is still
    the diffusion-weighted spin-echo EPI its technique names. Truth: the fixture's own header, read with pydicom:
    ScanningSequence SE, Scanning Technique DwiSE, MRAcquisitionType 2D."""
    header = _philips_header(PHILIPS_DTI)
    technique = str(header[0x2001, 0x1020].value)
    assert header.ScanningSequence == "SE" and technique == "DwiSE"
    family, why = classify(
        Hints(
            scanning_sequence=str(header.ScanningSequence),
            sequence_name=technique,
            description="WIP series 2301",  # a name that says nothing of diffusion
            acquisition_type=str(header.MRAcquisitionType),
            echo_time_ms=float(header.EchoTime),
        )
    )
    assert family == "epi_dwi" and "DwiSE" in why


def test_a_philips_field_echo_epi_is_echo_planar_not_a_t2_star():
    """Philips' BOLD EPI states ScanningSequence GR only: its technique FEEPI (dcm2niix's PulseSequenceName; a PAR
    file's "Technique: FEEPI" beside "EPI factor 39", nibabel's phantom_EPI_asc_CLEAR PAR), or "EPI" in its name
    where a sidecar of an older dcm2niix leaves the technique out (the motivating dcm_qa_philips EPI_asc_CLEAR:
    GR, 2D, TE 30 ms, taken for the axial 2D T2* gradient echo), says echo-planar: no structural sequence."""
    field_echo = {"scanning_sequence": "GR", "acquisition_type": "2D", "echo_time_ms": 30}
    by_technique = classify(Hints(sequence_name="FEEPI", description="run 1", **field_echo))
    by_name = classify(Hints(description="EPI_asc", **field_echo))
    assert by_technique[0] == "other" and by_name[0] == "other"
    # The same field echo without any EPI statement stays the 2D T2* gradient echo it is.
    assert classify(Hints(scanning_sequence="GR", description="T2 FFE", acquisition_type="2D", echo_time_ms=16))[0] == (
        "t2star"
    )
    # French "EPI" (épilepsie) names a spin-echo coronal T2 of an epilepsy program: still the TSE its header says.
    epilepsy = Hints(scanning_sequence="SE", description="COR T2 EPI", acquisition_type="2D", echo_time_ms=100)
    assert classify(epilepsy)[0] == "tse"
    # A spin-echo EPI with no diffusion stated (SEEPI: a reversed-phase b0) is echo-planar, not a TSE.
    b0 = classify(Hints(scanning_sequence="SE", sequence_name="SEEPI", description="B0", acquisition_type="2D"))
    assert b0[0] == "other"


def test_a_direction_count_in_the_name_is_a_diffusion_series():
    """ "DT_HIGH_32DIR" (the motivating dcm_qa_philips sidecar: ScanningSequence SE, no technique, no .bval) names
    32 gradient directions: a diffusion acquisition, not the 2D TSE its SE alone would make it. "DIR" alone is the
    double inversion recovery, and "30 dir" no DIR either."""
    assert classify(Hints(scanning_sequence="SE", description="DT_HIGH_32DIR", acquisition_type="2D"))[0] == "epi_dwi"
    assert classify(Hints(scanning_sequence="SE", description="dti 64dirs", acquisition_type="2D"))[0] == "epi_dwi"
    assert classify(Hints(scanning_sequence="SE\\IR", description="3D_DIR_SPACE", acquisition_type="3D"))[0] == "dir"
    # "3DIR": the dimension glued to the DIR (as "3DFLAIR", "3DT1"), not 3 directions; with a diffusion word it is.
    for name in ("3DIR_SAG", "sag_3DIR", "2DIR tra"):
        three_d = Hints(scanning_sequence="SE\\IR", description=name, acquisition_type="3D", inversion_time_ms=3000)
        assert classify(three_d)[0] == "dir", name
    assert classify(Hints(scanning_sequence="SE", description="DWI_3dir", acquisition_type="2D"))[0] == "epi_dwi"


def test_a_2d_acquisition_is_no_mprage():
    """An MP-RAGE is "three-dimensional magnetization-prepared rapid gradient-echo imaging" (Mugler & Brookeman,
    MRM 1990;15:152): a 2D gradient echo with an inversion, a prepared variant or an MPRAGE-like name is not one.
    The same facts in 3D (or with 2D/3D unstated) still are."""
    for hints in (
        Hints(sequence_name="T1TFE", acquisition_type="2D", echo_time_ms=4.6),
        Hints(scanning_sequence="GR\\IR", acquisition_type="2D", echo_time_ms=4.0, inversion_time_ms=800.0),
        Hints(scanning_sequence="GR", sequence_variant="SP\\MP", acquisition_type="2D", echo_time_ms=4.0),
    ):
        family, why = classify(hints)
        assert family == "gre" or (family is None and hints.scanning_sequence == ""), (hints, family, why)
    assert classify(Hints(sequence_name="T1TFE", acquisition_type="3D"))[0] == "mprage"
    # A Siemens sequence file says the same: a 2D tfl (with an inversion or without) is a 2D gradient echo.
    for inversion in (800.0, None):
        assert classify(Hints(sequence_file="tfl", acquisition_type="2D", inversion_time_ms=inversion))[0] == "gre"
    assert classify(Hints(sequence_file="tfl", acquisition_type="3D", inversion_time_ms=900.0))[0] == "mprage"
    assert classify(Hints(scanning_sequence="GR\\IR", acquisition_type="3D", inversion_time_ms=900.0))[0] == "mprage"
