"""GE's series protocol inside its DICOM images, private (0025,xx1B) of block GEMS_SERS_01 (issues 10, 11).

Sources for the layout: GDCM (malaterre/GDCM gdcmPDBHeader.cxx, PDBHeader::readprotocoldatablock: "0025,xx1b,
GEMS_SERS_01 which is documented as Protocol Data Block (compressed) ... a simple text format compressed using the
gzip algorithm"; a 4-byte little-endian length first, the value's length less 4, or less 5 when padded with a 0)
and dcm2niix (console/nii_dicom.cpp geProtocolBlock; rordenlab/dcm2niix pull request 173 "Uses proprietary GE
Protocol Data Block (0025,101B)"). Expected values come from each fixture's own block, inflated here with Python's
gzip (not our reader), from its raw header elements (pydicom) and from the dcm2niix sidecar beside it. Edited blocks
are written as the console writes them: the text gzip-compressed, its length before it, padded to even length.
"""

from __future__ import annotations

import gzip
import json
import re
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ofsep_presets.readers import inspect_path
from ofsep_presets.readers.ge_protocol import lx_acquisition

from .dicom_study import DICOM, Study, fixture_files, read
from .dicom_study import check_report as _report
from .dicom_study import slot as _slot

T1 = "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"
DWI = "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full"
LOCALIZER = "GE/SIGNA_Premier_3-Plane_Localizer_ssfse"
CREATOR = "GEMS_SERS_01"


def block_text(ds) -> str:
    """The fixture's protocol text, inflated with Python's gzip after the 4-byte length (GDCM's reading)."""
    value = ds.private_block(0x0025, CREATOR)[0x1B].value
    (length,) = struct.unpack_from("<I", value)
    assert length + 4 in (len(value), len(value) - 1)  # unpadded, or padded with one 0 (GDCM)
    return gzip.decompress(value[4 : 4 + length]).decode("latin-1")


def values_of(text: str) -> dict[str, str]:
    return dict(re.findall(r'^(\w+) "(.*)"$', text, re.M))


def console_block(text: str) -> bytes:
    """A block as the console writes it: the gzip stream, its length before it, padded to even length (GDCM)."""
    stream = gzip.compress(text.encode("latin-1"), mtime=0)
    value = struct.pack("<I", len(stream)) + stream
    return value + b"\0" * (len(value) % 2)


def edit_block(change):
    """A Study `edit` that rewrites each file's block: `change(text) -> text`, or raw bytes for the whole value."""

    def edit(ds, i):
        element = ds.private_block(0x0025, CREATOR)[0x1B]
        new = change(block_text(ds))
        element.value = new if isinstance(new, bytes) else console_block(new)

    return edit


def set_key(key: str, value: str):
    return edit_block(lambda text: re.sub(rf'^{key} ".*"$', f'{key} "{value}"', text, flags=re.M))


def _one(folder):
    inspections = [i for i in inspect_path(folder) if i.format == "dicom"]  # not the dcm2niix sidecar beside it
    [acq] = [a for i in inspections for a in i.acquisitions]
    return acq, [w for i in inspections for w in i.warnings]


@pytest.mark.parametrize(
    "series, expected",
    [
        (T1, {"PSEQ": "MP-RAGE", "IOPT": "EDR, Fast, ARC, IrP", "CONTRAST": "No", "PLANE": "OBLIQUE", "COIL": "48HA"}),
        (DWI, {"PSEQ": "Spin Echo", "DIFNUMDIRS": "6", "MULTIBVALUE": "1000.0;", "TE": "Minimum", "COIL": "48HA"}),
        (LOCALIZER, {"PLANE": "3-PLANE", "COIL": "20MM", "TE": "80.0", "ANATOMY": "SRT%5CNone%5CT-A0100"}),
    ],
)
def test_every_ge_fixture_file_carries_its_series_protocol(series, expected):
    for path in fixture_files(series):
        ds = read(path)
        assert ds.private_block(0x0025, CREATOR)[0x1B].VR == "OB"
        values = values_of(block_text(ds))
        assert {k: values[k] for k in expected} == expected


