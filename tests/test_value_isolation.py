"""Value-level isolation, reader by reader (issue 11): one field holding an odd value (a word, nan, 1e400, a hex
string, a number beyond any MRI setting) costs that value only: the input is still read, every other value is read
as the input states it, and a word never becomes a value.

Each property plants the odd value in one field of an input of the reader's format (a real fixture changed at test
time in tmp_path, or a small file of our own in the format's documented layout) and checks "witness" values the
same input states elsewhere, taken from the input's own bytes (raw ASCCONV by regex, the HTML cells, the values we
wrote), never from our reading of an undamaged copy.
"""

from __future__ import annotations

import functools
import json
import math
import re
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ofsep_presets.readers import inspect_path
from ofsep_presets.readers.philips_examcard import HEADER, RECORD

from .conftest import FIXTURES
from .support import print_xml
from .test_ge_dicom_protocol import block_text, edit_block  # at import: its @given tests inside a @given fail
from .test_hostile_input import TOKEN, _mr_dataset
from .test_inspect_philips import numbers_after, printout_sections

EXPORTS = FIXTURES / "vendor-exports"
XA61 = EXPORTS / "siemens/CimaX_XA61_ZOOMit/spine-generic_CimaX_XA61_ZOOMit.exar1"
VB17 = EXPORTS / "siemens/Trio_VB17/spine_generic_siemens-trio.edx"
CARD = EXPORTS / "philips/spine_generic_philips_R53.ExamCard"
GE_HTML = EXPORTS / "ge/GE_750_no-FOCUS/spine_generic_ge_750_no-FOCUS.html"

needs_fixtures = pytest.mark.skipif(not EXPORTS.exists(), reason="../shared/fixtures not present")
PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
# Words no reader may turn into a value (checked in every property: the word is never a value's source).
WORDS = st.sampled_from(["Allowed", "abc", "1.2.3", "--1", "\u00e9t\u00e9", "n/a", "?", "Minimum"])
ODD = st.one_of(WORDS, TOKEN)


