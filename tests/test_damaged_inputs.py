"""Truncated and damaged protocol exports (issue 11): what can be read is read, the rest is said to be missing,
and the input is never called "not a format".

Every damaged file is made here, at test time, in tmp_path, by cutting a real fixture (never copied into the repo).
Expected values come from the fixtures' own bytes read independently (SQLite + regex over the raw ASCCONV) or the
vendor's printout beside the export, not from our reader's reading of the whole file.
"""

from __future__ import annotations

import re
import sqlite3
import zipfile
import zlib
from pathlib import Path

import pytest

from ofsep_presets.acquisition import ReadError
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES
from .test_inspect_philips import numbers_after, printout_sections

EXPORTS = FIXTURES / "vendor-exports"
VE11C = EXPORTS / "siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1"
XA61 = EXPORTS / "siemens/CimaX_XA61_ZOOMit/spine-generic_CimaX_XA61_ZOOMit.exar1"
CARD = EXPORTS / "philips/spine_generic_philips_R53.ExamCard"

pytestmark = pytest.mark.skipif(not EXPORTS.exists(), reason="../shared/fixtures not present")


def _cut(source: Path, fraction: float, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: int(len(data) * fraction)])
    return target


def _raw_protocols(exar1: Path) -> dict[str, str]:
    """tProtocolName -> alTR[0] (us) of every protocol record, straight from the SQLite blobs by regex."""
    con = sqlite3.connect(f"{exar1.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    found = {}
    for (blob,) in con.execute("select Data from Content"):
        text = zlib.decompress(blob, -15).decode("utf-8", "replace")
        name = re.search(r'tProtocolName\\t = \\t\\"+([^"\\]+)', text)
        tr = re.search(r"alTR\[0\]\\t = \\t(\d+)", text)
        if name and tr:
            found[name.group(1)] = tr.group(1)
    con.close()
    return found


def _steps(exar1: Path) -> int:
    con = sqlite3.connect(f"{exar1.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    [(count,)] = con.execute("select count(*) from Instance where InstanceType = 'EdfMeasurementStep'")
    con.close()
    return count


@pytest.mark.parametrize("source", [VE11C, XA61], ids=["VE11C", "XA61"])
@pytest.mark.parametrize("fraction", [0.0005, 0.02, 0.3, 0.6, 0.9, 0.95, 0.99])
def test_a_truncated_exar1_reads_what_it_holds_or_says_it_is_incomplete(tmp_path, source, fraction):
    path = _cut(source, fraction, tmp_path / "cut.exar1")
    try:
        [inspection] = inspect_path(path)
    except ReadError as exc:
        assert "not a complete Siemens .exar1 file" in str(exc), exc
        assert "not a format" not in str(exc)
        return
    assert inspection.warnings[0].startswith(f"{path}: not a complete Siemens .exar1 file")
    raw = _raw_protocols(source)
    for acq in inspection.acquisitions:
        # Named by the protocol's own tProtocolName when its step's label is lost; TR as the raw ASCCONV states.
        assert acq.name in raw, acq.name
        assert acq.get("repetition_time_ms") == int(raw[acq.name]) / 1000, acq.name


def test_a_slightly_truncated_exar1_keeps_every_protocol(tmp_path):
    """Cut 5 % short, the XA61 export still holds all its protocols (the Instance table, at the end, is lost)."""
    path = _cut(XA61, 0.95, tmp_path / "cut.exar1")
    [inspection] = inspect_path(path)
    assert len(inspection.acquisitions) == _steps(XA61) == 8
    assert any("read without their step" in w for w in inspection.warnings)


def test_records_sqlite_cannot_reach_are_read_from_their_leaf_pages(tmp_path):
    """Cut 10 % short, the XA61 b-tree's interior page is lost before its leaves: SQL reaches 7 of the 8 protocol
    records, the leaf pages themselves (and their overflow chains) hold the eighth."""
    path = _cut(XA61, 0.9, tmp_path / "cut.exar1")
    [inspection] = inspect_path(path)
    assert len(inspection.acquisitions) == _steps(XA61) == 8
    raw = _raw_protocols(XA61)
    assert {a.name: a.get("repetition_time_ms") for a in inspection.acquisitions} == {
        name: int(tr) / 1000 for name, tr in raw.items()
    }


def test_an_exar1_cut_inside_its_first_page_is_incomplete_not_unknown(tmp_path):
    path = _cut(XA61, 0.01, tmp_path / "cut.exar1")
    with pytest.raises(ReadError, match="not a complete Siemens .exar1 file"):
        inspect_path(path)


@pytest.mark.parametrize("fraction", [0.002, 0.02, 0.3, 0.5, 0.9, 0.99])
def test_a_truncated_examcard_reads_its_whole_scans(tmp_path, fraction):
    path = _cut(CARD, fraction, tmp_path / "cut.ExamCard")
    try:
        [inspection] = inspect_path(path)
    except ReadError as exc:
        assert "not a complete Philips ExamCard" in str(exc) and "not a format" not in str(exc), exc
        return
    assert inspection.warnings[0].startswith(f"{path}: not a complete Philips ExamCard")
    sections = printout_sections()
    for acq in inspection.acquisitions:
        section = sections[acq.name]
        printed = (
            numbers_after(section, "Act. TR/TE (ms)")
            or numbers_after(section, "Act. TR/TE1/delta TE")
            or numbers_after(section, "Act. TR (ms)")
        )
        assert acq.get("repetition_time_ms") == pytest.approx(printed[0]), acq.name


def test_a_card_cut_at_90_percent_keeps_six_of_its_seven_scans(tmp_path):
    """Only the last scan's table (DWI, cut in its base64) and the card's step order are lost."""
    [inspection] = inspect_path(_cut(CARD, 0.9, tmp_path / "cut.ExamCard"))
    names = [a.name for a in inspection.acquisitions]
    assert len(names) == len(set(names)) == 6 and set(names) < set(printout_sections())
    assert "scan 'DWI': parameter table unreadable" in "\n".join(inspection.warnings)


def _zip(target: Path, *members: tuple[Path | bytes, str]) -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for source, name in members:
            if isinstance(source, bytes):
                out.writestr(name, source)
            else:
                out.write(source, name)
    return target


def test_a_zip_of_protocol_exports_reads_its_members(tmp_path):
    target = _zip(tmp_path / "exports.zip", (CARD, "site/spine.ExamCard"), (XA61, "site/spine.exar1"), (b"hi", "a.txt"))
    inspections = {i.format: i for i in inspect_path(target)}
    assert sorted(inspections) == ["philips-examcard", "siemens-exar1"]
    assert [a.name for a in inspections["philips-examcard"].acquisitions] == list(printout_sections())
    assert len(inspections["siemens-exar1"].acquisitions) == _steps(XA61)
    assert "1 member(s) of the .zip skipped" in "\n".join(inspections["philips-examcard"].warnings)
    assert not (tmp_path / "site").exists()  # read in memory, nothing extracted


@pytest.mark.parametrize("fraction", [0.05, 0.3, 0.6, 0.9, 0.999])
def test_a_truncated_zip_reads_the_members_before_its_break(tmp_path, fraction):
    whole = _zip(tmp_path / "whole.zip", (CARD, "spine.ExamCard"), (XA61, "spine.exar1"))
    path = _cut(whole, fraction, tmp_path / "cut.zip")
    try:
        inspections = inspect_path(path)
    except ReadError as exc:
        assert "not a complete" in str(exc) or "not a readable .zip" in str(exc), exc
        assert "not a format" not in str(exc)
        return
    text = "\n".join(w for i in inspections for w in i.warnings)
    assert "not a complete .zip" in text
    card = next(i for i in inspections if i.format == "philips-examcard")
    assert card.acquisitions and {a.name for a in card.acquisitions} <= set(printout_sections())


def test_a_truncated_zip_still_checks_member_names(tmp_path):
    whole = _zip(tmp_path / "whole.zip", (CARD, "../escape.ExamCard"), (CARD, "ok.ExamCard"), (XA61, "spine.exar1"))
    path = _cut(whole, 0.9, tmp_path / "cut.zip")
    [inspection, *_] = inspect_path(path)
    text = "\n".join(inspection.warnings)
    assert "unsafe name" in text and "'../escape.ExamCard'" in text
    assert all(a.context["source"].endswith("ok.ExamCard") for a in inspection.acquisitions)


def test_a_header_claiming_terabytes_is_not_padded_to_them(tmp_path):
    """The page count a damaged header states (4 G pages of 64 KiB) is never allocated: it is refused as incomplete."""
    data = bytearray(XA61.read_bytes()[: int(XA61.stat().st_size * 0.5)])
    data[16:18] = (1).to_bytes(2, "big")  # page size 65536
    data[28:32] = (2**32 - 1).to_bytes(4, "big")
    data[92:96] = data[24:28]  # the in-header page count declared valid
    path = tmp_path / "liar.exar1"
    path.write_bytes(bytes(data))
    with pytest.raises(ReadError, match="not a complete Siemens .exar1 file"):
        inspect_path(path)