def test_the_images_values_stand_and_the_protocol_agrees_with_them():
    """What the images state is kept (their provenance), and the fixtures' blocks agree with it where both state
    a value in the same terms (FOV 24.0 cm = 240 mm, RBW 31.25 ±kHz over 256 = 244.14 Hz/pixel, the dcm2niix
    sidecar's PixelBandwidth 244.141)."""
    acq, warnings = _one(DICOM / T1)
    assert acq.get("fov_mm") == [240.0, 240.0] and "Rows=256" in acq.provenance["fov_mm"]
    assert acq.get("pixel_bandwidth_hz") == 244.141
    assert not [w for w in warnings if "fov_mm" in w or "pixel_bandwidth_hz" in w or "matrix" in w]
    # SLABLOC "134" locations per slab in the Rx, 130 locations in the images (0021,104F; 130 files upstream,
    # PROVENANCE.md "3/130"): the images' count, and the difference said.
    ds = read(fixture_files(T1)[0])
    assert values_of(block_text(ds))["SLABLOC"] == "134" and ds[0x0021, 0x104F].value == 130
    assert acq.get("slices") == 130 and "(0021,104F)" in acq.provenance["slices"]
    assert any("slices protocol 134, images 130" in w for w in warnings)


def test_a_word_is_no_value_and_a_value_both_state_differently_is_warned():
    """TE "Minimum" (the DWI's block) is no value: nothing compared. The localizer's block says TE "80.0", its
    images' EchoTime 81.002: the images' value stands, the difference is said."""
    acq, warnings = _one(DICOM / DWI)
    assert acq.get("echo_time_ms") == 123.6  # the dcm2niix sidecar's EchoTime 0.1236 s
    assert not [w for w in warnings if "echo_time_ms" in w]
    acq, warnings = _one(DICOM / LOCALIZER)
    assert float(read(fixture_files(LOCALIZER)[0]).EchoTime) == pytest.approx(81.002)
    assert acq.get("echo_time_ms") == pytest.approx(81.002)
    assert any("GE series protocol vs images: echo_time_ms protocol 80.0, images 81.002" in w for w in warnings)


def test_ge_slices_are_the_locations_of_one_volume():
    """(0021,104F) "Locations in acquisition" (dcm2niix issue 306 prefers it to ImagesInAcquisition): the DWI holds
    14 images in acquisition, 2 locations, and 7 volumes (the b=0 and DIFNUMDIRS "6" of its block): 14 / 7 = 2."""
    ds = read(fixture_files(DWI)[0])
    assert ds.ImagesInAcquisition == 14 and len(fixture_files(DWI)) == 14
    assert values_of(block_text(ds))["DIFNUMDIRS"] == "6" and values_of(block_text(ds))["NOSLC"] == "2"
    acq, _ = _one(DICOM / DWI)
    assert acq.get("slices") == 2


def test_contrast_yes_in_the_series_protocol_fills_the_post_contrast_slot(tmp_path):
    """The same MP-RAGE run again after the injection, its Rx's CONTRAST set to "Yes" (the blocks GDCM harvested
    hold CONTRAST "Yes" beside CONTAG "GAD": gdcmdump.cxx --pdb), its name unchanged and its header without a
    Contrast/Bolus module, as the fixture's: the protocol's statement is the contrast evidence."""
    header = read(fixture_files(T1)[0])
    assert "ContrastBolusAgent" not in header and values_of(block_text(header))["CONTRAST"] == "No"
    study = Study(tmp_path)
    study.add(T1, header.SeriesNumber)
    study.add(T1, 9, header.SeriesDescription, AcquisitionTime="004500", edit=set_key("CONTRAST", "Yes"))
    doc = _report(tmp_path)
    assert _slot(doc, "brain.t1_3d") == f"{header.SeriesNumber} {header.SeriesDescription}"
    assert _slot(doc, "brain.t1_3d_gd") == f"9 {header.SeriesDescription}"
    [seq] = [s for s in doc["sequences"] if s["id"] == "brain.t1_3d_gd"]
    [rule] = [c for c in seq["checks"] if c["param"] == "contrast_agent"]
    assert rule["status"] == "pass" and "(0025,101B) GE series protocol CONTRAST=Yes" in rule["provenance"]


