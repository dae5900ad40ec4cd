"""Where reports go: `--out` replaces only a provable earlier report, refuses anything that is not a regular file
at once, and every environment error (read-only or full file system) is one line and exit 2.

Inputs are hand-built BIDS sidecars, so these tests need no shared fixture.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ofsep_presets.cli import main

from .support import bounded_cli, tar_of

SIDECAR = {
    "Manufacturer": "Siemens",
    "ManufacturersModelName": "Prisma",
    "MagneticFieldStrength": 3,
    "RepetitionTime": 2.3,
    "EchoTime": 0.00232,
    "InversionTime": 0.9,
    "FlipAngle": 8,
    "SliceThickness": 0.9,
    "MRAcquisitionType": "3D",
    "SeriesDescription": "t1_mprage_sag",
    "SeriesNumber": 3,
    "PulseSequenceName": "tfl3d1_16ns",
}
FORMATS = ["table", "json", "html", "junit", "csv"]


def sidecar(folder: Path, name: str = "sub-01_T1w.json", **values) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**SIDECAR, **values}), encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def exam(tmp_path) -> Path:
    return sidecar(tmp_path / "in")


# -- --out replaces only our own reports ------------------------------------------------------------------------


@pytest.mark.parametrize("first", FORMATS)
def test_our_reports_in_any_format_are_replaced(tmp_path, exam, first):
    target = tmp_path / "report"
    assert run("check", str(exam), "--format", first, "--out", str(target)).exit_code in (0, 1)
    for fmt in FORMATS:
        result = run("check", str(exam), "--format", fmt, "--out", str(target))
        assert result.exit_code in (0, 1), (first, fmt, result.output)


def test_our_compare_reports_are_replaced(tmp_path, exam):
    other = sidecar(tmp_path / "other", FlipAngle=9)
    target = tmp_path / "diff"
    for fmt in ["table", "json", "html", "csv", "table"]:
        result = run("compare", str(exam), str(other), "--format", fmt, "--out", str(target))
        assert result.exit_code == 1, (fmt, result.output)


LOOKALIKES = {
    "script.sh": "#!/bin/sh\n# runs ofsep-presets every night\nofsep-presets check /data --out report.html\n",
    "meta.sh": '#!/bin/sh\necho \'<meta name="generator" content="ofsep-presets 1.0">\'\n',
    "other.html": '<!DOCTYPE html><html><head><meta name="generator" content="hugo"></head>'
    "<body>made with ofsep-presets</body></html>",
    "body-meta.html": '<!DOCTYPE html><html><head></head><body><meta name="generator" content="ofsep-presets 1">'
    "</body></html>",
    "other.json": '{"generator": "not ofsep-presets 1.0", "note": "ofsep-presets"}\n',
    "nested.json": '{"config": {"generator": "ofsep-presets 1.0"}}\n',
    "other.xml": '<?xml version="1.0"?>\n<testsuites name="pytest"><!-- ofsep-presets --></testsuites>\n',
    "other.csv": "sequence,required,notes\nofsep-presets,yes,mine\n",
    "notes.txt": "ofsep-presets · my notes · do not delete\n",
}


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_a_file_that_only_mentions_us_is_never_replaced(tmp_path, exam, name):
    precious = tmp_path / name
    precious.write_text(LOOKALIKES[name], encoding="utf-8")
    result = run("check", str(exam), "--format", "html", "--out", str(precious))
    assert result.exit_code == 2, result.output
    assert "not an ofsep-presets report" in result.stderr and "another path" in result.stderr
    assert precious.read_text(encoding="utf-8") == LOOKALIKES[name]


@pytest.mark.parametrize("kind", ["dev-zero", "dev-null", "fifo", "folder", "symlink"])
def test_out_that_is_not_a_regular_file_is_refused_at_once(tmp_path, exam, kind):
    if kind == "dev-zero":
        target = Path("/dev/zero")
    elif kind == "dev-null":
        target = Path("/dev/null")
    elif kind == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    elif kind == "folder":
        target = tmp_path / "folder"
        target.mkdir()
    else:
        real = tmp_path / "real.json"
        assert run("check", str(exam), "--format", "json", "--out", str(real)).exit_code in (0, 1)
        target = tmp_path / "link.json"
        target.symlink_to(real)
    result = bounded_cli("check", str(exam), "--format", "json", "--out", str(target))
    assert result.returncode == 2, result.stderr
    assert str(target) in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    if kind == "symlink":
        assert target.is_symlink()


# -- environment errors: one line, exit 2 -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("where", "code", "words"),
    [("mkstemp", errno.EROFS, "read-only"), ("replace", errno.ENOSPC, "disk is full")],
)
def test_read_only_or_full_output_is_exit_2(tmp_path, exam, monkeypatch, where, code, words):
    """A read-only or full file system cannot be made in a test without root: the failing call is replaced."""
    import ofsep_presets.output as output

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    if where == "mkstemp":
        monkeypatch.setattr(output.tempfile, "mkstemp", refuse)
    else:
        monkeypatch.setattr(output.os, "replace", refuse)
    for args in (
        ["check", str(exam), "--format", "json", "--out", str(tmp_path / "r.json")],
        ["render", "--out", str(tmp_path / "cards"), "--vendor", "ge", "--field", "3", "--format", "md"],
    ):
        result = run(*args)
        assert result.exit_code == 2, (args[0], result.output)
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert not isinstance(result.exception, OSError) or isinstance(result.exception, SystemExit)
    assert not list(tmp_path.rglob("*.tmp"))  # no temporary file left behind


def test_full_disk_under_stdout_is_exit_2(tmp_path, exam):
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "ofsep_presets", "check", str(exam), "--format", "json"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2, result.stderr
    assert "No space left" in result.stderr and "Traceback" not in result.stderr


def _strict(text: str):
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_file_name_that_is_not_utf8_or_holds_a_control_character(tmp_path, fmt):
    """PACS exports are named by anything: every format stays valid UTF-8, JUnit stays XML, JSON stays JSON."""
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9\x01"))
    exam = sidecar(folder, os.fsdecode(b"sub-01_acq-\xe9\x07bell_T1w.json"), SliceThickness=1.5)
    target = tmp_path / f"report.{fmt}"
    result = run("check", str(exam), "--format", fmt, "--out", str(target))
    assert result.exit_code == 1, result.output  # a real verdict (the slice is too thick), not a crash
    data = target.read_bytes()
    text = data.decode("utf-8")  # strict: raises on a lone byte
    if fmt == "junit":
        from lxml import etree

        etree.fromstring(data)
    if fmt == "json":
        _strict(text)
    if fmt in ("junit", "json", "csv", "html", "table"):
        assert "\\xe9" in text or "\\\\xe9" in text  # the byte is shown, escaped


def test_strict_json_writes_null_and_says_so():
    from ofsep_presets.textsafe import strict_json

    doc = _strict(strict_json({"warnings": [], "a": [1.0, float("inf")], "b": {"c": float("nan")}}))
    assert doc["a"] == [1.0, None] and doc["b"]["c"] is None
    assert doc["warnings"] == ["not a finite number, written as null: a[1], b.c"]


def test_json_reports_are_strict_whatever_the_input_says(tmp_path):
    """Python's json reads 1e999 as infinity; what we write is RFC 8259 JSON: null, and a warning saying so."""
    from ofsep_presets.check import check
    from ofsep_presets.readers import inspect_path
    from ofsep_presets.report import write
    from ofsep_presets.spec import load_spec

    exam = sidecar(tmp_path / "in", SliceThickness=1e999, RepetitionTime=float("nan"))
    result = run("inspect", str(exam), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = _strict(result.stdout)
    # Not infinity: absent (the reader leaves a non-finite value out, with a warning) or null.
    assert doc["acquisitions"][0]["params"].get("slice_thickness_mm") is None
    assert any("not a finite number" in w for w in doc["warnings"])
    report = check(inspect_path(sidecar(tmp_path / "ok")), load_spec("ofsep-2020"))
    report.sequences[0].checks[0].observed = float("inf")
    doc = _strict(write(report, "json"))
    assert doc["sequences"][0]["checks"][0]["observed"] is None
    assert any("not a finite number" in w for w in doc["warnings"])


def test_csv_numbers_stay_numbers_and_formulas_are_defused():
    from ofsep_presets.report import safe_cells

    cells = safe_cells([-0.5, "-0.5", "-2", "+3", "1e-3", "=cmd()", "-1+2", "@SUM(A1)", "-", "+x", "\tx", None])
    assert cells == ["-0.5", "-0.5", "-2", "+3", "1e-3", "'=cmd()", "'-1+2", "'@SUM(A1)", "'-", "'+x", "'\tx", ""]


XXE = (
    '<?xml version="1.0" encoding="{encoding}"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><ExamCard>&xxe;</ExamCard>'
    "</SOAP-ENV:Envelope>\n"
)


@pytest.mark.parametrize(
    ("encoding", "bom"),
    [("UTF-16", True), ("UTF-16LE", False), ("UTF-16BE", False), ("UTF-32", True), ("UTF-32BE", False)],
)
def test_doctype_is_refused_in_utf16_and_utf32(tmp_path, encoding, bom):
    """A GE protocol tar's session.xml goes to the XML parser whatever its encoding: the refusal must see it."""

    secret = tmp_path / "secret.txt"
    secret.write_text("ofsep-presets-must-never-read-this", encoding="utf-8")
    text = XXE.format(encoding=encoding.replace("LE", "").replace("BE", ""), secret=secret)
    session = text.replace("SOAP-ENV:Envelope", "session").encode(encoding.lower())  # utf-16/32: with a BOM
    assert (session[:2] in (b"\xff\xfe", b"\xfe\xff") or session[:4] == b"\x00\x00\xfe\xff") == bom
    path = tmp_path / "evil.tar"
    path.write_bytes(tar_of([("exam/session.xml", session), ("exam/s1/LxProtocol", b'set PSEQ "SPGR"\n')]))
    result = run("inspect", "--format", "json", str(path))
    assert result.exit_code == 2, result.output
    assert "DOCTYPE or ENTITY declaration refused" in result.stderr
    assert "must-never-read" not in result.output


def test_encrypted_zip_says_so(tmp_path):
    import zipfile

    path = tmp_path / "exam.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("IM0001", b"\0" * 128 + b"DICM" + b"\0" * 200)
    data = bytearray(path.read_bytes())
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # set "encrypted" (bit 0) in both headers
        at = data.index(signature) + offset
        data[at] |= 0x01
    path.write_bytes(bytes(data))
    result = run("inspect", str(path))
    assert result.exit_code == 2
    assert "encrypted zip: cannot be read, export without a password" in result.stderr


# -- identifying data ---------------------------------------------------------------------------------------------

PATIENT = "DUPONT_Jean_19600101"


def _siemens_dicom(path: Path, comments: str) -> Path:
    """A small Siemens MR image whose ImageComments carries a multiband factor and a name."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Modality, ds.Manufacturer, ds.ManufacturerModelName = "MR", "SIEMENS", "Prisma"
    ds.MagneticFieldStrength, ds.SeriesNumber, ds.InstanceNumber = 3, 7, 1
    ds.SeriesInstanceUID, ds.StudyInstanceUID = generate_uid(), generate_uid()
    ds.SeriesDescription = ds.ProtocolName = "ep2d_diff_mb3"
    ds.RepetitionTime, ds.EchoTime, ds.SliceThickness, ds.FlipAngle = 3000, 80, 2, 90
    ds.ImageComments = comments
    ds.PatientName = ""
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def test_image_comments_are_never_copied(tmp_path):
    dicom = _siemens_dicom(tmp_path / "in" / "IM0001.dcm", "Unaliased MB3/PE3/LB Mme Dupont, agitee")
    result = run("inspect", "--format", "json", str(dicom))
    assert result.exit_code == 0, result.output
    doc = _strict(result.stdout)
    acq = doc["acquisitions"][0]
    assert acq["params"]["multiband_factor"] == 3  # the value is still read
    assert "ImageComments (free text, not copied)" in acq["provenance"]["multiband_factor"]
    assert "Dupont" not in result.stdout and "MB3/PE3" not in result.stdout


@pytest.mark.parametrize("fmt", FORMATS)
def test_shareable_check_names_no_path_file_or_patient(tmp_path, fmt):
    root = tmp_path / PATIENT / "IRM cerveau 2026-11-30"
    exam = sidecar(root / "sub-DUPONT" / "anat", f"sub-DUPONT_acq-{PATIENT}_T1w.json", SliceThickness=1.5)
    dicom = _siemens_dicom(root / f"{PATIENT}_IM0001.dcm", f"MB3 {PATIENT}")
    target = tmp_path / f"report.{fmt}"
    plain = run("check", "--one-exam", str(root), str(exam.parent), "--format", fmt)
    assert PATIENT in plain.stdout or fmt in ("junit",)  # the normal report does name them (the test can fail)
    result = run(
        "check",
        "--one-exam",
        str(root),
        str(exam.parent),
        str(dicom),
        "--format",
        fmt,
        "--shareable",
        "--out",
        str(target),
    )
    assert result.exit_code in (0, 1), result.output
    text = target.read_text(encoding="utf-8")
    for secret in (PATIENT, "DUPONT", "IRM cerveau", str(tmp_path), "IM0001", "sub-DUPONT"):
        assert secret not in text, (fmt, secret)
    if fmt in ("json", "html", "table"):
        assert "input 1" in text
    if fmt == "json":
        assert (
            _strict(text)["status"]
            == _strict(run("check", "--one-exam", str(root), str(exam.parent), str(dicom), "--format", "json").stdout)[
                "status"
            ]
        )


@pytest.mark.parametrize("fmt", ["table", "json", "html", "csv"])
def test_shareable_compare_names_no_path_or_file(tmp_path, fmt):
    a = sidecar(tmp_path / PATIENT, f"sub-01_acq-{PATIENT}_T1w.json")
    b = sidecar(tmp_path / "MARTIN_Paul", "sub-02_acq-MARTIN_T1w.json", FlipAngle=9)
    result = run("compare", str(a), str(b), "--format", fmt, "--shareable")
    assert result.exit_code == 1, result.output
    for secret in (PATIENT, "DUPONT", "MARTIN", str(tmp_path)):
        assert secret not in result.stdout, (fmt, secret)


@pytest.mark.parametrize("fmt", ["json", "html"])  # the formats that print provenance and reasons
def test_shareable_check_keeps_no_protocol_name_or_study_description(tmp_path, fmt):
    """ProtocolName (0018,1030) and StudyDescription (0008,1030) are operator free text that PS3.15's basic
    confidentiality profile removes; reasons quote them (a family "name 'MP-RAGE / <protocol>' matches", a region
    "the study description names ..."), so a shareable report replaces them as it does the series description."""
    dicom = _siemens_dicom(tmp_path / "in" / "IM0001.dcm", "")
    import pydicom

    ds = pydicom.dcmread(dicom)
    ds.SeriesDescription, ds.ProtocolName = "t1_mprage_sag", "MPRAGE DUPONT Jean"
    ds.StudyDescription = "IRM cerveau DUPONT Jean"
    ds.save_as(dicom, enforce_file_format=True)
    plain = run("check", str(dicom.parent), "--format", fmt)
    assert "DUPONT" in plain.stdout, plain.stdout[-2000:]  # the normal report quotes them (the test can fail)
    shared = run("check", str(dicom.parent), "--format", fmt, "--shareable")
    assert shared.exit_code in (0, 1), shared.output
    assert "DUPONT" not in shared.stdout, [line for line in shared.stdout.splitlines() if "DUPONT" in line][:3]


@pytest.mark.parametrize("fmt", ["json", "html"])
def test_shareable_check_quotes_no_key_of_a_sidecar_that_states_nothing(tmp_path, fmt):
    """A JSON named as a sidecar but stating no parameter is said to be empty, its keys named: a hand-made key is
    the file's own text (it can hold a name), so only keyword-shaped keys are named, the others counted."""
    path = tmp_path / "in" / "sub-01_T1w.json"
    path.parent.mkdir(parents=True)
    path.write_text(
        json.dumps({"PulseSequenceType": "MPRAGE", "DUPONT Jean né 1970-01-01 " + "x" * 5000: 1, "DupontJean": 2})
    )
    plain = run("check", str(path), "--format", fmt)
    assert "PulseSequenceType" in plain.stdout and "+2 other key" in plain.stdout, plain.stdout[-2000:]
    for result in (plain, run("check", str(path), "--format", fmt, "--shareable")):
        assert "DUPONT" not in result.stdout.upper() and result.exit_code in (0, 1), result.output[-500:]


def test_shareable_check_of_a_lone_lxprotocol_names_not_the_folder_it_is_in(tmp_path, monkeypatch):
    """A lone LxProtocol is named by its series folder (GE writes one per series); a user may name that folder
    after the patient: a shareable report replaces it, however the path was typed."""
    folder = tmp_path / "DUPONT"  # a short name with no digit, dot or underscore: named as the series it names
    folder.mkdir()
    (folder / "LxProtocol").write_text('set PSEQ "FSE"\nset IMODE "2D"\nset PLANE "AXIAL"\nset TE "100.0"\n')
    monkeypatch.chdir(folder)
    plain = run("check", "LxProtocol", "--format", "json")
    assert "DUPONT" in plain.stdout  # the normal report names the series by its folder (the test can fail)
    for typed in ("LxProtocol", str(folder / "LxProtocol")):
        shared = run("check", typed, "--format", "json", "--shareable")
        assert shared.exit_code in (0, 1) and "DUPONT" not in shared.stdout, shared.stdout[-1000:]


def test_shareable_check_keeps_numbers_that_a_folder_name_also_spells(tmp_path):
    """A sidecar in a folder named by a number ("900", series folders of a PACS export): a bare number is no name,
    so the reason "ScanningSequence=GR, TI 900 ms" stays, not "TI file ms"."""
    path = sidecar(
        tmp_path / "in" / "900",
        SeriesDescription="sag T1",
        PulseSequenceName="",
        ScanningSequence="GR",
        SequenceVariant="SP",
        SequenceName="x",
        InversionTime=0.9,
    )
    plain = run("check", str(path), "--format", "json")
    assert "TI 900 ms" in plain.stdout  # the reason quotes it (the test can fail)
    shared = run("check", str(path), "--format", "json", "--shareable")
    assert shared.exit_code in (0, 1) and "TI 900 ms" in shared.stdout and "TI file ms" not in shared.stdout
