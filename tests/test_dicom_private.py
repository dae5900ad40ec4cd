"""Private elements found by their creator, in whichever block (readers/dicom_private.py; PS3.5 §7.8.1).

A private element (gggg,xxee) belongs to the block xx whose creator element (gggg,00xx) names its creator: real
files put a creator at another block than 0x10 (a Philips Ingenia's "Philips MR Imaging DD 002" at (2005,0011); an
archive rewriting private blocks, dcm_qa_agfa). Each test rewrites a real fixture series (in a temporary folder,
every other byte as it was) so that a creator and its elements move to another block, and reads it again: the
values must be the original file's, and those dcm2niix's sidecar beside it states (the sidecar is copied along and
read by the same inspection). A block whose creator is another one's must give no value of the vendor's.
"""

from __future__ import annotations

import gzip
import io
import shutil
from pathlib import Path

import pytest

from ofsep_presets.readers import dicom, dicom_scan, inspect_path

from .conftest import FIXTURES

DICOM = FIXTURES / "dicom"
GE_DWI = DICOM / "GE" / "SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full"
PHILIPS_MPRAGE = DICOM / "Philips" / "Ingenia_classic_ADNI_Sag3D_MPRAGE_1mm"
SIEMENS_DTI = DICOM / "Siemens" / "VE11_DTI_ep2d_diff_20dir_mosaic"
pytestmark = pytest.mark.skipif(not GE_DWI.is_dir(), reason="the DICOM fixtures are not here")


def rewritten(raw: bytes, moves: dict[int, tuple[str, int]], rename: dict[int, str] | None = None) -> bytes:
    """`raw` (a DICOM file, gzip-wrapped or not) with, per group of `moves`, the block of its creator moved to the
    block given: the creator element (gggg,00xx) to (gggg,00to), its elements (gggg,xxee) to (gggg,toee). `rename`
    then sets the creator element (gggg,0010) of a group to another creator's name. Every other element is written
    back as its raw bytes (pydicom writes them unconverted)."""
    import pydicom
    from pydicom.dataelem import DataElement, RawDataElement
    from pydicom.dataset import FileDataset
    from pydicom.tag import Tag

    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ds = pydicom.dcmread(io.BytesIO(raw), force=True)
    blocks, tags = {}, set(ds.keys())
    for group, (creator, to) in moves.items():
        [old] = [t & 0xFF for t in tags if t >> 16 == group and 0x10 <= t & 0xFFFF <= 0xFF and ds[t].value == creator]
        assert not any(t >> 16 == group and t & 0xFFFF in (to, *range(to << 8, (to << 8) + 0x100)) for t in tags)
        blocks[group] = (old, to)
    out = FileDataset(None, {}, file_meta=ds.file_meta, preamble=ds.preamble)
    for elem in list(ds.elements()):
        tag = int(elem.tag)
        group, element = tag >> 16, tag & 0xFFFF
        if group in blocks:
            old, to = blocks[group]
            if element == old:
                tag = (group << 16) | to
            elif element >> 8 == old:
                tag = (group << 16) | (to << 8) | (element & 0xFF)
        if isinstance(elem, RawDataElement):
            out[tag] = elem._replace(tag=Tag(tag))
        else:
            out[tag] = DataElement(tag, elem.VR, elem.value)
    for group, name in (rename or {}).items():
        out[(group << 16) | 0x0010] = DataElement((group << 16) | 0x0010, "LO", name)
    buffer = io.BytesIO()
    out.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def series_copy(series: Path, into: Path, moves: dict, rename: dict | None = None) -> Path:
    """The series' files rewritten into `into` (and its dcm2niix sidecar folder copied beside them)."""
    into.mkdir()
    for path in sorted(series.iterdir()):
        if path.is_dir():
            shutil.copytree(path, into / path.name)
        elif path.is_file():
            (into / path.name.removesuffix(".gz")).write_bytes(rewritten(path.read_bytes(), moves, rename))
    return into


def read(folder: Path, provenance: bool = False) -> tuple[dict, dict, list]:
    """(the DICOM series' values, the sidecar's values, the warnings) of one series folder; with `provenance`, each
    of the series' values as (value, where it was read)."""
    found = {i.format: i for i in inspect_path(folder)}
    [images] = found["dicom"].acquisitions
    [sidecar] = found["bids-json"].acquisitions if "bids-json" in found else [None]
    params = {k: (v, images.provenance.get(k, "")) for k, v in images.params.items()} if provenance else images.params
    return params, (sidecar.params if sidecar else {}), found["dicom"].warnings