def test_contrast_yes_left_on_a_series_named_pre_contrast_is_not_taken(tmp_path):
    """A protocol reused unchanged: the MP-RAGE named "3D T1 pre" before the injection, its Rx still saying
    CONTRAST "Yes", then the same MP-RAGE named "3D T1 post". The name is the technologist's statement about the
    series (matching-evidence.yaml contrast_names: "pre"): the protocol's "Yes" is warned and not taken, so the
    first is the pre-contrast 3D T1 and only the second the post-contrast one."""
    header = read(fixture_files(T1)[0])
    study = Study(tmp_path)
    study.add(T1, 5, "3D T1 pre", edit=set_key("CONTRAST", "Yes"))
    study.add(T1, 9, "3D T1 post", AcquisitionTime="004500", edit=set_key("CONTRAST", "Yes"))
    assert values_of(block_text(read(fixture_files(T1)[0])))["CONTRAST"] == "No" and header.SeriesNumber == 5
    doc = _report(tmp_path)
    assert _slot(doc, "brain.t1_3d") == "5 3D T1 pre"
    assert _slot(doc, "brain.t1_3d_gd") == "9 3D T1 post"
    [inspection] = [i for i in inspect_path(tmp_path) if i.format == "dicom"]
    pre = next(a for a in inspection.acquisitions if a.name == "5 3D T1 pre")
    assert pre.get("contrast_agent") is False and pre.provenance["contrast_agent"].startswith("implied")
    assert any("says pre-contrast: the protocol's setting is not taken" in w for w in inspection.warnings)


def test_contrast_no_stays_an_implication_a_post_contrast_name_outranks(tmp_path):
    """CONTRAST "No" says no more than the absent Contrast/Bolus module: a series the technologist named
    post-contrast is post-contrast (the Rx left as it was)."""
    header = read(fixture_files(T1)[0])
    study = Study(tmp_path)
    study.add(T1, header.SeriesNumber)
    study.add(T1, 9, "3D Ax T1 MP-RAGE +C", AcquisitionTime="004500")
    doc = _report(tmp_path)
    assert _slot(doc, "brain.t1_3d_gd") == "9 3D Ax T1 MP-RAGE +C"
    acq = {a.name: a for i in inspect_path(tmp_path) for a in i.acquisitions}["9 3D Ax T1 MP-RAGE +C"]
    assert acq.get("contrast_agent") is False
    assert acq.provenance["contrast_agent"].startswith("implied") and "CONTRAST=No" in acq.provenance["contrast_agent"]


def test_images_that_name_no_agent_keep_their_statement_against_the_protocol(tmp_path):
    Study(tmp_path).add(T1, 5, ContrastBolusAgent="NONE", edit=set_key("CONTRAST", "Yes"))
    acq, warnings = _one(tmp_path)
    assert acq.get("contrast_agent") is False and "names no agent" in acq.provenance["contrast_agent"]
    assert any("contrast_agent protocol True, images False" in w for w in warnings)


