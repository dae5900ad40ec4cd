"""A tarred exam (.tar, .tar.gz: PACS and XNAT downloads, OpenNeuro and dcm_qa sets) reads exactly like the same
files in a folder, in memory and never extracted; a hostile tar reads only its safe members, and a gzip bomb stops.

Expected values: the folder's own reading (the tar holds the same bytes) and dcm2niix's sidecar of the series.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from ofsep_presets import limits
from ofsep_presets.acquisition import ReadError
from ofsep_presets.cli import main
from ofsep_presets.readers import archive, inspect_path

from .conftest import FIXTURES

SIEMENS = FIXTURES / "dicom" / "Siemens"
GE_T1 = FIXTURES / "dicom" / "GE" / "SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"
GE_PROTOCOL = FIXTURES / "vendor-exports" / "ge" / "GE_750_no-FOCUS" / "protocol.tar"
EDX = FIXTURES / "vendor-exports/siemens/Trio_VB17/spine_generic_siemens-trio.edx"


def _tar_of(folder: Path, target: Path, mode: str = "w") -> Path:
    """The folder's files as `tar -c[z]f target -C parent folder` names them (the fixtures are only read)."""
    with tarfile.open(target, mode) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.add(path, f"{folder.name}/{path.relative_to(folder)}")
    return target


def _params(inspections) -> dict[str, dict]:
    return {a.name: a.params for i in inspections for a in i.acquisitions if i.format == "dicom"}


@pytest.fixture
def no_extraction(monkeypatch):
    """Any attempt to write a member out fails the test (reading never extracts)."""

    def refuse(*args, **kwargs):
        raise AssertionError("a tar member was extracted")

    for name in ("extract", "extractall", "makefile", "_extract_member", "makelink", "makefifo", "makedev"):
        monkeypatch.setattr(tarfile.TarFile, name, refuse)


