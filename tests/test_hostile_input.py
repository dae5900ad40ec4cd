"""Hostile and damaged input: refused with the project's own error, never a traceback, never a file outside read.

The fuzz test mutates real fixtures (bit flips, truncation, splices) and feeds them to every reader through the
same entry point `inspect` uses; nothing may escape but ReadError.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ofsep_presets.acquisition import ReadError
from ofsep_presets.cli import main
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES
from .support import tar_of

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
    path = tmp_path / "evil.tar"
    path.write_bytes(tar_of([("exam/session.xml", session), ("exam/s1/LxProtocol", b'set PSEQ "SPGR"\n')]))
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


# --- Type confusion (issue 14, issue 11): absurd numbers, wrong JSON types, non-UTF-8 names, for every reader ----
# Property: reading gives Inspections or a ReadError with a message, and `check` (and its report) of whatever was
# read never raises. Inputs are built here from each format's own keys, so they reach the value mapping.

ABSURD = st.sampled_from(
    [1e308, -1e308, 1e30, -0.0, 0, -1, 2**63, 10**40, float("nan"), float("inf"), float("-inf"), 5e-324]
)
ABSURD_TEXT = st.sampled_from(
    [
        "nan",
        "NaN",
        "-nan",
        "inf",
        "Infinity",
        "-0",
        "1e308",
        "1e400",
        "0x7fffffff",
        "9" * 400,
        "Allowed",
        "",
        " ",
        "1/0",
        "3/8",
        "-",
        "1e30",
        "abc",
        "1.2.3",
        "\u00e9",
        "0x",
        "--1",
    ]
)
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | ABSURD | st.integers() | st.floats() | ABSURD_TEXT | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
NAME_BYTES = st.sampled_from([b"\xff\xfe", b"caf\xe9", b"\x80", b"ok", b"\xed\xa0\x80", b"a\x1bb"])
FUZZ = settings(  # 25 examples each: the five fuzzers add ~50 s to the suite
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


def _fuzz_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("types")


def _named(folder: Path, raw: bytes, suffix: str) -> Path:
    """A file whose name holds bytes that are not UTF-8 (Linux allows them; Python surrogate-escapes them)."""
    return Path(os.fsdecode(bytes(folder).rstrip(b"/") + b"/" + raw + suffix.encode()))


def _read_and_check(path: Path) -> None:
    from ofsep_presets.check import check
    from ofsep_presets.report import write
    from ofsep_presets.spec import load_spec

    try:
        inspections = inspect_path(path)
    except ReadError as exc:
        assert str(exc).strip()
        return
    for inspection in inspections:
        assert all(isinstance(w, str) for w in inspection.warnings)
    report = check(inspections, load_spec("ofsep-2020"))
    for fmt in ("json", "table", "csv"):
        assert write(report, fmt)


BIDS_KEYS = (
    "Manufacturer",
    "ManufacturersModelName",
    "MagneticFieldStrength",
    "RepetitionTime",
    "EchoTime",
    "InversionTime",
    "FlipAngle",
    "SliceThickness",
    "SpacingBetweenSlices",
    "PixelBandwidth",
    "ParallelReductionFactorInPlane",
    "MultibandAccelerationFactor",
    "PartialFourier",
    "EchoTrainLength",
    "SeriesNumber",
    "SeriesDescription",
    "MRAcquisitionType",
    "ImageOrientationPatientDICOM",
    "ImageType",
    "AcquisitionTime",
    "ScanningSequence",
    "SequenceVariant",
    "SequenceName",
    "PhaseEncodingDirection",
    "ConversionSoftware",
)


@FUZZ
@given(
    values=st.dictionaries(st.sampled_from(BIDS_KEYS), JSON_VALUE, min_size=1, max_size=10),
    raw=NAME_BYTES,
    bval=st.sampled_from(["", "0 1000 1e308", "nan inf", "0 1000\n", "abc"]),
)
def test_bids_sidecars_of_any_json_types_never_crash(tmp_path_factory, values, raw, bval):
    folder = _fuzz_folder(tmp_path_factory)
    sidecar = {"RepetitionTime": 2.0, "EchoTime": 0.003, "Manufacturer": "Siemens", **values}
    path = _named(folder, raw, "_dwi.json")
    path.write_text(json.dumps(sidecar), encoding="utf-8")
    if bval:
        path.with_suffix(".bval").write_text(bval, encoding="ascii")
    _read_and_check(path)
    _read_and_check(folder)


ASCCONV_KEYS = (
    "sKSpace.ucDimension",
    "alTR[0]",
    "alTE[0]",
    "alTI[0]",
    "sPrepPulses.ucInversion",
    "adFlipAngleDegree[0]",
    "sSliceArray.asSlice[0].dThickness",
    "sKSpace.lImagesPerSlab",
    "sGroupArray.asGroup[0].dDistFact",
    "sSliceArray.asSlice[0].dReadoutFOV",
    "sSliceArray.asSlice[0].dPhaseFOV",
    "sKSpace.lBaseResolution",
    "sKSpace.dPhaseResolution",
    "sSliceArray.lSize",
    "sRXSPEC.alDwellTime[0]",
    "dAveragesDouble",
    "lAverages",
    "sPat.lAccelFactPE",
    "sFastImaging.lTurboFactor",
    "sFastImaging.lEPIFactor",
    "sKSpace.ucPhasePartialFourier",
    "sPrepPulses.ucFatSat",
    "sSliceArray.asSlice[0].sNormal.dTra",
    "sDiffusion.lDiffWeightings",
    "sDiffusion.alBValue[1]",
    "sDiffusion.lDiffDirections",
    "sProtConsistencyInfo.flNominalB0",
    "sKSpace.lPhaseEncodingLines",
    "sWipMemBlock.alFree[13]",
    "tSequenceFileName",
)
TOKEN = st.one_of(
    ABSURD.map(repr),
    ABSURD_TEXT,
    st.integers().map(str),
    st.integers(0, 2**40).map(hex),
    st.floats().map(repr),
    st.text(alphabet='0123456789.-+exX"#', max_size=12),
)


@FUZZ
@given(values=st.dictionaries(st.sampled_from(ASCCONV_KEYS), TOKEN, min_size=1, max_size=14), end=st.booleans())
def test_siemens_protocols_of_any_values_never_crash(tmp_path_factory, values, end):
    lines = "".join(f"{k} = {v}\n" for k, v in values.items())
    text = "### ASCCONV BEGIN ###\n" + lines + ("### ASCCONV END ###\n" if end else "")
    path = _fuzz_folder(tmp_path_factory) / "fuzz.pro"
    path.write_text(text, encoding="latin-1", errors="replace")
    _read_and_check(path)


GE_KEYS = (
    "PSEQ",
    "IMODE",
    "PLANE",
    "TE",
    "TR",
    "TI",
    "FOV",
    "SLTHICK",
    "SPC",
    "NOSLC",
    "FLIPANG",
    "RBW",
    "MATRIXX",
    "MATRIXY",
    "NEX",
    "IOPT",
    "MULTIBVALUE",
    "DIFNUMT2",
    "NUMDIFDIRS",
    "PHASEFOV",
    "SLABLOC",
    "ETL",
)


@FUZZ
@given(values=st.dictionaries(st.sampled_from(GE_KEYS), TOKEN, min_size=3, max_size=14))
def test_ge_lxprotocols_of_any_values_never_crash(tmp_path_factory, values):
    text = 'set PSEQ "SPGR"\nset TE "3"\nset TR "8"\n' + "".join(
        f'set {k} "{str(v).replace(chr(34), "")}"\n' for k, v in values.items()
    )
    path = _fuzz_folder(tmp_path_factory) / "LxProtocol"
    path.write_text(text, encoding="latin-1", errors="replace")
    _read_and_check(path)


PRINT_LABELS = (
    "TR",
    "TE",
    "TI",
    "Flip angle",
    "Slice thickness",
    "FoV read",
    "FoV phase",
    "Base resolution",
    "Phase partial Fourier",
    "Averages",
    "Dimension",
    "Dist. factor",
    "Slices",
    "Bandwidth",
    "Accel. factor PE",
    "Turbo factor",
    "b-value 1",
    "Diff. directions",
    "Fat suppr.",
    "Orientation",
)


@FUZZ
@given(values=st.lists(st.tuples(st.sampled_from(PRINT_LABELS), TOKEN), min_size=1, max_size=14))
def test_siemens_print_xml_of_any_values_never_crash(tmp_path_factory, values):
    from xml.sax.saxutils import escape

    rows = "".join(
        f"<ProtParameter><Label>{escape(label)}</Label><ValueAndUnit>{escape(value)}</ValueAndUnit></ProtParameter>"
        for label, value in values
    )
    text = (
        "<?xml version='1.0'?><PrintOut><PrintProtocol><Protocol><HeaderTitle>SIEMENS 3T</HeaderTitle>"
        f"<HeaderProtPath>\\\\USER\\x\\fuzz</HeaderProtPath><Card>{rows}</Card></Protocol></PrintProtocol></PrintOut>"
    )
    path = _fuzz_folder(tmp_path_factory) / "print.xml"
    path.write_text(text, encoding="utf-8", errors="replace")
    _read_and_check(path)


DICOM_FIELDS = (
    ("RepetitionTime", "DS"),
    ("EchoTime", "DS"),
    ("EchoNumbers", "IS"),
    ("InversionTime", "DS"),
    ("FlipAngle", "DS"),
    ("SliceThickness", "DS"),
    ("SpacingBetweenSlices", "DS"),
    ("PixelBandwidth", "DS"),
    ("MagneticFieldStrength", "DS"),
    ("InstanceNumber", "IS"),
    ("SeriesNumber", "IS"),
    ("EchoTrainLength", "IS"),
    ("NumberOfAverages", "DS"),
    ("PixelSpacing", "DS"),
    ("ImageOrientationPatient", "DS"),
    ("AcquisitionMatrix", "US"),
    ("MRAcquisitionType", "CS"),
    ("InPlanePhaseEncodingDirection", "CS"),
    ("ScanningSequence", "CS"),
    ("AcquisitionTime", "TM"),
    ("Manufacturer", "LO"),
)


def _mr_dataset(values: dict) -> bytes:
    """A minimal MR image header (no pixels) with `values` written as raw element bytes, valid or not: the
    elements are encoded here (explicit VR little endian, in tag order), so pydicom never vets them first."""
    import struct

    from pydicom.datadict import tag_for_keyword
    from pydicom.dataset import FileMetaDataset
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_file_meta_info
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    sop, instance = "1.2.840.10008.5.1.4.1.1.4", generate_uid()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = sop, instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    elements = {
        0x00080016: ("UI", sop.encode()),
        0x00080018: ("UI", instance.encode()),
        0x00080070: ("LO", b"SIEMENS"),
        0x0008103E: ("LO", b"fuzz"),
        0x00180080: ("DS", b"2000"),
        0x0020000E: ("UI", b"1.2.3.4"),
    }
    for (keyword, vr), value in values.items():
        raw = value if isinstance(value, bytes) else str(value).encode("latin-1", "replace")[:64]
        elements[tag_for_keyword(keyword)] = (vr, raw)
    body = b""
    for tag, (vr, raw) in sorted(elements.items()):
        raw += (b"\0" if vr == "UI" else b" ") * (len(raw) % 2)
        body += struct.pack("<HH2sH", tag >> 16, tag & 0xFFFF, vr.encode(), len(raw)) + raw
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    write_file_meta_info(buffer, meta, enforce_standard=True)
    return b"\0" * 128 + b"DICM" + buffer.getvalue() + body


@FUZZ
@given(
    values=st.dictionaries(
        st.sampled_from(DICOM_FIELDS), st.one_of(TOKEN, st.binary(max_size=12)), min_size=1, max_size=8
    ),
    raw=NAME_BYTES,
)
def test_dicom_headers_of_any_values_never_crash(tmp_path_factory, values, raw):
    folder = _fuzz_folder(tmp_path_factory)
    _named(folder, raw, ".dcm").write_bytes(_mr_dataset(values))
    (folder / "second.dcm").write_bytes(_mr_dataset({}))
    _read_and_check(folder)