def test_a_three_plane_localizer_is_one_whatever_its_name(tmp_path):
    """PLANE "3-PLANE" (the dcm_qa_table localizer's block): a localizer even when only one plane's file is there
    and the series was renamed, which its images alone (one plane) and its name no longer say."""
    files = [read(f) for f in fixture_files(LOCALIZER)]
    sagittal = [ds for ds in files if round(float(ds.ImageOrientationPatient[0])) == 0]
    assert len(sagittal) == 1 and values_of(block_text(sagittal[0]))["PLANE"] == "3-PLANE"
    Study(tmp_path).add(LOCALIZER, 1, "Sag T2 SSFSE", keep=lambda ds: round(float(ds.ImageOrientationPatient[0])) == 0)
    acq, _ = _one(tmp_path)
    assert acq.get("image_planes") == ["sagittal", "coronal", "axial"] and acq.get("orientation") is None
    assert "(0025,101B) GE series protocol PLANE=3-PLANE" in acq.provenance["image_planes"]
    doc = _report(tmp_path)
    assert doc["unmatched_reasons"]["1 Sag T2 SSFSE"] == (
        "localizer or calibration (its images lie in 3 planes: sagittal, coronal, axial; "
        "0000.dcm (0025,101B) GE series protocol PLANE=3-PLANE)"
    )


def test_the_lxprotocol_of_a_three_plane_localizer_is_one_too(tmp_path):
    acq = lx_acquisition("Tri Pl", 'set PLANE "3-PLANE"\nset IMODE "2D"\nset PSEQ "FSE"\n', "LxProtocol")
    assert acq.get("image_planes") == ["sagittal", "coronal", "axial"] and acq.get("orientation") is None


def test_coil_and_anatomy_from_the_protocol_where_the_images_tags_are_empty(tmp_path):
    """Region evidence as the GE tar reader gives it (acq.context coil/anatomy): COIL "48HA" (the dcm2niix
    sidecar's CoilString "48HA") and ANATOMY "SRT%5CNone%5CT-A0100" (scheme, modifier, code)."""
    sidecar = json.loads(next((DICOM / DWI / "bids_json_dcm2niix").glob("*.json")).read_text())
    assert sidecar["CoilString"] == "48HA"
    Study(tmp_path).add(DWI, 1, ReceiveCoilName=None, AnatomicRegionSequence=None)
    acq, _ = _one(tmp_path)
    assert acq.context["coil"] == "48HA" and acq.context["anatomy"] == "T-A0100"


def test_the_protocol_fills_what_the_images_leave_out(tmp_path):
    """Without GE's Asset R factors (0043,1083) the images state no acceleration; the block's PHASEACCEL "2.00"
    and SLICEACCEL "2.00" do (the dcm2niix sidecar's ParallelReductionFactorInPlane 2)."""
    values = values_of(block_text(read(fixture_files(T1)[0])))
    assert values["PHASEACCEL"] == "2.00" and values["SLICEACCEL"] == "2.00"

    def drop(ds, i):
        del ds[0x0043, 0x1083]

    Study(tmp_path).add(T1, 5, edit=drop)
    acq, _ = _one(tmp_path)
    assert acq.get("parallel_factor") == 2.0 and acq.get("parallel_factor_slice") == 2.0
    assert "(0025,101B) GE series protocol PHASEACCEL=2.00" in acq.provenance["parallel_factor"]


def test_an_emptied_block_is_no_protocol_and_no_warning(tmp_path):
    """An empty value (a tool that blanks private elements instead of removing them) states nothing."""
    Study(tmp_path).add(T1, 5, limit=1, edit=edit_block(lambda text: b""))
    acq, warnings = _one(tmp_path)
    assert acq.get("repetition_time_ms") == 2217.66 and not [w for w in warnings if "(0025,101B)" in w]