@pytest.fixture(params=["fast", "pydicom"])
def scan_path(request):
    """Both scans of every file: the fast struct walk (dicom_scan, plans cleared) and pydicom's."""
    was = dicom.FAST
    dicom.FAST = request.param == "fast"
    dicom_scan._templates.clear()
    yield request.param
    dicom.FAST = was
    dicom_scan._templates.clear()


def _stated_in_original(series: Path, tag: int) -> list:
    """What each file of the series holds at `tag` (read by pydicom, the reference), None where it holds none."""
    import pydicom

    out = []
    for path in sorted(p for p in series.iterdir() if p.is_file()):
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        out.append(ds[tag].value if tag in ds else None)
    return out


def test_ge_blocks_moved_to_block_11_read_as_the_original(tmp_path, scan_path):
    moves = {g: (c, 0x11) for g, c in ((0x0019, "GEMS_ACQU_01"), (0x0021, "GEMS_RELA_01"), (0x0025, "GEMS_SERS_01"),
                                      (0x0043, "GEMS_PARM_01"))}  # fmt: skip
    moved = series_copy(GE_DWI, tmp_path / "moved", moves)
    original, sidecar, _ = read(GE_DWI)
    params, _, _ = read(moved)
    assert params == original
    # The file's own bytes: the two b0 files state their b-value only in (0043,1039), first value.
    stated = {v[0] % 1_000_000_000 for v in _stated_in_original(GE_DWI, 0x00431039) if v is not None}
    assert stated == {0, 1000} and params["b_values"] == [0, 1000]
    # dcm2niix's sidecar: ParallelReductionFactorInPlane 2 (from (0043,1083)), PhaseEncodingDirection "j" (from the
    # user data (0043,102A)), read from the moved block as from the original.
    for key in ("parallel_factor", "phase_encoding_direction", "slices"):
        if key in sidecar:
            assert params[key] == sidecar[key], key
    assert params["parallel_factor"] == 2 and "phase_encoding_direction" in params


def test_ge_values_are_not_read_from_a_block_of_another_creator(tmp_path, scan_path):
    """(0043,0010) holding another creator's name: its (0043,10ee) are that creator's elements, not GE's."""
    other = series_copy(GE_DWI, tmp_path / "other", {}, rename={0x0043: "ACME_PRIVATE_01"})
    original, _, _ = read(GE_DWI, provenance=True)
    params, _, _ = read(other, provenance=True)
    from_0043 = {k for k, (_, why) in original.items() if "(0043," in why}
    assert {"phase_encoding_direction", "parallel_factor"} <= from_0043 and 0 in original["b_values"][0]
    assert not [k for k, (_, why) in params.items() if "(0043," in why]  # GEMS_PARM_01's, and it is not there
    assert params["b_values"][0] == [1000]  # the b0 files state b=0 only in GEMS_PARM_01's (0043,xx39)
    assert "phase_encoding_direction" not in params  # from GEMS_PARM_01's user data (0043,xx2A)
    for key in set(original) - from_0043 - {"b_values", "diffusion_directions"}:
        assert params[key][0] == original[key][0], key


def test_ge_creator_moved_and_another_in_its_place(tmp_path, scan_path):
    """GEMS_PARM_01 at (0043,0011) and another creator at (0043,0010): only block 11 is GE's."""
    import pydicom

    both = tmp_path / "both"
    both.mkdir()
    for path in sorted(p for p in GE_DWI.iterdir() if p.is_file()):
        moved = pydicom.dcmread(io.BytesIO(rewritten(path.read_bytes(), {0x0043: ("GEMS_PARM_01", 0x11)})))
        moved[0x00430010] = pydicom.DataElement(0x00430010, "LO", "ACME_PRIVATE_01")
        moved[0x00431039] = pydicom.DataElement(0x00431039, "IS", [777, 0, 0, 0])  # ACME's, not a b-value
        moved[0x00431083] = pydicom.DataElement(0x00431083, "DS", [0.25, 1])
        moved.save_as(both / path.name, enforce_file_format=True)
    original, _, _ = read(GE_DWI)
    params, _, _ = read(both)
    assert params == original


def test_philips_blocks_moved_read_as_the_original(tmp_path, scan_path):
    """Philips Imaging DD 001 (2001: Prepulse Delay/Type) and MR Imaging DD 005 (2005: the MR series data item)
    moved to free blocks: the inversion time dcm2niix states (0.9 s) and every other value as before."""
    moves = {0x2001: ("Philips Imaging DD 001", 0x12), 0x2005: ("Philips MR Imaging DD 005", 0x20)}
    moved = series_copy(PHILIPS_MPRAGE, tmp_path / "moved", moves)
    original, sidecar, _ = read(PHILIPS_MPRAGE)
    params, _, _ = read(moved)
    assert params == original
    assert params["inversion_time_ms"] == sidecar["inversion_time_ms"] == 900


