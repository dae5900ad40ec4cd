"""The fast DICOM scan (readers/dicom_scan.py: a struct walk, files walked against remembered layouts) against
pydicom, the reference: on every fixture file, and on files made to leave the fast path's assumptions (implicit
VR, big endian, deflate, a series UID past the bytes read first, a file of a series that differs, a truncated
header, random damage). Whatever the fast path does, `inspect` must read exactly what it reads with it off."""

from __future__ import annotations

import dataclasses
import gzip
import io
import random
import tempfile
from pathlib import Path

import pydicom
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydicom.dataelem import RawDataElement
from pydicom.tag import BaseTag
from pydicom.uid import DeflatedExplicitVRLittleEndian, ExplicitVRBigEndian, ImplicitVRLittleEndian

from ofsep_presets.acquisition import ReadError
from ofsep_presets.readers import dicom, dicom_scan, inspect_path

from .conftest import FIXTURES

DICOM = FIXTURES / "dicom"
FILES = sorted(
    p for p in DICOM.rglob("*") if p.is_file() and p.suffix not in (".json", ".bval", ".bvec", ".md", ".txt")
)
FILES = [p for p in FILES if "LICENSES" not in p.parts]
SERIES = sorted({p.parent for p in FILES})


@pytest.fixture(autouse=True)
def _fresh_layouts():
    """Each test starts with no remembered layout, and leaves the switches as it found them."""
    dicom_scan._templates.clear()
    yield
    dicom_scan._templates.clear()
    dicom.FAST, dicom_scan.TEMPLATES = True, True


def _scan(paths, fast: bool, templates: bool = True) -> list:
    dicom.FAST, dicom_scan.TEMPLATES = fast, templates
    try:
        return [dicom._scan_one(p, sniff=True) for p in paths]
    finally:
        dicom.FAST, dicom_scan.TEMPLATES = True, True


def _inspect(path: Path, fast: bool):
    dicom.FAST = fast
    try:
        return [dataclasses.asdict(i) for i in inspect_path(path)]
    except ReadError as exc:
        return str(exc)
    finally:
        dicom.FAST = True


def test_every_fixture_file_scans_as_pydicom_reads_it():
    """File by file, in folder order and again shuffled (layouts remembered across series and vendors)."""
    slow = _scan(FILES, fast=False)
    assert _scan(FILES, fast=True) == slow
    order = list(range(len(FILES)))
    random.Random(15).shuffle(order)
    shuffled = _scan([FILES[i] for i in order], fast=True)
    assert [shuffled[order.index(i)] for i in range(len(FILES))] == slow
    assert sum(1 for info in slow if info.format == dicom.FORMAT and not info.error) > 300


def test_fast_path_reads_most_fixture_files_without_pydicom(monkeypatch):
    """Not a path that always declines: the fixtures' headers are mostly walked without pydicom."""
    fallbacks = []
    real = dicom._scan_fields
    monkeypatch.setattr(dicom, "_scan_fields", lambda path, full: fallbacks.append(path) or real(path, full))
    infos = _scan(FILES, fast=True)
    dicom_files = [i for i in infos if i.format == dicom.FORMAT]
    assert len(fallbacks) < len(dicom_files) / 20, fallbacks[:5]  # enhanced multi-frame files, by design


def test_walking_against_remembered_layouts_gives_the_plain_walk():
    """Templates on and off, over every fixture header in a shuffled order: the same tags, values and stop."""
    heads = []
    for path in FILES:
        raw = path.read_bytes()
        raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        heads.append(raw[: dicom.PREFIX])
    random.Random(5).shuffle(heads)
    heads = heads + heads[::-1]  # each layout met again once others were learned

    def walk_all(templates: bool):
        dicom_scan.TEMPLATES = templates
        out = []
        for head in heads:
            first = dicom_scan.walk(head, dicom.FAST_TAGS, dicom.SCAN_LIMIT)
            further = None
            if isinstance(first, tuple):
                further = dicom_scan.walk(head, {dicom.GE_BVALUE}, dicom.GE_LIMIT, resume=first[2])
            out.append((first, further))
        return out

    plain = walk_all(False)
    assert walk_all(True) == plain
    assert dicom_scan._templates, "no layout was remembered"
    assert sum(isinstance(first, tuple) for first, _ in plain) > 300


