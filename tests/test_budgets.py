"""Issue 14's hostile inputs, each built here, each read in a child process under a memory cap and a timeout.

What is asserted is the bound (it finishes well inside a generous timeout, under a memory cap, with exit 0 and
the rest read, or exit 2 naming the limit), never a speed. Each input was measured against the readers before
this fix: they ran past the timeout, past the memory cap or out through an uncaught error.
"""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import sqlite3
import struct
import subprocess
import sys
import tarfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from .conftest import FIXTURES
from .support import print_xml

ROOT = Path(__file__).resolve().parents[1]
SIEMENS_DICOM = FIXTURES / "dicom" / "Siemens" / "VE11_PD_T2_tse_sag_1.8mm"
needs_fixtures = pytest.mark.skipif(not FIXTURES.is_dir(), reason="../shared/fixtures absent")

# The child reports its own peak (VmHWM: reset at exec, unlike ru_maxrss, which a forked child inherits).
RUNNER = """
import re, resource, sys
cap = int(sys.argv[1]) * 2**20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from ofsep_presets.cli import main
try:
    main(sys.argv[2:], prog_name="ofsep-presets")
finally:
    with open("/proc/self/status") as status:
        peak = re.search(r"VmHWM:\\s*(\\d+)", status.read())
    sys.stderr.write("\\nPEAK_MB=%d\\n" % (int(peak.group(1)) // 1024 if peak else 0))
"""


@dataclass
class Run:
    code: int
    out: str
    err: str
    peak_mb: int

    @property
    def docs(self) -> list[dict]:
        data = json.loads(self.out)
        return data if isinstance(data, list) else [data]

    @property
    def warnings(self) -> list[str]:
        return [w for doc in self.docs for w in doc["warnings"]]