def _is_word(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return not re.fullmatch(r"\s*[+-]?0[xX][0-9a-fA-F]+\s*", token)
    return False


def _read(path: Path):
    """Every acquisition of the input, by name (an odd value must never make the input unreadable)."""
    inspections = inspect_path(path)
    return {a.name: a for i in inspections for a in i.acquisitions}, [w for i in inspections for w in i.warnings]


def _never_a_value(acquisitions, token: str, field: str) -> None:
    """A word in `field` is the source of no value: no provenance shows the field holding it."""
    if not _is_word(token) or not token.strip():
        return
    for acq in acquisitions.values():
        for param, source in acq.provenance.items():
            assert f"{field}={token}" not in source and f"{field}={token!r}" not in source, (param, source)


# ---- Siemens ASCCONV text (.pro): a protocol of our own in the console's layout -------------------------------

ASCCONV_BASE = {
    "sKSpace.ucDimension": "0x2",
    "alTR[0]": "2000000",
    "alTE[0]": "30000",
    "adFlipAngleDegree[0]": "90.0",
    "sSliceArray.asSlice[0].dThickness": "3.0",
    "sSliceArray.asSlice[0].dReadoutFOV": "240.0",
    "sSliceArray.asSlice[0].dPhaseFOV": "240.0",
    "sKSpace.lBaseResolution": "256",
    "sSliceArray.lSize": "30",
    "lAverages": "2",
}


@PROPERTY
@given(field=st.sampled_from(sorted(ASCCONV_BASE)), token=ODD)
def test_ascconv_one_odd_value_costs_only_that_value(tmp_path_factory, field, token):
    values = {**ASCCONV_BASE, field: token.replace("\n", " ")}
    text = "### ASCCONV BEGIN ###\n" + "".join(f"{k} = {v}\n" for k, v in values.items()) + "### ASCCONV END ###\n"
    path = tmp_path_factory.mktemp("pro") / "one.pro"
    path.write_text(text, encoding="utf-8")
    acquisitions, _ = _read(path)
    [acq] = acquisitions.values()
    if field != "alTR[0]":
        assert acq.get("repetition_time_ms") == 2000.0
    if field != "alTE[0]":
        assert acq.get("echo_time_ms") == 30.0
    if field != "adFlipAngleDegree[0]":
        assert acq.get("flip_angle_deg") == 90.0
    _never_a_value(acquisitions, token, field)


# ---- Siemens .exar1 (XA61 fixture, one protocol record changed) ------------------------------------------------


def _raw_tr(text: str) -> float | None:
    found = re.search(r"alTR\[0\]\\t = \\t(\d+)", text)
    return int(found.group(1)) / 1000 if found else None


def _protocol_name(text: str) -> str | None:
    found = re.search(r'tProtocolName\\t = \\t\\"+([^"\\]+)', text)
    return found.group(1) if found else None


EXAR1_FIELDS = ("alTE[0]", "adFlipAngleDegree[0]", "sKSpace.lBaseResolution", "sRXSPEC.alDwellTime[0]", "lAverages")


@needs_fixtures
@PROPERTY
@given(field=st.sampled_from(EXAR1_FIELDS), token=ODD, which=st.integers(0, 7))
def test_exar1_one_odd_value_costs_only_that_value(tmp_path_factory, field, token, which):
    path = tmp_path_factory.mktemp("exar1") / "one.exar1"
    path.write_bytes(XA61.read_bytes())
    con = sqlite3.connect(path)
    records = []
    for digest, blob in con.execute("select Hash, Data from Content"):
        text = zlib.decompress(blob, -15).decode("utf-8")
        if "### ASCCONV BEGIN" in text and _raw_tr(text) and re.search(re.escape(field) + r"\\t = \\t", text):
            records.append((digest, text))
    digest, text = records[which % len(records)]
    planted = json.dumps(token)[1:-1].replace("\\n", " ")
    changed = re.sub(re.escape(field) + r"\\t = \\t[^\\]*", lambda m: f"{field}\\\\t = \\\\t{planted}", text, count=1)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = packer.compress(changed.encode()) + packer.flush()
    con.execute("update Content set Data = ? where Hash = ?", (data, digest))
    con.commit()
    con.close()
    acquisitions, _ = _read(path)
    by_protocol = {_protocol_name(t): _raw_tr(t) for _, t in records}
    assert len(acquisitions) == 8
    for acq in acquisitions.values():  # every step's TR as its raw ASCCONV states it, the changed step's too
        name = acq.get("series_description")
        if name in by_protocol:
            assert acq.get("repetition_time_ms") == by_protocol[name], name
    _never_a_value(acquisitions, token, field)


# ---- Siemens .edx (VB17 fixture, one section changed) ----------------------------------------------------------


@needs_fixtures
@PROPERTY
@given(field=st.sampled_from(("alTE[0]", "adFlipAngleDegree[0]", "sKSpace.lBaseResolution")), token=ODD)
def test_edx_one_odd_value_costs_only_that_value(tmp_path_factory, field, token):
    text = zlib.decompress(VB17.read_bytes()).decode("latin-1")
    raw_trs = [int(tr) / 1000 for tr in re.findall(r"^alTR\[0\]\s*=\s*(\d+)", text, re.M)]
    planted = token.replace("\n", " ").replace("\r", " ")
    changed = re.sub(rf"^({re.escape(field)}\s*=\s*).*$", lambda m: m.group(1) + planted, text, count=1, flags=re.M)
    path = tmp_path_factory.mktemp("edx") / "one.edx"
    path.write_bytes(zlib.compress(changed.encode("latin-1", "replace")))
    acquisitions, _ = _read(path)
    assert sorted(a.get("repetition_time_ms") for a in acquisitions.values()) == sorted(raw_trs)
    _never_a_value(acquisitions, token, field)


# ---- Philips ExamCard (R5.3 fixture, one binary value of one scan's table changed) -----------------------------

CARD_FIELDS = ("EX_ACQ_flip_angle", "EX_GEO_slice_thickness", "EX_ACQ_measurements", "EX_GEO_fov", "EX_TFE_factor")
ODD_NUMBERS = st.sampled_from([math.nan, math.inf, -math.inf, 3.4e38, -1.0, 0.0, 1e-45, -3.4e38])


@needs_fixtures
@PROPERTY
@given(field=st.sampled_from(CARD_FIELDS), odd=ODD_NUMBERS, which=st.integers(0, 6), as_int=st.booleans())
def test_examcard_one_odd_value_costs_only_that_value(tmp_path_factory, field, odd, which, as_int):
    import base64

    text = CARD.read_text(encoding="utf-8")
    scans = set(re.findall(r'<parameterData href="#(ref-\d+)"', text))  # the scans' parameter tables
    tables = [m for m in re.finditer(r'id="(ref-\d+)"[^>]*>([A-Za-z0-9+/=\s]+)<', text) if m.group(1) in scans]
    assert len(tables) == 7
    start, end = tables[which % len(tables)].span(2)
    blob = bytearray(base64.b64decode(text[start:end]))
    for i in range(struct.unpack_from("<8i", blob)[7]):
        at = HEADER + RECORD * i
        if blob[at : at + 34].split(b"\0", 1)[0].decode("ascii", "replace") == field:
            kind, _, _, offset = struct.unpack_from("<4i", blob, at + 34)
            value = struct.pack("<i", -(2**31) if math.isnan(odd) else int(max(min(odd, 2**31 - 1), -(2**31))))
            struct.pack_into("<4s", blob, at + 46 + offset, value if as_int and kind != 0 else struct.pack("<f", odd))
    path = tmp_path_factory.mktemp("card") / "one.ExamCard"
    path.write_text(text[:start] + base64.b64encode(bytes(blob)).decode() + text[end:], encoding="utf-8")
    acquisitions, _ = _read(path)
    sections = _sections()
    assert sorted(acquisitions) == sorted(sections)
    for name, acq in acquisitions.items():  # every scan's TR as the printout beside the card prints it
        printed = (
            numbers_after(sections[name], "Act. TR/TE (ms)")
            or numbers_after(sections[name], "Act. TR/TE1/delta TE")
            or numbers_after(sections[name], "Act. TR (ms)")
        )
        assert acq.get("repetition_time_ms") == pytest.approx(printed[0]), name
        for param in ("flip_angle_deg", "slice_thickness_mm", "averages"):
            value = acq.get(param)
            assert value is None or math.isfinite(value), (name, param, value)  # nan/inf never become a value


@functools.cache
def _sections() -> dict[str, str]:
    return printout_sections()  # the R5.3 printout's text, laid out once per session


# ---- Siemens print-protocol XML (a print of our own in the console's layout) -----------------------------------

PRINT_BASE = {"TR": "2300 ms", "TE": "2.98 ms", "Flip angle": "9 deg", "Base resolution": "256", "Slices": "176"}


@PROPERTY
@given(field=st.sampled_from(sorted(PRINT_BASE)), token=ODD)
def test_print_xml_one_odd_value_costs_only_that_value(tmp_path_factory, field, token):
    from xml.sax.saxutils import escape

    rows = [(label, escape(token) if label == field else value) for label, value in PRINT_BASE.items()]
    acquisitions, _ = _read(print_xml(tmp_path_factory.mktemp("xml"), rows))
    [acq] = acquisitions.values()
    if field != "TR":
        assert acq.get("repetition_time_ms") == 2300.0
    if field != "TE":
        assert acq.get("echo_time_ms") == 2.98
    if field != "Flip angle":
        assert acq.get("flip_angle_deg") == 9.0
    _never_a_value(acquisitions, token, field)


# ---- GE LxProtocol (a protocol of our own in the console's layout) ---------------------------------------------

LX_BASE = {"PSEQ": "SPGR", "TE": "3.0", "TR": "8.0", "FLIPANG": "12", "SLTHICK": "1.2", "NOSLC": "160", "NEX": "1"}


@PROPERTY
@given(field=st.sampled_from(("TE", "TR", "FLIPANG", "SLTHICK", "NOSLC", "NEX", "CONTRAST")), token=ODD)
def test_lxprotocol_one_odd_value_costs_only_that_value(tmp_path_factory, field, token):
    values = {**LX_BASE, field: token.replace('"', "").replace("\n", " ")}
    path = tmp_path_factory.mktemp("lx") / "LxProtocol"
    path.write_text("".join(f'set {k} "{v}"\n' for k, v in values.items()), encoding="utf-8")
    acquisitions, _ = _read(path)
    [acq] = acquisitions.values()
    if field != "TR":
        assert acq.get("repetition_time_ms") == 8.0
    if field != "TE":
        assert acq.get("echo_time_ms") == 3.0
    if field != "FLIPANG":
        assert acq.get("flip_angle_deg") == 12.0
    _never_a_value(acquisitions, token, field)


# ---- GE Protocol Exchange report, HTML (the 750 fixture, one cell of one series changed) -----------------------

HTML_LABELS = ("TE", "Receiver Bandwidth", "FOV", "Slice Thickness", "Flip Angle", "Freq", "Phase")


@needs_fixtures
@PROPERTY
@given(label=st.sampled_from(HTML_LABELS), token=ODD, which=st.integers(0, 7))
def test_ge_report_one_odd_value_costs_only_that_value(tmp_path_factory, label, token, which):
    from xml.sax.saxutils import escape

    html = GE_HTML.read_text(encoding="utf-8", errors="replace")

    def row(name: str) -> str:  # <td ...><font ...><b>TR</b></font></td><td ...><font ...>800.0</font></td>
        return rf"<td[^>]*>(?:<[^>/]+>)*\s*{re.escape(name)}\s*(?:</[^>]+>)*</td><td[^>]*>(?:<[^>/]+>)*([^<]*)"

    cells = list(re.finditer(row(label), html))
    trs = [float(v) for v in re.findall(row("TR"), html)]
    assert cells and trs
    cell = cells[which % len(cells)]
    changed = html[: cell.start(1)] + escape(token) + html[cell.end(1) :]
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_text(changed, encoding="utf-8")
    acquisitions, _ = _read(path)
    read = [a.get("repetition_time_ms") for a in acquisitions.values()]
    assert len(acquisitions) == len(re.findall(row("Series Description"), html))  # every series still read
    assert sorted(t for t in read if t is not None) == sorted(trs)  # and its TR, where the report prints one
    _never_a_value(acquisitions, token, label)


# ---- BIDS sidecar (one of our own) and DICOM header (one of our own, raw element bytes) ------------------------

BIDS_BASE = {"Manufacturer": "Siemens", "RepetitionTime": 2.0, "EchoTime": 0.03, "FlipAngle": 90, "SliceThickness": 3}
JSON_ODD = st.one_of(WORDS, st.sampled_from([None, True, [], {}, [1, 2], 1e308, -1, 0]), st.floats())


@PROPERTY
@given(field=st.sampled_from(("EchoTime", "FlipAngle", "SliceThickness", "PixelBandwidth")), odd=JSON_ODD)
def test_bids_one_odd_value_costs_only_that_value(tmp_path_factory, field, odd):
    path = tmp_path_factory.mktemp("bids") / "sub-01_T2w.json"
    path.write_text(json.dumps({**BIDS_BASE, field: odd}), encoding="utf-8")
    acquisitions, _ = _read(path)
    [acq] = acquisitions.values()
    assert acq.get("repetition_time_ms") == 2000.0
    if field != "EchoTime":
        assert acq.get("echo_time_ms") == 30.0
    if isinstance(odd, str):
        _never_a_value(acquisitions, odd, field)


DICOM_ODD_FIELDS = (("EchoTime", "DS"), ("FlipAngle", "DS"), ("SliceThickness", "DS"), ("PixelBandwidth", "DS"))


@PROPERTY
@given(field=st.sampled_from(DICOM_ODD_FIELDS), token=ODD)
def test_dicom_one_odd_value_costs_only_that_value(tmp_path_factory, field, token):
    values = {("EchoTime", "DS"): "30", ("FlipAngle", "DS"): "90", ("SliceThickness", "DS"): "3", field: token}
    folder = tmp_path_factory.mktemp("dcm")
    (folder / "one.dcm").write_bytes(_mr_dataset(values))
    acquisitions, _ = _read(folder)
    [acq] = acquisitions.values()
    assert acq.get("repetition_time_ms") == 2000.0  # the header's TR, "2000"
    if field[0] != "EchoTime":
        assert acq.get("echo_time_ms") == 30.0
    if field[0] != "FlipAngle":
        assert acq.get("flip_angle_deg") == 90.0


# ---- Printouts as text (pdftotext -layout of the VE11C and R5.3 printout PDFs, one value changed) --------------

VE11C_PDF = EXPORTS / "siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.pdf"
R53_PDF = EXPORTS / "philips/spine_generic_philips_R53.pdf"
PLAIN = st.one_of(WORDS, TOKEN).map(lambda t: "".join(t.split()) or "?")  # one cell: no spaces inside


@functools.cache
def _layout_text(pdf: Path) -> str:
    import subprocess

    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout


def _plant(text: str, label: str, which: int, token: str) -> str:
    """The value cell right of the `which`-th row labelled `label` (columns are two spaces or more apart)."""
    rows = list(re.finditer(rf"(?:^|\s{{2}}){re.escape(label)}(\s{{2,}})(\S+)", text, re.M))
    cell = rows[which % len(rows)]
    return text[: cell.start(2)] + token + text[cell.end(2) :]


@needs_fixtures
@PROPERTY
@given(label=st.sampled_from(("TE", "Flip angle", "Averages", "Base resolution")), token=PLAIN, which=st.integers())
def test_siemens_text_printout_one_odd_value_costs_only_that_value(tmp_path_factory, label, token, which):
    text = _layout_text(VE11C_PDF)
    trs = {float(v) for v in re.findall(r"^TR\s{2,}([\d.]+) ms", text, re.M)}  # each protocol's TR as printed
    path = tmp_path_factory.mktemp("txt") / "printout.txt"
    path.write_text(_plant(text, label, which, token), encoding="utf-8")
    acquisitions, _ = _read(path)
    assert len(acquisitions) == 8
    assert {a.get("repetition_time_ms") for a in acquisitions.values()} == trs
    _never_a_value(acquisitions, token, label)


@needs_fixtures
@PROPERTY
@given(label=st.sampled_from(("Flip angle (deg)", "NSA", "EPI factor")), token=PLAIN, which=st.integers())
def test_philips_text_printout_one_odd_value_costs_only_that_value(tmp_path_factory, label, token, which):
    path = tmp_path_factory.mktemp("txt") / "printout.txt"
    path.write_text(_plant(_layout_text(R53_PDF), label, which, token), encoding="utf-8")
    acquisitions, _ = _read(path)
    sections = _sections()
    assert sorted(acquisitions) == sorted(sections)
    for name, acq in acquisitions.items():  # every scan's TR as the printout prints it
        printed = (
            numbers_after(sections[name], "Act. TR/TE (ms)")
            or numbers_after(sections[name], "Act. TR/TE1/delta TE")
            or numbers_after(sections[name], "Act. TR (ms)")
        )
        assert acq.get("repetition_time_ms") == pytest.approx(printed[0]), name
    _never_a_value(acquisitions, token, label)


# ---- GE series protocol in DICOM, (0025,101B) (the MP-RAGE fixture's block, one value changed) -----------------

GE_T1 = "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"


@needs_fixtures
@PROPERTY
@given(field=st.sampled_from(("PHASEACCEL", "SLICEACCEL", "FOV", "SLTHICK", "FLIPANG", "CONTRAST", "PLANE")), token=ODD)
def test_ge_dicom_protocol_one_odd_value_costs_only_that_value(tmp_path_factory, field, token):
    from .dicom_study import Study, fixture_files, read

    header = read(fixture_files(GE_T1)[0])
    tr = float(header.RepetitionTime)  # the witness: the images' own TR, raw header
    text = block_text(header)
    assert re.search(rf'^{field} "', text, re.M)
    odd = token.replace('"', "").replace("\n", " ")

    def edit(ds, i):
        del ds[0x0043, 0x1083]  # GE's Asset factors gone: the protocol's PHASEACCEL/SLICEACCEL fill them
        edit_block(lambda t: re.sub(rf'^{field} ".*"$', f'{field} "{odd}"', t, flags=re.M))(ds, i)

    folder = tmp_path_factory.mktemp("gerx")
    Study(folder).add(GE_T1, 5, edit=edit)
    acquisitions, _ = _read(folder)
    [acq] = acquisitions.values()
    assert acq.get("repetition_time_ms") == tr and acq.get("slices") == 130
    if field != "PHASEACCEL":
        assert acq.get("parallel_factor") == 2.0  # the block's own PHASEACCEL "2.00"
    assert acq.get("flip_angle_deg") == float(header.FlipAngle)  # the images' value stands whatever the block says
    _never_a_value(acquisitions, odd, field)