@pytest.mark.parametrize("folder", [DICOM / vendor for vendor in ("Siemens", "GE", "Philips", "Canon")])
def test_inspect_is_identical_with_the_fast_path_on_and_off(folder: Path):
    """The canonical acquisitions (values, provenance, warnings) of every fixture series."""
    slow = _inspect(folder, fast=False)
    assert _inspect(folder, fast=True) == slow
    assert isinstance(slow, list) and slow[0]["acquisitions"]


# -- files made to leave the fast path ----------------------------------------------------------------------


def _raw(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def _load(path: Path):
    return pydicom.dcmread(io.BytesIO(_raw(path)), stop_before_pixels=True)


def _series(name: str, count: int = 6) -> list[Path]:
    return sorted(p for p in (DICOM / name).iterdir() if p.is_file() and p.suffix != ".json")[:count]


def _same_both_ways(folder: Path) -> list:
    """inspect of `folder` with the fast path on and off; the two must be equal."""
    dicom_scan._templates.clear()
    slow = _inspect(folder, fast=False)
    fast = _inspect(folder, fast=True)
    dicom_scan._templates.clear()
    assert fast == slow
    return slow


def _copy_series(name: str, to: Path, count: int = 6) -> list[Path]:
    to.mkdir(parents=True, exist_ok=True)
    out = []
    for i, path in enumerate(_series(name, count)):
        target = to / f"{i:04d}.dcm"
        target.write_bytes(_raw(path))  # unwrapped: a cut or an edit lands in the header itself
        out.append(target)
    return out


@pytest.mark.parametrize(
    "syntax", [ImplicitVRLittleEndian, ExplicitVRBigEndian, DeflatedExplicitVRLittleEndian], ids=lambda s: s.name
)
def test_other_transfer_syntaxes_read_the_same(tmp_path, syntax):
    for path in _series("Siemens/VE11_PD_T2_tse_sag_1.8mm", 4):
        ds = _load(path)
        ds.file_meta.TransferSyntaxUID = syntax
        if syntax == ExplicitVRBigEndian:  # pydicom converts endianness only when forced
            pydicom.dcmwrite(tmp_path / path.name, ds, implicit_vr=False, little_endian=False, force_encoding=True)
        else:
            ds.save_as(tmp_path / path.name, enforce_file_format=True)
    result = _same_both_ways(tmp_path)
    assert result[0]["acquisitions"][0]["params"]["echo_time_ms"]


def test_a_series_uid_past_the_bytes_read_first_reads_the_same(tmp_path, monkeypatch):
    """A 70 kB private element before (0020,000E): past PREFIX, the walk gives the file to pydicom."""
    for path in _series("Siemens/VE11_PD_T2_tse_sag_1.8mm", 4):
        ds = _load(path)
        ds.private_block(0x0019, "OFSEP TEST", create=True).add_new(0x01, "OB", b"\x01" * 70000)
        ds.save_as(tmp_path / path.name, enforce_file_format=True)
    fallbacks = []
    real = dicom._scan_fields
    monkeypatch.setattr(dicom, "_scan_fields", lambda path, full: fallbacks.append(path) or real(path, full))
    result = _same_both_ways(tmp_path)
    assert len(fallbacks) >= 8  # every file, both ways
    assert result[0]["acquisitions"]


def test_a_file_that_differs_in_its_series_is_counted_the_same(tmp_path):
    """One file of a diffusion series with another b-value and image type, one with another echo time: the
    remembered layout marks them as differing and they are read from the file itself."""
    files = _copy_series("Siemens/XA30_classic_DWI_dir80_AP", tmp_path, 8)
    ds = _load(files[-1])
    ds.DiffusionBValue = 2500.0
    ds[0x0019, 0x100C].value = "2500"
    ds.ImageType = ["DERIVED", "SECONDARY", "DIFFUSION", "OTHER"]
    ds.save_as(files[-1], enforce_file_format=True)
    ds = _load(files[-2])
    ds.EchoTime = 77.5
    ds.save_as(files[-2], enforce_file_format=True)
    result = _same_both_ways(tmp_path)
    params = result[0]["acquisitions"][0]["params"]
    assert 2500 in params["b_values"]
    assert 77.5 in params["echo_times_ms"]


def test_a_dataset_encoded_against_its_transfer_syntax_reads_the_same(tmp_path):
    """Meta says explicit VR, elements are implicit: pydicom switches on the first element; the walk declines."""
    path = _series("Siemens/VE11_PD_T2_tse_sag_1.8mm", 1)[0]
    ds = _load(path)
    buffer = io.BytesIO()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    ds.save_as(buffer, enforce_file_format=True)
    implicit = buffer.getvalue()
    at, _, _ = dicom_scan._meta(implicit)
    meta = io.BytesIO()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"
    pydicom.filewriter.write_file_meta_info(meta, ds.file_meta, enforce_standard=True)
    (tmp_path / "mixed.dcm").write_bytes(implicit[:128] + b"DICM" + meta.getvalue() + implicit[at:])
    assert dicom_scan.walk((tmp_path / "mixed.dcm").read_bytes(), dicom.FAST_TAGS, dicom.SCAN_LIMIT) is None
    assert _scan([tmp_path / "mixed.dcm"], fast=True) == _scan([tmp_path / "mixed.dcm"], fast=False)


@pytest.mark.parametrize("cut", [200, 700, 1500, 2500, 4000])
def test_truncated_files_read_the_same(tmp_path, cut):
    files = _copy_series("Siemens/XA30_classic_T1w_MPRAGE_tfl3d_2mm", tmp_path, 4)
    files[1].write_bytes(files[1].read_bytes()[:cut])
    result = _same_both_ways(tmp_path)
    assert result[0]["acquisitions"]
    if cut < 1500:  # cut before the series UID: the file is lost, and said to be
        assert any(files[1].name in w for w in result[0]["warnings"])


def test_the_process_pool_scans_as_one_process_does():
    """A large input goes to every core in chunks; what comes back is the in-process scan, in order."""
    files = (FILES * (dicom.PARALLEL_FROM // len(FILES) + 1))[: dicom.PARALLEL_FROM + 10]
    alone = dicom.scan(files, workers=1, sniff=True)
    assert dicom.scan(files, workers=2, sniff=True) == alone


# -- random damage: the fast path either reads what pydicom reads or hands the file to it -----------------

SAMPLES = [p for p in FILES if p.stat().st_size < 400_000 and p.read_bytes()[128:132] == b"DICM"][::7]
_scratch = Path(tempfile.mkdtemp(prefix="ofsep-fast-"))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample=st.sampled_from(SAMPLES),
    damage=st.lists(st.tuples(st.integers(128, 4095), st.integers(0, 255)), min_size=1, max_size=4),
    cut=st.one_of(st.none(), st.integers(132, 6000)),
)
def test_damaged_headers_scan_as_pydicom_reads_them(sample: Path, damage, cut):
    raw = bytearray(sample.read_bytes())
    target = _scratch / "damaged.dcm"
    dicom_scan._templates.clear()
    _scan([sample], fast=True)  # the undamaged layout remembered first: the damaged file is walked against it
    for offset, value in damage:
        if offset < len(raw):
            raw[offset] = value
    target.write_bytes(bytes(raw[:cut] if cut else raw))
    fast = _scan([target], fast=True)
    assert fast == _scan([target], fast=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    number=st.text(st.sampled_from(" 0123456789+-.eE\\abc\0"), max_size=12),
    image_type=st.text(st.sampled_from(" ORIGNALPMYDV\\\0_"), max_size=30),
    echo=st.text(st.sampled_from(" 0123456789.-eE\\\0"), max_size=16),
    uid=st.text(st.sampled_from(" 0123456789.\0"), min_size=1, max_size=64),
)
def test_odd_values_scan_as_pydicom_reads_them(number, image_type, echo, uid):
    """Values as a damaged or odd writer leaves them (padding, NULs, backslashes, non-numbers)."""
    sample = _series("Siemens/VE11_PD_T2_tse_sag_1.8mm", 1)[0]
    ds = _load(sample)
    for tag, vr, text in (
        (0x00200013, "IS", number),
        (0x00080008, "CS", image_type),
        (0x00180081, "DS", echo),
        (0x0020000E, "UI", uid),
    ):
        value = text.encode("latin-1")
        value += (b"\0" if vr == "UI" else b" ") * (len(value) % 2)  # even length, as PS3.5 pads
        ds[tag] = RawDataElement(BaseTag(tag), vr, len(value), value, 0, False, True)  # written as is
    target = _scratch / "odd.dcm"
    ds.save_as(target, enforce_file_format=True)
    dicom_scan._templates.clear()
    _scan([sample], fast=True)
    assert _scan([target], fast=True) == _scan([target], fast=False)


LEARNED = [
    "Siemens/VE11_PD_T2_tse_sag_1.8mm",
    "Siemens/VE11_DTI_ep2d_diff_20dir_mosaic",
    "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full",
    "Philips/Ingenia_classic_DTI_Biobank_2mm_full",
    "Canon/Galan3T_V6.0_classic_DTI_PA-ortho",
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# Found by this test: the flipped byte turns (0043,1003) into (0043,103A), past the walk-on's stop, with (0043,1039)
# still after it in the file: pydicom reads every element and finds the b0's b-value.
@example(name="GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full", damage=[(5330, 0x3A)], cut=None)
@given(
    name=st.sampled_from(LEARNED),
    damage=st.lists(st.tuples(st.integers(128, 8191), st.integers(0, 255)), min_size=1, max_size=3),
    cut=st.one_of(st.none(), st.integers(132, 9000)),
)
def test_damaged_files_of_a_learned_series_scan_as_pydicom_reads_them(name, damage, cut):
    """The layout learned from several files of a series (their UIDs, positions, b-values marked as differing,
    so a damaged length or value there is followed in the file itself, not compared): a damaged copy of one of
    them is read exactly as pydicom reads it, whatever the damage hits."""
    series = _series(name, 8)
    dicom_scan._templates.clear()
    _scan(series, fast=True)
    raw = bytearray(_raw(series[1]))
    for offset, value in damage:
        if offset < len(raw):
            raw[offset] = value
    target = _scratch / "damaged-learned.dcm"
    target.write_bytes(bytes(raw[:cut] if cut else raw))
    assert _scan([target], fast=True) == _scan([target], fast=False)


def test_the_files_of_a_series_are_read_against_its_learned_layout(monkeypatch):
    """Not a plan that never fits: after a few files of a series the others are read without the plain walk,
    and what they give is the plain walk's (the files differ in UIDs, instance numbers, positions)."""
    files = _series("Philips/Ingenia_classic_DTI_Biobank_2mm_full", 60)
    plain_walks = []
    real = dicom_scan._plain
    monkeypatch.setattr(dicom_scan, "_plain", lambda *args: plain_walks.append(1) or real(*args))
    fast = _scan(files, fast=True)
    assert len(files) >= 20 and len(plain_walks) < len(files) / 2
    assert fast == _scan(files, fast=False)


def _learned_walks(series: list[Path], heads: list[bytes], also: tuple[bytes, ...] = ()) -> tuple[list, list]:
    """Each head walked after the series' layout was learned (from its files and `also`), and walked plainly."""

    def walks() -> list:
        out = []
        for head in heads:
            first = dicom_scan.walk(head, dicom.FAST_TAGS, dicom.SCAN_LIMIT)
            further = None
            if isinstance(first, tuple):
                further = dicom_scan.walk(head, dicom.GE_TAGS, dicom.GE_LIMIT, resume=first[2])
            out.append((first, further))
        return out

    dicom_scan._templates.clear()
    for head in [_raw(path)[: dicom.PREFIX] for path in series] + list(also):
        dicom_scan.walk(head, dicom.FAST_TAGS, dicom.SCAN_LIMIT)
    learned = walks()
    dicom_scan.TEMPLATES = False
    try:
        return learned, walks()
    finally:
        dicom_scan.TEMPLATES = True


@pytest.mark.parametrize("name", LEARNED)
def test_files_that_leave_a_learned_layout_walk_as_plainly(name):
    """Edits the layout's comparisons must notice: an element more before the stop, a meta UID longer with the
    group length left stale (the plain walk declines) or made right, a longer SOP instance UID (a differing
    element's own length is followed), an instance number past 4 digits, a shorter ImageType, a wrong group
    length in a file whose elements all have the layout's lengths (once group lengths were seen to differ)."""
    series = _series(name, 8)
    ds = _load(series[1])
    heads, before = [], max(int(e.tag) for e in ds if int(e.tag) < dicom.SCAN_LIMIT)

    def written(ds) -> bytes:
        buffer = io.BytesIO()
        ds.save_as(buffer, enforce_file_format=True)
        return buffer.getvalue()[: dicom.PREFIX]

    heads.append(written(_load(series[1])))  # as it is, rewritten
    extra = _load(series[1])
    extra.add_new(before + 1, "LO", "one more")
    heads.append(written(extra))
    longer = _load(series[1])
    longer.SOPInstanceUID = longer.file_meta.MediaStorageSOPInstanceUID + ".12"  # pydicom keeps meta's the same
    right = written(longer)
    stale = written(_load(series[1]))[140:144]  # the group length of the meta group as it was
    heads += [right, right[:140] + stale + right[144:]]
    uid = _load(series[1])
    uid.SOPInstanceUID = uid.SOPInstanceUID + ".1234"
    heads.append(written(uid))
    number = _load(series[1])
    number.InstanceNumber = 123456
    heads.append(written(number))
    kind = _load(series[1])
    kind.ImageType = ["ORIGINAL"]
    heads.append(written(kind))
    base = written(_load(series[1]))
    wrong = int.from_bytes(base[140:144], "little") + 2  # a group length off by 2, where no UID is longer
    heads.append(base[:140] + wrong.to_bytes(4, "little") + base[144:])
    learned, plain = _learned_walks(series, heads, also=(right,))  # a longer meta UID learned: its length differs
    assert learned == plain
    assert plain[-1][0] is None  # the wrong group length is declined
    assert plain[1][0][2][0] > plain[0][0][2][0]  # the element more moves the stop
    assert plain[3][0] is None and isinstance(plain[2][0], tuple)  # the stale group length is declined


@pytest.mark.parametrize(
    "charset",
    [b"ISO_IR 100", b"ISO_IR\x00100", b"ISO_IR 999", b"HEX       ", b"ZLIB      ", b"\\ISO_IR 10", b"ISO 2022 I"],
)
def test_a_character_set_pydicom_refuses_or_doubts_is_read_by_it(tmp_path, charset):
    """(0008,0005) bytes replaced in place (same length): a NUL inside makes pydicom's codec lookup raise, a
    codec name that is not a text encoding fails its decoding; the fast path hands anything but a plain
    single value to pydicom, so the two agree, the layout of the series learned or not."""
    files = _copy_series("Siemens/VE11_PD_T2_tse_sag_1.8mm", tmp_path / "series", 5)
    raw = files[2].read_bytes()
    element = b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100"
    assert raw.count(element) == 1
    target = tmp_path / "charset.dcm"
    target.write_bytes(raw.replace(element, element[:8] + charset))
    _scan(files, fast=True)
    assert _scan([target], fast=True) == _scan([target], fast=False)


def test_a_folder_is_listed_in_the_order_its_paths_sort(tmp_path, monkeypatch):
    """readers.walk lists depth first, each folder by name: the order pathlib sorts the paths in (part by part:
    "a/z" before "a.txt", though "/" sorts after "." as text), on names that tell the two apart; the names a
    folder's scan goes by are what str() of those Paths gives, "." included."""
    from ofsep_presets.readers import _names, walk

    for name in ("a/z", "a.txt", "a b/c", "a-b", "A", "b/a/b/c", "b/a.b", "b/a/a", "é", "e", "~", "0/1", "_"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    expected = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert walk(tmp_path)[0] == expected
    assert walk(DICOM)[0] == sorted(p for p in DICOM.rglob("*") if p.is_file())
    assert [str(p) for p in expected] != sorted(str(p) for p in expected)  # not the order of the strings
    monkeypatch.chdir(tmp_path)
    assert _names(Path("."))[0] == [str(p) for p in sorted(p for p in Path(".").rglob("*") if p.is_file())]


def test_representatives_read_on_every_core_as_in_process(monkeypatch):
    """A large input with many series has its representatives read by a pool (from PARALLEL_SERIES series): the
    acquisitions, provenance and warnings are those read in this process."""
    folder = DICOM / "Philips"  # > PARALLEL_FROM files, several series
    alone = _inspect(folder, fast=True)
    monkeypatch.setattr(dicom, "PARALLEL_SERIES", 2)
    warmed = []
    real = dicom._warm
    monkeypatch.setattr(dicom, "_warm", lambda full=False: warmed.append(full) or real(full))
    pooled = _inspect(folder, fast=True)
    assert True in warmed  # the representatives' pool was started
    assert pooled == alone and isinstance(alone, list) and len(alone[0]["acquisitions"]) >= 4


def test_the_cycle_collector_is_back_on_after_reading_even_on_failure(tmp_path):
    """The scan pauses Python's cycle collector (see dicom._gc_paused); it is on again after a folder is read,
    and after one that fails to read."""
    import gc

    assert gc.isenabled()
    _inspect(DICOM / "Siemens" / "VE11_PD_T2_tse_sag_1.8mm", fast=True)
    assert gc.isenabled()
    (tmp_path / "a.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 64)
    with pytest.raises(ReadError):
        dicom.read_many(tmp_path, [tmp_path / "a.dcm"])
    assert gc.isenabled()