def test_siemens_blocks_moved_read_as_the_original(tmp_path, scan_path):
    """SIEMENS MR HEADER (0019: b-value, gradient) and SIEMENS CSA HEADER (0029: the CSA image and series headers)
    moved: b-values, directions, the protocol's values and the phase-encoding direction dcm2niix states."""
    moves = {0x0019: ("SIEMENS MR HEADER", 0x11), 0x0029: ("SIEMENS CSA HEADER", 0x12)}
    moved = series_copy(SIEMENS_DTI, tmp_path / "moved", moves)
    original, sidecar, _ = read(SIEMENS_DTI)
    params, _, _ = read(moved)
    assert params == original
    assert params["phase_encoding_direction"] == sidecar["phase_encoding_direction"]
    assert params["parallel_factor"] == sidecar["parallel_factor"] == 2
    assert len(params["b_values"]) > 1


def test_the_table_is_the_lookup_of_every_reader_path():
    """One table: every private element name resolves to (group, creator, byte) in an odd group, and a block found
    in the creators decides where the element is."""
    from ofsep_presets.readers import dicom_private

    for name, (group, creator, byte) in dicom_private.PRIVATE.items():
        assert group % 2 == 1 and creator and 0 <= byte <= 0xFF, name
    creators = {0x00430010: b"ACME ", 0x00430011: b"GEMS_PARM_01"}
    assert dicom_private.block_of(creators, 0x0043, "GEMS_PARM_01") == 0x11
    found = {0x00430010: (b"LO", b"ACME "), 0x00431039: (b"IS", b"777"), 0x00430011: (b"LO", b"GEMS_PARM_01"),
             0x00431139: (b"IS", b"1000"), 0x00180080: (b"DS", b"500")}  # fmt: skip
    assert dicom_private.canonical(found, ("ge_bvalue",)) == {0x00431039: (b"IS", b"1000"), 0x00180080: (b"DS", b"500")}


@pytest.mark.parametrize("implicit", [False, True], ids=["explicit VR", "implicit VR"])
def test_uih_block_after_another_creator_is_walked_on_to(tmp_path, scan_path, implicit):
    """The UIH re-labelling of the GE DTI series (test_dicom_encodings: each file's own b-value and gradient in
    "Image Private Header"'s (0065,xx09/xx37)) with another creator at (0065,0010) holding a (0065,1009) of its own:
    the walk on past the scan's stop finds UIH's block at (0065,0011) and reads the GE original's b-values (0 and
    1000, from the files' (0043,1039)) and 6 directions, never the other creator's 777."""
    from .test_dicom_encodings import _acquisition, _as_uih, _plain

    files = _plain(GE_DWI, tmp_path / "ge")
    reference = _acquisition(tmp_path / "ge")
    _as_uih(files, tmp_path / "uih", implicit, before="ACME_PRIVATE_01")
    import pydicom

    first = pydicom.dcmread(sorted((tmp_path / "uih").iterdir())[0], stop_before_pixels=True)
    assert first[0x00650010].value == "ACME_PRIVATE_01" and first[0x00650011].value == "Image Private Header"
    acq = _acquisition(tmp_path / "uih")
    assert acq.params["b_values"] == reference.params["b_values"] == [0.0, 1000.0]
    assert acq.params["diffusion_directions"] == reference.params["diffusion_directions"] == 6


def test_every_walk_on_entry_is_one_group_past_the_scan_stop():
    """The walk-on table (dicom.WALK_ON: the makers whose b-value may be only in a private group past the scan's
    stop) drives the fast and the pydicom scan alike: each entry's elements are PRIVATE names of one private group
    past SCAN_LIMIT (the walk-on reads that group's creators once, then that block), b-value first."""
    from ofsep_presets.readers import dicom_private

    for maker, names in dicom.WALK_ON.items():
        groups = {dicom_private.PRIVATE[name][0] for name in names}
        assert len(groups) == 1 and min(groups) << 16 >= dicom.SCAN_LIMIT, maker
        assert "bvalue" in names[0], maker
    assert dicom._walk_on_vendor("ge", b"GE MEDICAL SYSTEMS") == "ge"
    assert dicom._walk_on_vendor("other", b"UIH") == "uih" and dicom._walk_on_vendor("other", b"ACME") is None