def bounded(*args: str, memory_mb: int = 1024, timeout: float = 60, env: dict | None = None) -> Run:
    """`ofsep-presets ARGS` in a child process with an address-space cap; a run past `timeout` fails the test."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(memory_mb), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"still reading after {timeout} s: the time bound does not hold")
    err, _, peak = done.stderr.rpartition("PEAK_MB=")
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    return Run(done.returncode, done.stdout, err, int(peak.strip() or 0))


def inspect_json(path: Path, **kw) -> Run:
    return bounded("inspect", "--format", "json", str(path), **kw)


# --- CPU: polynomial parsers -------------------------------------------------------------------------------


def test_ascconv_begin_without_end_is_read_in_linear_time(tmp_path):
    # A BEGIN marker, no END, and whitespace: the block regex backtracked cubically (4 KB: 17 s; this: hours).
    path = tmp_path / "open.pro"
    path.write_text("sKSpace.ucDimension = 0x2\n### ASCCONV BEGIN ###\n" + " \n" * 20_000, encoding="latin-1")
    run = inspect_json(path)
    assert run.code == 0
    [doc] = run.docs
    assert doc["acquisitions"][0]["params"]["acquisition_type"] == "2D"  # no block: every line is read


@needs_fixtures
def test_ascconv_without_end_inside_a_siemens_dicom_tag(tmp_path):
    import pydicom

    source = next(SIEMENS_DICOM.glob("*.dcm"))
    ds = pydicom.dcmread(source)
    for tag in ((0x0029, 0x1020), (0x0029, 0x1120)):
        if tag in ds:
            del ds[tag]
    ds.add_new((0x0021, 0x1019), "OB", b"### ASCCONV BEGIN ###\n" + b" \n" * 20_000)
    ds.save_as(tmp_path / "csa.dcm")
    run = inspect_json(tmp_path / "csa.dcm")
    assert run.code == 0
    [doc] = run.docs
    assert doc["acquisitions"][0]["params"]["repetition_time_ms"] > 0  # the standard tags still read


def test_diffusion_weightings_from_the_file_are_capped(tmp_path):
    path = tmp_path / "dwi.pro"
    path.write_text(
        "### ASCCONV BEGIN ###\nsKSpace.ucDimension = 0x2\nsDiffusion.lDiffWeightings = 0x7fffffff\n"
        "### ASCCONV END ###\n",
        encoding="latin-1",
    )
    run = inspect_json(path)
    assert run.code == 0
    [doc] = run.docs
    assert "b_values" not in doc["acquisitions"][0]["params"]
    assert any("lDiffWeightings" in w and "loop_count" in w for w in run.warnings)


def test_ge_lxprotocol_of_newlines_is_linear(tmp_path):
    # `^\\s*set` under re.M ran from every blank line over all the blank lines after it (256 KB: 48 s).
    path = tmp_path / "LxProtocol"
    path.write_bytes(b'set PSEQ "SPGR"\nset TE "3.2"\nset TR "8.1"\n' + b"\n" * (2 << 20))
    run = inspect_json(path)
    assert run.code == 0
    [doc] = run.docs
    assert doc["acquisitions"][0]["params"]["repetition_time_ms"] == 8.1


def test_fake_philips_sheet_with_a_long_line_is_linear(tmp_path):
    # A lazy label retried at every " =" of one long line (80 KB: 8.6 s; quadratic), in our old Philips sheet;
    # the sheet is now a printout in the console's layout: the same 400 KB line beside one of its labels.
    path = tmp_path / "sheet.txt"
    path.write_text(
        "Philips MRI Protocol Dump\n     InBox (1) |     card (1) |     brain.t1\n  Flip angle (deg)      9\n"
        "  NSA      " + "a = " * 100_000 + "\n",
        encoding="utf-8",
    )
    run = inspect_json(path)
    assert run.code == 0
    [doc] = run.docs
    assert [a["name"] for a in doc["acquisitions"]] == ["brain.t1"]


def test_nested_print_protocol_xml_is_linear(tmp_path):
    # Every <Protocol> walked its whole subtree: nesting made the read quadratic in the nesting depth.
    depth, per_level = 1_000, 20
    level = "".join(
        f"<ProtParameter><Label>Unknown {i}</Label><ValueAndUnit>1</ValueAndUnit></ProtParameter>"
        for i in range(per_level)
    )
    text = "<PrintOut>" + f"<Protocol><HeaderProtPath>\\\\USER\\x</HeaderProtPath>{level}" * depth
    text += "</Protocol>" * depth + "</PrintOut>"
    path = tmp_path / "nested.xml"
    path.write_text(text, encoding="utf-8")
    run = inspect_json(path, timeout=60)
    assert run.code == 0
    assert len(run.docs[0]["acquisitions"]) == depth


# --- Memory: decompression ----------------------------------------------------------------------------------


def _deflated_dicom(inflated_mb: int) -> bytes:
    """A DICOM in Deflated Explicit VR Little Endian whose dataset inflates to `inflated_mb` MiB."""
    meta_uid = b"1.2.840.10008.1.2.1.99"
    syntax = meta_uid + b"\0" * (len(meta_uid) % 2)
    element = struct.pack("<HH2sH", 0x0002, 0x0010, b"UI", len(syntax)) + syntax
    group = struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, len(element)) + element
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    chunk = b"\0" * (1 << 20)
    body = b"".join(packer.compress(chunk) for _ in range(inflated_mb)) + packer.flush()
    return b"\0" * 128 + b"DICM" + group + body


def test_a_meta_group_past_the_first_64_kb_still_has_its_deflated_data_set_measured(tmp_path):
    """The deflate check reads the file's first 64 KB, and on where the meta group runs past them (a UR element,
    4-byte length, of 70 KB): the data set's start is past the UR, and its deflated data set is measured there
    (pydicom inflates it whole) and refused past `inflate_bytes`, as when the meta group is small."""
    data = _deflated_dicom(1_200)
    url = b"https://example.org/" + b"a" * 70_000
    long = struct.pack("<HH2sHI", 0x0002, 0x0026, b"UR", 0, len(url)) + url  # after (0002,0010), in tag order
    meta_end = data.index(b"1.2.840.10008.1.2.1.99") + 22
    data = data[:meta_end] + long + data[meta_end:]
    at = data.index(b"DICM") + 4 + 8  # the group length's value: the elements after it, now with the UR
    data = data[:at] + struct.pack("<I", struct.unpack_from("<I", data, at)[0] + len(long)) + data[at + 4 :]
    path = tmp_path / "deflated.dcm"
    path.write_bytes(data)
    run = inspect_json(path, memory_mb=1024)
    assert run.code == 2
    assert "inflate_bytes limit" in run.err
    assert run.peak_mb < 400


@pytest.mark.parametrize("wrapped", ["file", "zip"])
def test_deflated_transfer_syntax_is_measured_before_it_is_inflated(tmp_path, wrapped):
    data = _deflated_dicom(1_200)  # ~1.2 MB on disk; pydicom inflated it whole (1.5 MB -> 3.1 GB)
    path = tmp_path / "deflated.dcm"
    path.write_bytes(data)
    if wrapped == "zip":
        with zipfile.ZipFile(tmp_path / "exam.zip", "w", zipfile.ZIP_STORED) as out:
            out.write(path, "exam/deflated.dcm")
        path.unlink()
        path = tmp_path / "exam.zip"
    run = inspect_json(path, memory_mb=1024)
    assert run.code == 2
    assert "inflate_bytes limit" in run.err and "OFSEP_PRESETS_LIMIT_INFLATE_BYTES" in run.err
    assert run.peak_mb < 400


def test_gzipped_zeros_after_dicm_are_refused_before_pydicom_reads_them(tmp_path):
    # 128 + DICM + 500 MB of zeros, gzipped to ~0.5 MB: inflated whole then parsed as 62 million elements (101 s).
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    parts = [packer.compress(b"\0" * 128 + b"DICM")]
    parts += [packer.compress(b"\0" * (1 << 20)) for _ in range(500)]
    path = tmp_path / "zeros.dcm.gz"
    path.write_bytes(b"".join(parts) + packer.flush())
    run = inspect_json(path, memory_mb=1024, timeout=60)
    assert run.code == 2
    assert "group 0000" in run.err  # pydicom reads command-set elements with no stop callback
    assert run.peak_mb < 300


@needs_fixtures
def test_dicom_elements_are_counted_against_their_limit(monkeypatch):
    from ofsep_presets.acquisition import ReadError
    from ofsep_presets.readers import inspect_path

    monkeypatch.setenv("OFSEP_PRESETS_LIMIT_ELEMENTS", "10")
    with pytest.raises(ReadError, match="elements limit"):
        inspect_path(next(SIEMENS_DICOM.glob("*.dcm")))


def _exar1(path: Path, content_ddl: str = "Hash, Data, Format") -> sqlite3.Connection:
    con = sqlite3.connect(path)
    con.execute(f"create table Content ({content_ddl})")
    con.execute(
        "create table Instance (Id, Element_id, ContentHash, Children, Tags, ParentElementId, "
        "LabelElement_id, DescriptionElement_id, InstanceType, ObjectId)"
    )
    return con


def _record(obj: dict) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(b"EDF V1: x;" + json.dumps(obj).encode()) + packer.flush()


def test_exar1_computed_column_is_capped_inside_sqlite(tmp_path):
    # A generated column of 300 MB per row: 12 KB on disk, gigabytes when fetched.
    path = tmp_path / "computed.exar1"
    con = _exar1(path, "Hash, Format, Data BLOB GENERATED ALWAYS AS (zeroblob(300000000)) VIRTUAL")
    for i in range(6):
        con.execute("insert into Content (Hash, Format) values (?, 0)", (f"h{i}",))
    con.execute("insert into Instance values ('i', 'e', 'h0', null, null, 'p', null, null, 'EdfProtocol', null)")
    con.commit()
    con.close()
    run = inspect_json(path, memory_mb=1024, env={"OFSEP_PRESETS_LIMIT_READ_BYTES": str(64 << 20)})
    assert run.code == 2
    assert "read_bytes limit" in run.err
    assert run.peak_mb < 400


def test_exar1_label_is_inflated_once_for_all_its_steps(tmp_path, monkeypatch):
    from ofsep_presets.readers import inspect_path, siemens_exar1

    path = tmp_path / "steps.exar1"
    con = _exar1(path)
    protocol = {"Data": "### ASCCONV BEGIN ###\nsKSpace.ucDimension = 0x2\nalTR[0] = 2000000\n### ASCCONV END ###"}
    con.execute("insert into Content values ('proto', ?, 0)", (_record(protocol),))
    con.execute("insert into Content values ('label', ?, 0)", (_record({"Texts": {"en": "t2_tse"}}),))
    con.execute("insert into Instance values ('l', 'lab', 'label', null, null, null, null, null, 'EdfString', null)")
    steps = 50
    for i in range(steps):
        con.execute(
            "insert into Instance values (?, ?, 'stepc', null, null, null, 'lab', null, 'EdfMeasurementStep', null)",
            (f"s{i}", f"s{i}"),
        )
        con.execute(
            "insert into Instance values (?, ?, 'proto', null, null, ?, null, null, 'EdfProtocol', null)",
            (f"p{i}", f"p{i}", f"s{i}"),
        )
    con.commit()
    con.close()
    calls = []
    real = siemens_exar1._inflate
    monkeypatch.setattr(siemens_exar1, "_inflate", lambda blob, where: calls.append(blob) or real(blob, where))
    [inspection] = inspect_path(path)
    assert len(inspection.acquisitions) == steps
    assert {a.name for a in inspection.acquisitions} == {"t2_tse"}
    assert len(calls) == len(set(calls)) == 2  # the protocol and the label, once each


def _examcard(table: bytes) -> bytes:
    return (
        '<?xml version="1.0"?>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
        '<SOAP-ENV:Body><a1:ExamCard id="ref-0" xmlns:a1="urn:examcard"/>'
        '<a2:ScanProcedure id="ref-2" xmlns:a2="urn:scan"><name>T1</name><parameterData href="#ref-1"/>'
        '</a2:ScanProcedure><a3:Bytes id="ref-1" xmlns:a3="urn:bytes">'
        + base64.b64encode(table).decode()
        + "</a3:Bytes></SOAP-ENV:Body></SOAP-ENV:Envelope>\n"
    ).encode()


def test_examcard_table_is_bounded_by_values_decoded(tmp_path):
    # 11,000 records each claiming 4096 int32 values at one shared offset: 576 KB -> 1.3 GB of Python ints.
    count, n = 11_000, 4096
    values_at = 32 + 50 * count
    table = bytearray(struct.pack("<8i", 0, 0, 0, 0, 0, 0, 0, count))
    for i in range(count):
        at = 32 + 50 * i
        table += f"EX_{i}".encode().ljust(34, b"\0") + struct.pack("<4i", 1, n, 0, values_at - (at + 46))
    table += b"\1\0\0\0" * n
    path = tmp_path / "bomb.ExamCard"
    path.write_bytes(_examcard(bytes(table)))
    run = inspect_json(path, memory_mb=1024)
    # The card's only table is refused at the limit, so the input yields no acquisition: exit 2 with the reason
    # (issue 10: an input with nothing to judge is not an empty pass), the limit and how to raise it named.
    assert run.code == 2
    assert "loop_count limit" in run.err and "OFSEP_PRESETS_LIMIT_LOOP_COUNT" in run.err
    assert run.peak_mb < 400


def test_gzip_tar_disguised_as_plain_tar_is_not_inflated(tmp_path):
    # A gzip stream whose FEXTRA field spells "ustar" at offset 257; inside, a tar with a 400 MB PAX header.
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        info = tarfile.TarInfo("exam/session.xml")
        info.pax_headers = {"comment": "x" * (400 << 20)}
        archive.addfile(info, io.BytesIO(b""))
    extra = bytearray(b"\0" * 300)
    extra[257 - 12 : 262 - 12] = b"ustar"
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    body = packer.compress(buffer.getvalue()) + packer.flush()
    del buffer
    header = b"\x1f\x8b\x08\x04" + b"\0" * 4 + b"\0\xff" + struct.pack("<H", len(extra)) + bytes(extra)
    path = tmp_path / "protocol.tar"
    path.write_bytes(header + body + struct.pack("<II", 0, 0))
    assert path.read_bytes()[257:262] == b"ustar"
    run = inspect_json(path, memory_mb=1536)
    assert run.code == 2
    assert run.peak_mb < 300  # tarfile's gzip auto-detection held the whole PAX header (611 KB -> 680 MB)


@needs_fixtures
def test_zip_entries_of_one_name_are_each_checked(tmp_path):
    # The ratio check read the first "a.dcm", zipfile opened the last: a bomb slipped through under a safe name.
    path = tmp_path / "exam.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.write(next(SIEMENS_DICOM.glob("*.dcm")), "a.dcm")
        out.writestr("a.dcm", b"\0" * (200 << 20))
    run = inspect_json(path, memory_mb=1024)
    assert run.code == 0
    [doc] = run.docs
    assert len(doc["acquisitions"]) == 1
    assert any("member(s) not read" in w for w in run.warnings)  # the second entry, a bomb, is refused
    assert run.peak_mb < 300


# --- Isolation: inputs that are not files, links out of a folder ---------------------------------------------


def test_a_fifo_given_as_input_is_refused_not_opened(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    run = bounded("inspect", str(fifo), timeout=30)
    assert run.code == 2 and "not a regular file" in run.err


def _sidecar(description: str) -> str:
    return json.dumps(
        {"Manufacturer": "Siemens", "RepetitionTime": 2.3, "EchoTime": 0.003, "SeriesDescription": description}
    )


def test_links_inside_a_folder_are_not_followed_outside_it(tmp_path):
    outside = tmp_path / "elsewhere.json"
    outside.write_text(_sidecar("not-in-this-exam"), encoding="utf-8")
    exam = tmp_path / "exam"
    exam.mkdir()
    (exam / "sub-01_T1w.json").write_text(_sidecar("t1"), encoding="utf-8")
    (exam / "sub-01_T2w.json").symlink_to(outside)
    (exam / "same.json").symlink_to(exam / "sub-01_T1w.json")  # a link inside the folder is read
    from ofsep_presets.readers import inspect_path

    [inspection] = inspect_path(exam)
    names = sorted(a.get("series_description") for a in inspection.acquisitions)
    assert names == ["t1", "t1"]
    assert any("outside the folder" in w for w in inspection.warnings)


# --- Isolation: one value, one file, never the rest (issue 14 Medium, issue 11 first bullet) ---------------------


def _check_cli(*paths: Path, fmt: str = "json"):
    from click.testing import CliRunner

    from ofsep_presets.cli import main

    result = CliRunner().invoke(main, ["check", "--format", fmt, "--quiet", *map(str, paths)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code in (0, 1), result.output[-2000:]
    return result


@needs_fixtures
def test_a_dicom_slice_thickness_of_1e30_is_absent_with_a_warning_and_check_reports(tmp_path):
    import pydicom

    for source in sorted(SIEMENS_DICOM.glob("*.dcm"))[:2]:
        ds = pydicom.dcmread(source)
        ds.SliceThickness = "1e30"
        ds.save_as(tmp_path / source.name)
    from ofsep_presets.readers import inspect_path

    [inspection] = inspect_path(tmp_path)
    [acq] = inspection.acquisitions
    assert acq.get("repetition_time_ms") == float(ds.RepetitionTime)  # the rest of the header is read
    # The absurd tag is left absent and named; the thickness the Siemens protocol states (CSA ASCCONV) stands.
    assert any("slice_thickness_mm" in w and "SliceThickness" in w and "finite" in w for w in inspection.warnings)
    assert "SliceThickness" not in acq.provenance.get("slice_thickness_mm", "")
    for fmt in ("json", "table", "html", "csv"):
        _check_cli(tmp_path, fmt=fmt)


def test_a_bids_repetition_time_of_1e300_and_a_non_utf8_name_do_not_stop_check(tmp_path):
    exam = tmp_path / "exam"
    exam.mkdir()
    (exam / "sub-01_T1w.json").write_text(
        json.dumps({"Manufacturer": "Siemens", "RepetitionTime": 1e300, "EchoTime": 0.003, "FlipAngle": 9}),
        encoding="utf-8",
    )
    odd = Path(os.fsdecode(bytes(exam) + b"/sub-\xff\xfe_T2w.json"))
    odd.write_text(_sidecar("t2"), encoding="utf-8")
    from ofsep_presets.readers import inspect_path

    [inspection] = inspect_path(exam)
    t1 = next(a for a in inspection.acquisitions if a.name == "sub-01_T1w")
    assert "repetition_time_ms" not in t1.params and t1.get("flip_angle_deg") == 9
    assert any("repetition_time_ms" in w for w in inspection.warnings)
    assert len(inspection.acquisitions) == 2
    for fmt in ("json", "table", "html", "csv", "junit"):
        _check_cli(exam, fmt=fmt)


def _series(tmp_path: Path, count: int = 3) -> list[Path]:
    files = sorted(SIEMENS_DICOM.glob("*.dcm"))[:count]
    out = []
    for source in files:
        target = tmp_path / source.name
        target.write_bytes(source.read_bytes())
        out.append(target)
    return out


@needs_fixtures
def test_an_instance_number_abc_skips_nothing(tmp_path):
    import pydicom

    files = _series(tmp_path)
    ds = pydicom.dcmread(files[0])
    _raw(ds, 0x00200013, "IS", b"abc ")
    buffer = io.BytesIO()
    ds.save_as(buffer)
    files[0].unlink()  # gzip-wrapped: the scan reads it with pydicom, not the fast header walk
    files[0].with_suffix(".dcm.gz").write_bytes(gzip.compress(buffer.getvalue()))
    from ofsep_presets.readers import inspect_path

    [inspection] = inspect_path(tmp_path)
    assert len(inspection.acquisitions) == 1  # the folder, and the series, are read


def _raw(ds, tag: int, vr: str, value: bytes) -> None:
    """Put bytes into a dataset as read from a file: pydicom refuses to set an invalid value itself."""
    from pydicom.dataelem import RawDataElement

    ds[tag] = RawDataElement(tag, vr, len(value), value, 0, False, True)


def _nested_sequence(depth: int) -> bytes:
    """(0040,0260) nested `depth` deep, explicit VR little endian, undefined lengths."""
    sequence = struct.pack("<HH2sHI", 0x0040, 0x0260, b"SQ", 0, 0xFFFFFFFF)
    open_ = sequence + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
    close = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    return open_ * depth + close * depth


@needs_fixtures
def test_a_representative_nested_10000_deep_gives_way_to_the_next_file(tmp_path):
    import pydicom

    files = _series(tmp_path)
    ds = pydicom.dcmread(files[0])
    ds.InstanceNumber = 0  # the representative: the lowest instance number
    buffer = io.BytesIO()
    ds.save_as(buffer)
    data = buffer.getvalue()
    at = data.rfind(b"\xe0\x7f\x10\x00")  # before the pixel data
    files[0].write_bytes(data[:at] + _nested_sequence(10_000) + data[at:])
    from ofsep_presets.readers import inspect_path

    [inspection] = inspect_path(tmp_path)
    [acq] = inspection.acquisitions
    assert acq.get("repetition_time_ms") == float(ds.RepetitionTime)
    assert any(files[0].name in w and "skipped" in w for w in inspection.warnings)


@needs_fixtures
def test_enhanced_inversion_times_with_one_value_is_read(tmp_path):
    import pydicom
    from pydicom.dataset import Dataset

    source = next((FIXTURES / "dicom/Siemens/XA30_enh_DWI_dir80_PA").glob("*.dcm"))
    ds = pydicom.dcmread(source)
    shared = ds.SharedFunctionalGroupsSequence[0]
    modifier = shared.MRModifierSequence[0] if "MRModifierSequence" in shared else Dataset()
    modifier.InversionRecovery = "YES"
    modifier.InversionTimes = [900.0]  # one value: pydicom reads it back as a float, not a list
    shared.MRModifierSequence = [modifier]
    if "InversionTime" in ds:
        del ds.InversionTime
    ds.save_as(tmp_path / "enh.dcm")
    from ofsep_presets.readers import inspect_path

    acquisitions = [a for i in inspect_path(tmp_path / "enh.dcm") for a in i.acquisitions]
    assert acquisitions and all(a.get("inversion_time_ms") == 900.0 for a in acquisitions)


def test_print_xml_partial_fourier_allowed_is_absent_and_the_rest_read(tmp_path):
    path = print_xml(tmp_path, (("TR", "2300 ms"), ("Phase partial Fourier", "Allowed"), ("Slice thickness", "1.0 mm")))
    from ofsep_presets.readers import inspect_path

    [inspection] = inspect_path(path)
    [acq] = inspection.acquisitions
    assert acq.get("repetition_time_ms") == 2300 and acq.get("slice_thickness_mm") == 1.0
    assert "partial_fourier" not in acq.params  # a word the console prints tells no fraction: absent


@needs_fixtures
def test_an_examcard_padded_with_nuls_reads_like_the_card(tmp_path):
    card = FIXTURES / "vendor-exports/philips/spine_generic_philips_R53.ExamCard"
    padded = tmp_path / "padded.ExamCard"
    padded.write_bytes(card.read_bytes() + b"\0" * 230_000)
    from ofsep_presets.readers import inspect_path

    [theirs] = inspect_path(card)
    [ours] = inspect_path(padded)
    assert [a.params for a in ours.acquisitions] == [a.params for a in theirs.acquisitions]
    assert len(ours.acquisitions) > 1
