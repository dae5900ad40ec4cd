"""Hostile and damaged input: refused with the project's own error, never a traceback, never a file outside read.

The fuzz test mutates real fixtures (bit flips, truncation, splices) and feeds them to every reader through the
same entry point `inspect` uses; nothing may escape but ReadError.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ofsep_presets.acquisition import ReadError
from ofsep_presets.cli import main
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

SECRET = "ofsep-presets-must-never-read-this"
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY xxe SYSTEM "file://{secret}">]>\n'
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><ExamCard>&xxe;</ExamCard>'
    "</SOAP-ENV:Envelope>\n"
)
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
    + ']>\n<SOAP-ENV:Envelope xmlns:SOAP-ENV="x"><ExamCard>&lol9;</ExamCard></SOAP-ENV:Envelope>\n'
)


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.mark.parametrize("payload", ["xxe", "laughs"])
def test_examcard_with_entities_is_refused(tmp_path, secret_file, payload):
    text = XXE.format(secret=secret_file) if payload == "xxe" else LAUGHS
    card = tmp_path / "evil.ExamCard"
    card.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["inspect", "--format", "json", str(card)])
    assert result.exit_code == 2
    assert "DOCTYPE or ENTITY declaration refused" in result.stderr
    assert SECRET not in result.output and "Traceback" not in result.output


def test_ge_session_xml_with_entities_is_refused(tmp_path, secret_file):
    session = XXE.format(secret=secret_file).replace("SOAP-ENV:Envelope", "session").encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in (("exam/session.xml", session), ("exam/s1/LxProtocol", b'set PSEQ "SPGR"\n')):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    path = tmp_path / "evil.tar"
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ReadError, match="declaration refused"):
        inspect_path(path)


def test_our_siemens_sheet_with_entities_is_refused(tmp_path, secret_file):
    text = (
        XXE.format(secret=secret_file)
        .replace("<SOAP-ENV:Envelope", '<PrintOut generator="ofsep-presets" format="ofsep-siemens-sheet"><x')
        .replace("</SOAP-ENV:Envelope>", "</x></PrintOut>")
    )
    path = tmp_path / "protocol.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReadError, match="declaration refused"):
        inspect_path(path)


def test_unknown_format_lists_the_formats_that_exist(tmp_path):
    path = tmp_path / "scan.nii"
    path.write_bytes(b"\x5c\x01\x00\x00" + b"\0" * 400)
    result = CliRunner().invoke(main, ["inspect", str(path)])
    assert result.exit_code == 2
    for name in ("dicom", "siemens-exar1", "siemens-edx", "philips-examcard", "ge-protocol-tar", "bids-json"):
        assert name in result.stderr


def _fixture_samples() -> list[Path]:
    dicom = next((FIXTURES / "dicom/Siemens/VE11_PD_T2_tse_sag_1.8mm").glob("*.dcm"))
    enhanced = next((FIXTURES / "dicom/Siemens/XA30_enh_DWI_dir80_PA").glob("*.dcm"))
    return [
        dicom,
        enhanced,
        FIXTURES / "bids/spine-generic-single-subject/sub-poly/anat/sub-poly_T1w.json",
        FIXTURES / "vendor-exports/siemens/Trio_VB17/spine_generic_siemens-trio.edx",
        FIXTURES / "vendor-exports/philips/spine_generic_philips_R53.ExamCard",
        FIXTURES / "vendor-exports/ge/GE_750_no-FOCUS/protocol.tar",
        FIXTURES / "vendor-exports/siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1",
    ]


SAMPLES = {p.name: p.read_bytes() for p in _fixture_samples()}
SAMPLES["gz.dcm.gz"] = gzip.compress(SAMPLES[next(iter(SAMPLES))], mtime=0)


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(SAMPLES)))
    data = bytearray(SAMPLES[name])
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["flip", "truncate", "splice", "zero"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if kind == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "truncate":
            del data[at:]
        elif kind == "splice":
            data[at:at] = draw(st.binary(max_size=64))
        else:
            data[at : at + 16] = b"\0" * 16
    return name, bytes(data)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(sample=mutated())
def test_mutated_fixtures_raise_only_read_errors(tmp_path_factory, sample):
    name, data = sample
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / name
    path.write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    with contextlib.suppress(ReadError):
        inspect_path(path)
    with contextlib.suppress(ReadError):
        inspect_path(folder)  # the folder path: damaged files are skipped and counted, or a ReadError
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest  # the input is never modified
    assert sorted(p.name for p in folder.iterdir()) == [name]  # and nothing is written beside it
