"""A zipped exam reads exactly like the same files in a folder, in memory, and a hostile zip reads only safe members."""

from __future__ import annotations

import hashlib
import stat
import zipfile
from pathlib import Path

import pytest

from ofsep_presets.acquisition import ReadError
from ofsep_presets.readers import archive, inspect_path

from .conftest import FIXTURES

EXAM = FIXTURES / "dicom" / "Siemens"


def _zip_of(folder: Path, target: Path) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                out.write(path, f"exam/{path.relative_to(folder)}")
    return target


def _params(inspections) -> dict[str, dict]:
    return {a.name: a.params for i in inspections for a in i.acquisitions}


def test_a_zipped_exam_reads_like_its_folder(tmp_path):
    zipped = _zip_of(EXAM, tmp_path / "exam.zip")
    before = hashlib.sha256(zipped.read_bytes()).hexdigest()
    from_zip = inspect_path(zipped)
    assert [i.format for i in from_zip] == ["dicom"]
    from_folder = [i for i in inspect_path(EXAM) if i.format == "dicom"]
    assert _params(from_zip) == _params(from_folder)
    assert len(_params(from_zip)) >= 6  # every Siemens fixture series, derived maps included
    # Provenance names the member file, as it names the file on disk for a folder.
    t1 = next(a for a in from_zip[0].acquisitions if "ADC" in a.name)
    assert any(".dcm" in p for p in t1.provenance.values())
    assert hashlib.sha256(zipped.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exam.zip"]  # nothing extracted beside it


def test_a_hostile_zip_reads_only_its_safe_members(tmp_path):
    good = sorted((EXAM / "VE11_PD_T2_tse_sag_1.8mm").glob("*.dcm"))[0]
    target = tmp_path / "hostile.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(good, "ok/1.dcm")
        out.writestr("../escape.dcm", good.read_bytes())
        out.writestr("/etc/absolute.dcm", good.read_bytes())
        link = zipfile.ZipInfo("ok/link.dcm")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        out.writestr(link, "/etc/passwd")
        out.writestr("bomb.dcm", b"\0" * (20 * 1024 * 1024))  # inflates 1000:1
        out.writestr("notes.txt", "not DICOM")
    [inspection] = inspect_path(target)
    assert len(inspection.acquisitions) == 1
    text = "\n".join(inspection.warnings)
    assert "unsafe name" in text and "link" in text and "decompression bomb" in text
    assert "1 member(s) of the .zip skipped: not DICOM" in text
    assert not (tmp_path.parent / "escape.dcm").exists()


def test_inflating_a_member_stops_at_the_cap(tmp_path, monkeypatch):
    target = tmp_path / "liar.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as out:
        out.writestr("a.dcm", b"x" * 4096)
    monkeypatch.setenv("OFSEP_PRESETS_LIMIT_INFLATE_BYTES", "1024")
    member = archive.Member(str(target), "a.dcm")
    with pytest.raises(ReadError, match="inflate_bytes limit"):
        member.read_bytes()


def test_a_zip_without_dicom_says_what_it_reads(tmp_path):
    target = tmp_path / "notes.zip"
    with zipfile.ZipFile(target, "w") as out:
        out.writestr("readme.txt", "hello")
    with pytest.raises(ReadError, match="inside a .zip ofsep-presets reads DICOM"):
        inspect_path(target)


def test_a_zip_in_a_folder_is_read_beside_the_folder_s_other_files(tmp_path):
    """A folder holding a zipped dummy run beside a protocol export: both are read (the .zip in memory, as when it
    is named), the zip's series exactly as its folder's, and nothing is extracted."""
    import shutil

    folder = tmp_path / "site"
    folder.mkdir()
    _zip_of(EXAM, folder / "dummy-run.zip")
    export = FIXTURES / "vendor-exports/siemens/Trio_VB17/spine_generic_siemens-trio.edx"
    shutil.copy(export, folder / export.name)
    read = inspect_path(folder)
    assert sorted(i.format for i in read) == ["dicom", "siemens-edx"]
    zipped = [i for i in read if i.format == "dicom"]
    assert _params(zipped) == _params([i for i in inspect_path(EXAM) if i.format == "dicom"])
    assert sorted(p.name for p in folder.iterdir()) == ["dummy-run.zip", export.name]


def test_a_broken_zip_in_a_folder_is_said_and_the_rest_read(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "broken.zip").write_bytes(archive.ZIP_MAGIC + b"\0" * 64)
    export = FIXTURES / "vendor-exports/siemens/Trio_VB17/spine_generic_siemens-trio.edx"
    (folder / export.name).write_bytes(export.read_bytes())
    read = inspect_path(folder)
    assert [i.format for i in read] == ["siemens-edx"]
    assert any("broken.zip" in w for w in read[0].warnings), read[0].warnings


def test_a_zip_whose_local_header_has_no_name_is_refused_in_one_line(tmp_path):
    """A damaged .zip whose first local header names nothing: said, never a traceback."""
    broken = tmp_path / "b.zip"
    broken.write_bytes(archive.ZIP_MAGIC + b"\0" * 64)
    with pytest.raises(ReadError, match="not a readable .zip"):
        inspect_path(broken)


def test_a_zip_member_s_long_name_is_refused_and_cut_in_warnings(tmp_path):
    """A zip's name field holds up to 65,535 bytes (APPNOTE 4.4.10): a member named past 4096 characters (Linux's
    PATH_MAX: no exam's file) is refused unread as an unsafe name, and the warning quotes its name cut."""
    dicom = EXAM / "VE11_PD_T2_tse_sag_1.8mm" / "0001.dcm"
    target = tmp_path / "long.zip"
    with zipfile.ZipFile(target, "w") as out:
        out.write(dicom, "exam/a.dcm")
        out.write(dicom, "exam/" + "R" * 60_000 + ".dcm")
    [inspection] = inspect_path(target)
    assert len(inspection.acquisitions) == 1
    assert any("(unsafe name)" in w for w in inspection.warnings), inspection.warnings
    assert all(len(w) < len(str(target)) + 300 for w in inspection.warnings), [len(w) for w in inspection.warnings]
