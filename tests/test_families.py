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