@pytest.mark.parametrize(
    "change, why",
    [
        (lambda text: console_block("\n" * (8 * 2**20)), "inflates past"),  # 8 MiB of newlines in ~8 KB
        (lambda text: console_block(text)[:200], "truncated"),
        (lambda text: struct.pack("<I", 402) + b"\x1f\x8b" + b"\xff" * 400, "damaged gzip"),
        (lambda text: b"\0\0\0\0" + b"x" * 100, "no gzip stream"),
        (lambda text: console_block('<?xml version="1.0" encoding="UTF-8"?><protocol/>'), "XML"),
        (lambda text: console_block("not a protocol"), 'no KEY "VALUE" lines'),
    ],
)
def test_a_damaged_block_is_a_warning_and_the_images_are_read(tmp_path, change, why):
    Study(tmp_path).add(T1, 5, edit=edit_block(change))
    acq, warnings = _one(tmp_path)
    assert acq.get("repetition_time_ms") == 2217.66  # the dcm2niix sidecar's RepetitionTime 2.21766 s
    assert acq.get("slices") == 130  # (0021,104F)
    [said] = [w for w in warnings if "(0025,101B)" in w]
    assert why in said and "the images' values stand" in said, said


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.one_of(
        st.binary(max_size=600),
        st.binary(max_size=600).map(lambda b: struct.pack("<I", len(b) + 2) + b"\x1f\x8b" + b),
        st.text(st.characters(max_codepoint=255), max_size=300).map(console_block),
        st.dictionaries(  # the console's keys holding any value
            st.sampled_from(
                [
                    "PLANE",
                    "IMODE",
                    "PSEQ",
                    "IOPT",
                    "CONTRAST",
                    "COIL",
                    "ANATOMY",
                    "FOV",
                    "SLTHICK",
                    "MATRIXX",
                    "MATRIXY",
                    "NOSLC",
                    "SLABLOC",
                    "TE",
                    "TR",
                    "TI",
                    "FLIPANG",
                    "RBW",
                    "NEX",
                    "PHASEFOV",
                    "PHASEACCEL",
                    "SLICEACCEL",
                    "MULTIBVALUE",
                    "DIFNUMDIRS",
                    "DIFNUMT2",
                    "GRIP_SLGROUP1",
                ]
            ),
            st.text(st.characters(max_codepoint=255, exclude_characters='"\n'), max_size=40),
        ).map(lambda d: console_block("".join(f'{k} "{v}"\n' for k, v in d.items()))),
    )
)
def test_any_block_value_costs_only_the_protocol(tmp_path_factory, value):
    """Whatever bytes the block holds (random, a gzip magic before garbage, any text gzip-compressed as the console
    writes it), the series is read from its images: its TR (the dcm2niix sidecar's 2.21766 s) and slices."""
    folder = tmp_path_factory.mktemp("blob")
    Study(folder).add(T1, 5, limit=1, edit=edit_block(lambda text: value + b"\0" * (len(value) % 2)))
    acq, _ = _one(folder)
    assert acq.get("repetition_time_ms") == 2217.66 and acq.get("slices") == 130


def test_imaging_options_without_arc_say_no_method_beside_the_images_acceleration(tmp_path):
    """The MP-RAGE's Rx lists ARC ("EDR, Fast, ARC, IrP": arc) and its images state a phase acceleration of 2
    (dcm2niix: ParallelReductionFactorInPlane 2). With ARC and its factors taken out of the Rx the protocol no
    longer names the method, and "none" (what a list without ARC or Asset implies) would contradict the images:
    left absent."""
    header = read(fixture_files(T1)[0])
    assert "ARC" in values_of(block_text(header))["IOPT"]
    [sidecar] = (DICOM / T1 / "bids_json_dcm2niix").glob("*.json")
    assert json.loads(sidecar.read_text())["ParallelReductionFactorInPlane"] == 2

    # The Rx without ARC and without its factors (PHASEACCEL, SLICEACCEL): only the images state the acceleration.
    def edit(text: str) -> str:
        text = re.sub(r'^IOPT ".*"$', 'IOPT "EDR, Fast, IrP"', text, flags=re.M)
        return re.sub(r'^(PHASEACCEL|SLICEACCEL) ".*"\n', "", text, flags=re.M)

    Study(tmp_path).add(T1, 5, edit=edit_block(edit))
    acq, _ = _one(tmp_path)
    assert acq.get("parallel_factor") == 2.0 and acq.get("parallel_mode") is None, acq.provenance.get("parallel_mode")