@pytest.mark.parametrize("mode, name", [("w", "exam.tar"), ("w:gz", "exam.tar.gz"), ("w:gz", "download.tgz")])
def test_a_tarred_exam_reads_like_its_folder(tmp_path, no_extraction, mode, name):
    tarred = _tar_of(SIEMENS, tmp_path / name, mode)
    before = hashlib.sha256(tarred.read_bytes()).hexdigest()
    from_tar = inspect_path(tarred)
    assert [i.format for i in from_tar] == ["dicom"]
    assert _params(from_tar) == _params(inspect_path(SIEMENS))
    assert len(_params(from_tar)) >= 6  # every Siemens fixture series, derived maps included
    # Provenance names the member file, as it names the file on disk for a folder
    adc = next(a for a in from_tar[0].acquisitions if "ADC" in a.name)
    assert any(".dcm" in p for p in adc.provenance.values())
    assert hashlib.sha256(tarred.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing extracted beside it


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_a_tarred_series_reads_as_dcm2niix_read_it(tmp_path, mode):
    sidecar = json.loads(next((GE_T1 / "bids_json_dcm2niix").glob("*.json")).read_text())
    [dicom] = inspect_path(_tar_of(GE_T1, tmp_path / "t1", mode))  # no suffix: told by content
    [acq] = dicom.acquisitions
    assert acq.params["slice_thickness_mm"] == sidecar["SliceThickness"]
    assert acq.params["repetition_time_ms"] == pytest.approx(sidecar["RepetitionTime"] * 1000)
    assert acq.params["echo_time_ms"] == pytest.approx(sidecar["EchoTime"] * 1000)
    assert acq.params["flip_angle_deg"] == sidecar["FlipAngle"]
    assert acq.params["series_number"] == sidecar["SeriesNumber"]
    assert acq.params["matrix"][1] == sidecar["AcquisitionMatrixPE"]
    # The sidecars inside the tar are not DICOM: counted as skipped members, in the tar's own word
    assert any("member(s) of the .tar" in w and "skipped" in w for w in dicom.warnings), dicom.warnings


def test_detection_order_a_ge_protocol_tar_stays_a_ge_protocol(tmp_path):
    """A tar naming session.xml/LxProtocol is the GE Protocol Exchange reader's; a tar of DICOM files is an
    archive; a gzip-wrapped DICOM file is a DICOM file (not a .tar.gz): each by content."""
    assert [i.format for i in inspect_path(GE_PROTOCOL)] == ["ge-protocol-tar"]
    renamed = tmp_path / "exam.tar"
    renamed.write_bytes(GE_PROTOCOL.read_bytes())
    assert [i.format for i in inspect_path(renamed)] == ["ge-protocol-tar"]
    assert [i.format for i in inspect_path(_tar_of(GE_T1, tmp_path / "protocol.tar"))] == ["dicom"]
    one = sorted(GE_T1.glob("*.dcm"))[0] if list(GE_T1.glob("*.dcm")) else sorted(GE_T1.glob("i*"))[0]
    wrapped = tmp_path / "image.dcm.gz"
    wrapped.write_bytes(_gzip(one.read_bytes()))
    assert archive.tar_kind(wrapped) is None
    assert [i.format for i in inspect_path(wrapped)] == ["dicom"]


def test_a_gzipped_ge_protocol_tar_reads_as_its_plain_tar(tmp_path):
    """The same Protocol Exchange export gzipped (as it is mailed or downloaded): read by the GE reader from its
    members in memory, to the same series and values as the plain tar."""
    gzipped = tmp_path / "protocol.tgz"
    gzipped.write_bytes(_gzip(GE_PROTOCOL.read_bytes()))
    [plain] = inspect_path(GE_PROTOCOL)
    [read] = inspect_path(gzipped)
    assert read.format == "ge-protocol-tar"
    assert [(a.name, a.params) for a in read.acquisitions] == [(a.name, a.params) for a in plain.acquisitions]
    assert len(read.acquisitions) >= 8 and read.warnings == plain.warnings


def _gzip(data: bytes) -> bytes:
    out = zlib.compressobj(6, zlib.DEFLATED, 31)
    return out.compress(data) + out.flush()


def test_a_tar_in_a_folder_is_read_beside_the_folder_s_other_files(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    _tar_of(SIEMENS, folder / "dummy-run.tgz", "w:gz")
    (folder / EDX.name).write_bytes(EDX.read_bytes())
    read = inspect_path(folder)
    assert sorted(i.format for i in read) == ["dicom", "siemens-edx"]
    assert _params(read) == _params(inspect_path(SIEMENS))
    assert not any("skipped: not a format" in w for i in read for w in i.warnings)
    assert sorted(p.name for p in folder.iterdir()) == ["dummy-run.tgz", EDX.name]


def _hostile_tar(target: Path, mode: str) -> None:
    good = sorted((SIEMENS / "VE11_PD_T2_tse_sag_1.8mm").glob("*.dcm"))[0].read_bytes()
    with tarfile.open(target, mode) as out:

        def add(name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", link: str = "") -> None:
            info = tarfile.TarInfo(name)
            info.type, info.linkname, info.size = kind, link, len(data)
            out.addfile(info, io.BytesIO(data) if data else None)

        add("ok/1.dcm", data=good)
        add("../escape.dcm", data=good)
        add("/etc/absolute.dcm", data=good)
        add("ok/sym.dcm", tarfile.SYMTYPE, link="/etc/passwd")
        add("ok/hard.dcm", tarfile.LNKTYPE, link="ok/1.dcm")
        add("ok/fifo", tarfile.FIFOTYPE)
        add("ok/tty", tarfile.CHRTYPE)
        add("ok/1.dcm", data=good)  # a second entry of one name: the first is read, once
        add("ok/._1.dcm", data=b"\0\5\26\7")  # AppleDouble: passed over silently
        add("notes.txt", data=b"not DICOM")


@pytest.mark.parametrize("mode", ["w", "w:gz"])
def test_a_hostile_tar_reads_only_its_safe_members(tmp_path, no_extraction, mode):
    target = tmp_path / "hostile.tar"
    _hostile_tar(target, mode)
    cwd = sorted(os.listdir("."))
    [inspection] = inspect_path(target)
    assert len(inspection.acquisitions) == 1
    text = "\n".join(inspection.warnings)
    assert "2 member(s) not read (unsafe name)" in text
    assert "2 member(s) not read (link)" in text
    assert "2 member(s) not read (device or FIFO)" in text
    assert "1 member(s) not read (a second entry of the same name)" in text
    assert "1 member(s) of the .tar" in text and "skipped: not DICOM" in text
    assert "._1.dcm" not in text
    assert not (tmp_path.parent / "escape.dcm").exists() and not Path("/etc/absolute.dcm").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hostile.tar"] and sorted(os.listdir(".")) == cwd


def _bomb(target: Path, inflated: int) -> Path:
    """A .tar.gz whose one member is `inflated` bytes of zeros (~1000:1), written in chunks (never held whole)."""
    header = tarfile.TarInfo("bomb.dcm")
    header.size = inflated
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    with target.open("wb") as out:
        out.write(deflate.compress(header.tobuf()))
        for _ in range(inflated >> 20):
            out.write(deflate.compress(zeros))
        out.write(deflate.flush())
    return target


def test_a_gzip_bomb_stops_at_the_inflate_cap(tmp_path, monkeypatch):
    """A .tar.gz is bounded as a whole by limit `inflate_archive`, counted while it inflates: a 64 MiB bomb under
    an 8 MiB bound is refused naming the variable that raises it, having held little more than the bound."""
    bomb = _bomb(tmp_path / "bomb.tgz", 64 << 20)
    assert bomb.stat().st_size < 200_000
    assert archive.tar_kind(bomb) == "tar.gz"
    monkeypatch.setenv(limits.LIMITS["inflate_archive"].env, str(8 << 20))
    archive._inflate_cached.cache_clear()
    tracemalloc.start()
    try:
        with pytest.raises(limits.LimitError, match="inflate_archive limit") as refused:
            inspect_path(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "OFSEP_PRESETS_LIMIT_INFLATE_ARCHIVE" in str(refused.value)
    assert peak < 40 << 20, peak  # the bound (8 MiB) and one inflated chunk, not the 64 MiB the header states
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.tgz"]


def test_a_gzip_bomb_within_the_archive_bound_stops_at_its_compression_ratio(tmp_path):
    """Under the default bound (GiB: a real exam), a bomb is told by its ratio once past RATIO_AFTER: 160 MiB
    of zeros gzipped to ~160 KB (about 1000:1; a DICOM exam's .tar.gz inflates about 3:1) is refused at 64 MiB held."""
    bomb = _bomb(tmp_path / "bomb.tgz", 160 << 20)
    assert archive.MAX_RATIO * bomb.stat().st_size < (160 << 20)
    archive._inflate_cached.cache_clear()
    tracemalloc.start()
    try:
        with pytest.raises(ReadError, match="compression ratio of a decompression bomb"):
            inspect_path(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < archive.RATIO_AFTER * 3 // 2, peak  # not the 160 MiB the bomb inflates to


def test_a_tar_gz_past_the_member_bound_but_within_the_archive_bound_reads_like_its_folder(tmp_path, monkeypatch):
    """A real exam inflates past limit `inflate_bytes` (one member's bound: 512 MiB; a full MS exam is more):
    the whole .tar.gz counts against `inflate_archive` only, so it reads as its plain tar and its folder do.
    Small limits stand for the real sizes: members of 150 KB, a tar of 600 KB, `inflate_bytes` 400 KB."""
    folder = SIEMENS / "VE11_PD_T2_tse_sag_1.8mm"
    tarred = _tar_of(folder, tmp_path / "exam.tar.gz", "w:gz")
    inflated = len(zlib.decompress(tarred.read_bytes(), wbits=31))
    monkeypatch.setenv(limits.LIMITS["inflate_bytes"].env, "400000")
    monkeypatch.setenv(limits.LIMITS["inflate_archive"].env, str(inflated + 1024))
    assert inflated > 400_000 and max(p.stat().st_size for p in folder.iterdir()) < 400_000
    archive._inflate_cached.cache_clear()
    assert _params(inspect_path(tarred)) == _params(inspect_path(folder))
    archive._inflate_cached.cache_clear()
    monkeypatch.setenv(limits.LIMITS["inflate_archive"].env, str(inflated - 1024))  # and the bound holds
    with pytest.raises(limits.LimitError, match="inflate_archive limit"):
        inspect_path(tarred)


def test_a_tar_gz_is_held_in_memory_once(tmp_path):
    """The inflated tar is one buffer, walked in place: no second copy of it (bytes() of the buffer, a BytesIO
    over it) at any moment. A 48 MiB member of zeros makes the tar's size dominate what is measured."""
    target = tmp_path / "big.tar.gz"
    with tarfile.open(target, "w:gz") as out:
        info = tarfile.TarInfo("exam/padding.bin")
        info.size = 48 << 20
        out.addfile(info, io.BytesIO(bytes(info.size)))
        out.add(SIEMENS / "VE11_PD_T2_tse_sag_1.8mm" / "0001.dcm", "exam/0001.dcm")
    archive._inflate_cached.cache_clear()
    tracemalloc.start()
    try:
        found, _ = archive.tar_members(target)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        archive._inflate_cached.cache_clear()
    assert sorted(m.member for m in found) == ["exam/0001.dcm", "exam/padding.bin"]
    assert peak < (48 << 20) * 3 // 2, peak  # one copy and a chunk, not two copies


def test_a_member_past_the_read_cap_is_not_read(tmp_path, monkeypatch):
    target = _tar_of(GE_T1, tmp_path / "t1.tar")
    monkeypatch.setenv(limits.LIMITS["read_bytes"].env, "1000")  # every DICOM file of the series is larger
    with pytest.raises(ReadError) as refused:
        inspect_path(target)
    assert "nothing readable inside this .tar" in str(refused.value)


def test_a_pax_header_past_the_read_cap_is_refused_unread(tmp_path, monkeypatch):
    """tarfile reads a pax header's data whole: a header stating 2 MB (gzipped to a few KB) is refused under a
    1 MB cap, not read into memory."""
    target = tmp_path / "pax.tgz"
    with tarfile.open(target, "w:gz", format=tarfile.PAX_FORMAT) as out:
        info = tarfile.TarInfo("a.dcm")
        info.pax_headers = {"comment": "x" * (2 << 20)}
        out.addfile(info, io.BytesIO(b""))
    monkeypatch.setenv(limits.LIMITS["read_bytes"].env, str(1 << 20))
    with pytest.raises(limits.LimitError, match="read_bytes limit"):
        inspect_path(target)


def test_too_many_members_are_refused(tmp_path, monkeypatch):
    target = tmp_path / "many.tar"
    with tarfile.open(target, "w") as out:
        for index in range(20):
            info = tarfile.TarInfo(f"f{index}.dcm")
            out.addfile(info, io.BytesIO(b""))
    monkeypatch.setenv(limits.LIMITS["members"].env, "10")
    with pytest.raises(limits.LimitError, match="members limit"):
        inspect_path(target)


def test_a_tar_cut_short_reads_the_members_before_the_cut(tmp_path):
    whole = _tar_of(SIEMENS / "VE11_PD_T2_tse_sag_1.8mm", tmp_path / "whole.tar").read_bytes()
    cut = tmp_path / "cut.tar"
    cut.write_bytes(whole[: len(whole) // 2])
    [inspection] = inspect_path(cut)
    assert inspection.acquisitions
    assert any("not a complete tar" in w for w in inspection.warnings), inspection.warnings


def test_check_reads_a_tar(tmp_path):
    """`check` of a tarred series gives the verdicts of its folder (the GE 1.2 mm 3D T1 fails the 1 mm rule)."""
    tarred = _tar_of(GE_T1, tmp_path / "t1.tgz", "w:gz")
    runs = [CliRunner().invoke(main, ["check", str(p), "--format", "json"]) for p in (tarred, GE_T1)]
    docs = [json.loads(run.stdout) for run in runs]
    assert runs[0].exit_code == runs[1].exit_code

    def verdicts(doc):
        return {
            s["id"]: (s["status"], sorted((c["param"], c["observed"], c["status"]) for c in s["checks"]))
            for s in doc["sequences"]
        }

    assert verdicts(docs[0]) == verdicts(docs[1])
    t1 = next(s for s in docs[0]["sequences"] if s["id"] == "brain.t1_3d")
    assert next(c for c in t1["checks"] if c["param"] == "slice_thickness_mm")["status"] == "fail"


def test_a_plain_tar_s_members_are_read_where_they_lie_never_whole(tmp_path, monkeypatch):
    """A header scan of a plain tar's member reads its first bytes from the tar on disk (as a folder's file is
    read), not the whole member into memory: the exam reads the same with whole-member reads forbidden."""
    tarred = _tar_of(SIEMENS / "VE11_PD_T2_tse_sag_1.8mm", tmp_path / "t2.tar")
    expected = _params(inspect_path(SIEMENS / "VE11_PD_T2_tse_sag_1.8mm"))

    def whole(self, limit=None):
        raise AssertionError(f"{self}: read whole")

    monkeypatch.setattr(archive.TarMember, "read_bytes", whole)
    assert _params(inspect_path(tarred)) == expected


def test_a_member_s_long_name_is_cut_in_warnings(tmp_path):
    """tarfile reads a GNU long name up to limit read_bytes: a refused member with a 4000-character name (a link)
    is quoted cut, not whole, and a regular member with a name no file system holds (200,000 characters, past
    Linux's PATH_MAX of 4096) is refused unread as an unsafe name: the report stays lines, not the archive's text."""
    target = tmp_path / "long.tar"
    dicom = SIEMENS / "VE11_PD_T2_tse_sag_1.8mm" / "0001.dcm"
    with tarfile.open(target, "w", format=tarfile.GNU_FORMAT) as out:
        out.add(dicom, "exam/a.dcm")
        link = tarfile.TarInfo("exam/" + "L" * 4000)
        link.type, link.linkname = tarfile.SYMTYPE, "a.dcm"
        out.addfile(link)
        out.add(dicom, "exam/" + "R" * 200_000 + ".dcm")
    [inspection] = inspect_path(target)
    assert len(inspection.acquisitions) == 1
    refused = [w for w in inspection.warnings if "not read" in w]
    assert any("(link)" in w for w in refused) and any("(unsafe name)" in w for w in refused), refused
    assert all(len(w) < len(str(target)) + 300 for w in inspection.warnings), [len(w) for w in inspection.warnings]
    assert not any("R" * 200 in w or "L" * 200 in w for w in inspection.warnings)
    text = json.dumps([a.provenance for a in inspection.acquisitions])
    assert "R" * 200 not in text


@pytest.mark.parametrize("name", ["exam.tar", "exam.tar.gz", "exam.zip"])
@pytest.mark.parametrize("fmt", ["json", "html"])
def test_a_shareable_report_names_no_member_of_an_archive(tmp_path, name, fmt):
    """A PACS export names its files by SOP Instance UID under a folder named after the patient: in a .tar, .tar.gz
    or .zip, as in a folder, a --shareable report holds neither (the file names reach provenance, the folder the
    warning about a refused link beside them). The secrets are the archive's own member names."""
    series = sorted((SIEMENS / "XA30_enh_DWI_dir80_PA").glob("*.dcm"))
    folder = "DOE^JOHN_19700101"
    target = tmp_path / name
    if name.endswith(".zip"):
        with zipfile.ZipFile(target, "w") as out:
            for path in series:
                out.write(path, f"exam/{folder}/{path.name}")
            out.writestr(f"exam/{folder}/../escape.dcm", b"")  # refused (unsafe name), named in a warning
    else:
        with tarfile.open(target, "w:gz" if name.endswith(".gz") else "w") as out:
            for path in series:
                out.add(path, f"exam/{folder}/{path.name}")
            link = tarfile.TarInfo(f"exam/{folder}/latest.dcm")
            link.type, link.linkname = tarfile.SYMTYPE, series[0].name
            out.addfile(link)  # refused (a link), named in a warning
    uids = [path.stem.split("_", 1)[1] for path in series]
    assert all(uid.startswith("1.3.12.2") for uid in uids)  # the names are the instances' UIDs
    plain = CliRunner().invoke(main, ["check", "--one-exam", "--format", fmt, str(target)])
    assert "DOE" in plain.stdout and any(uid in plain.stdout for uid in uids)  # the normal report names them
    shared = CliRunner().invoke(main, ["check", "--one-exam", "--shareable", "--format", fmt, str(target)])
    assert shared.exit_code in (0, 1), shared.output
    assert "input 1" in shared.stdout
    for secret in ("DOE", "JOHN", "19700101", *uids):
        assert secret not in shared.stdout, (secret, name, fmt)
