"""Exports cut short (a truncated copy, a transfer that stopped): what is whole reads as in the whole file, what
the cut may have broken is absent and said. The expected values are the whole file's own reading, which
tests/test_printouts.py holds to the vendor export of the same protocol.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ofsep_presets.acquisition import ReadError
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

GE_HTML = FIXTURES / "vendor-exports/ge/GE_750_no-FOCUS/spine_generic_ge_750_no-FOCUS.html"
pytestmark = pytest.mark.skipif(not GE_HTML.is_file(), reason="the vendor-exports fixtures are not here")


def _whole():
    return {a.name: a.params for a in inspect_path(GE_HTML)[0].acquisitions}


@pytest.mark.parametrize("keep", [1, 2, 3])
def test_a_ge_report_cut_inside_a_number_reads_no_cut_number(tmp_path, keep):
    html = GE_HTML.read_text(encoding="utf-8", errors="replace")
    whole = _whole()
    numbers = [m for m in re.finditer(r">(\d{3,}\.\d+)<", html)]
    assert numbers
    for m in numbers[:: max(1, len(numbers) // 12)]:
        cut = tmp_path / "cut.html"
        cut.write_text(html[: m.start(1) + keep], encoding="utf-8")
        [inspection] = inspect_path(cut)
        for acq in inspection.acquisitions:
            for key, value in acq.params.items():
                if key in whole.get(acq.name, {}):
                    assert value == whole[acq.name][key], (m.group(1), acq.name, key)
        assert any("cut short" in w for w in inspection.warnings)


def test_a_whole_ge_report_says_nothing_of_a_cut():
    [inspection] = inspect_path(GE_HTML)
    assert not any("cut short" in w for w in inspection.warnings)


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (tests only) makes the text printout")
def test_a_philips_printout_text_cut_inside_a_number_reads_no_cut_number(tmp_path):
    """The R5.3 printout's text cut right after the first digit of a value ("Act. TR (ms) 3500" → "… 3", "slices
    192" → "… 1"): the cut line is not read; every value read is the whole printout's."""
    from .test_printout_text_variants import PDF, real_text

    if not PDF.is_file():
        pytest.skip("the vendor-exports fixtures are not here")
    text = real_text()
    whole_file = tmp_path / "whole.txt"
    whole_file.write_text(text, encoding="utf-8")
    whole = {a.name: a.params for a in inspect_path(whole_file)[0].acquisitions}
    cut = tmp_path / "cut.txt"
    checked = 0
    for m in list(re.finditer(r"(?<=\s)(\d{2,}\.\d+|\d{2,})(?=\s)", text))[::9]:
        cut.write_text(text[: m.start(1) + 1], encoding="utf-8")
        try:
            [inspection] = inspect_path(cut)
        except ReadError:
            continue  # cut before any scan: nothing to read, said
        checked += 1
        assert any("cut short" in w for w in inspection.warnings)
        for acq in inspection.acquisitions:
            for key, value in acq.params.items():
                if key in whole.get(acq.name, {}) and key != "voxel_size_mm":  # printed 0.81 vs FOV/matrix 0.8054
                    assert value == whole[acq.name][key], (m.group(1), acq.name, key)
    assert checked > 5


GE_TAR = FIXTURES / "vendor-exports/ge/GE_750_no-FOCUS/protocol.tar"


def test_a_ge_protocol_tar_cut_short_reads_the_series_before_the_cut():
    """The MR750 protocol tar (session.xml, then one LxProtocol per series) cut at a third and at two thirds: the
    series whose LxProtocol is whole read as in the whole tar; the cut one and the rest are absent, and said."""
    import tempfile

    data = GE_TAR.read_bytes()
    whole = {a.name: a.params for a in inspect_path(GE_TAR)[0].acquisitions}
    read = []
    for thirds in (1, 2):
        with tempfile.TemporaryDirectory() as folder:
            cut = Path(folder) / "cut.tar"
            cut.write_bytes(data[: len(data) * thirds // 3])
            [inspection] = inspect_path(cut)
        read.append(len(inspection.acquisitions))
        assert 0 < len(inspection.acquisitions) < len(whole)
        assert all(a.params == whole[a.name] for a in inspection.acquisitions)
        assert any("not a complete tar" in w for w in inspection.warnings)
    assert read[0] < read[1]


def test_a_print_protocol_xml_cut_short_reads_the_whole_steps_before_the_cut(tmp_path):
    """A Siemens print-protocol XML (the VE11C layout, tests/support.print_xml) of two steps, cut inside the
    second step's TR ("4000 ms" cut to "40"): the first step reads as in the whole file, the cut step is not
    read (it was the whole file that was refused)."""
    from .support import print_xml

    plain = print_xml(tmp_path, [("TR", "2300 ms"), ("TE", "2.98 ms"), ("Flip angle", "9 deg")])
    text = plain.read_text(encoding="utf-8")
    step = text[text.index("<Protocol>") : text.index("</PrintProtocol>")]
    two = text.replace("</PrintProtocol>", step.replace("t1<", "t2<").replace("2300", "4000") + "</PrintProtocol>")
    plain.write_text(two, encoding="utf-8")
    whole = {a.name: a.params for a in inspect_path(plain)[0].acquisitions}
    assert whole["t2"]["repetition_time_ms"] == 4000.0
    cut = tmp_path / "cut.xml"
    cut.write_text(two[: two.rindex("4000") + 2], encoding="utf-8")
    [inspection] = inspect_path(cut)
    assert {a.name: a.params for a in inspection.acquisitions} == {"t1": whole["t1"]}
    assert any("not a complete print-protocol XML" in w for w in inspection.warnings)


# Every export fixture, cut anywhere: what is read is the whole file's (or the cut file is refused, said). The
# Philips printout's voxel may come from its printed, rounded row when the FOV/matrix rows were cut (0.81 for
# 0.8054); a scan's family is inferred from the rows it has. Those two are stated exceptions, not read values.
EXPORTS = [
    FIXTURES / "vendor-exports/philips/spine_generic_philips_R53.ExamCard",
    FIXTURES / "vendor-exports/siemens/Trio_VB17/spine_generic_siemens-trio.edx",
    FIXTURES / "vendor-exports/ge/GE_750_no-FOCUS/protocol.tar",
    GE_HTML,
]
_WHOLE: dict = {}


def _values(path: Path) -> dict:
    return {a.name: a.params for i in inspect_path(path) for a in i.acquisitions}


def _read_cut(export: Path, fraction: float, tmp_path: Path, exempt: tuple[str, ...]) -> dict | None:
    """The export cut after `fraction` of its bytes, read: every value read is the whole file's (`exempt`: the
    stated exceptions). None when the cut file is refused (a ReadError, saying why)."""
    whole = _WHOLE.setdefault(export, _values(export))
    data = export.read_bytes()
    cut = tmp_path / export.name
    cut.write_bytes(data[: int(len(data) * fraction)])
    try:
        read = _values(cut)
    except ReadError:
        return None
    for name, params in read.items():
        for key, value in params.items():
            if key in whole.get(name, {}) and key not in exempt:
                assert value == whole[name][key], (fraction, name, key)
    return read


@pytest.mark.parametrize("export", [p for p in EXPORTS if p.is_file()], ids=lambda p: p.suffix)
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fraction=st.floats(min_value=0.02, max_value=0.999))
def test_an_export_cut_anywhere_reads_only_what_the_whole_file_states(tmp_path, export, fraction):
    _read_cut(export, fraction, tmp_path, exempt=("sequence_family", "voxel_size_mm"))


PHILIPS_PDF = FIXTURES / "vendor-exports/philips/spine_generic_philips_R53.pdf"
TRIO_PDF = FIXTURES / "vendor-exports/siemens/Trio_VB17/spine_generic_siemens-trio.pdf"
PRISMA_PDF = FIXTURES / "vendor-exports/siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.pdf"


def _cut_before_the_page_tree(pdf: Path, tmp_path: Path) -> Path:
    """The PDF cut where its page tree or catalog begins (ISO 32000-1 7.5.1: a writer puts the cross-reference
    table and the trailer last; these put the page tree and catalog just before them): every object before is
    whole, nothing names them."""
    data = pdf.read_bytes()
    starts = [m.start() for m in re.finditer(rb"(?m)^\d+ 0 obj", data)]
    tree = min(m.start() for m in re.finditer(rb"/Kids|/Type ?/Catalog", data))
    cut = tmp_path / f"cut-{pdf.name}"
    cut.write_bytes(data[: max(s for s in starts if s < tree)])
    return cut


@pytest.mark.parametrize("pdf", [PHILIPS_PDF, TRIO_PDF], ids=["philips-R53", "siemens-VB17"])
def test_a_printout_pdf_cut_before_its_page_tree_reads_its_pages_and_says_it_is_cut(tmp_path, pdf):
    whole = {a.name: a.params for a in inspect_path(pdf)[0].acquisitions}
    [inspection] = inspect_path(_cut_before_the_page_tree(pdf, tmp_path))
    cut = {a.name: a.params for a in inspection.acquisitions}
    assert list(cut) == list(whole)
    last = list(cut)[-1]  # the cut may have taken its last pages: its family is not inferred from what is left
    for name, params in cut.items():
        assert params == {k: v for k, v in whole[name].items() if not (name == last and k == "sequence_family")}
    assert any("cut short" in w for w in inspection.warnings)


def test_a_printout_pdf_whose_fonts_are_past_the_cut_is_refused_as_cut_not_misread(tmp_path):
    # The VE11C printout writes its fonts after its page tree: no page before the cut can be decoded (its text
    # would come out as other characters), so none is read, and the refusal says the file is cut.
    with pytest.raises(ReadError, match="cut short"):
        inspect_path(_cut_before_the_page_tree(PRISMA_PDF, tmp_path))


@pytest.mark.parametrize("pdf", [PHILIPS_PDF, TRIO_PDF, PRISMA_PDF], ids=["philips-R53", "siemens-VB17", "VE11C"])
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fraction=st.floats(min_value=0.8, max_value=0.9999))
def test_a_printout_pdf_cut_near_its_end_reads_only_what_the_whole_printout_states(tmp_path, pdf, fraction):
    # Near the end: where the fonts, the page tree and the trailer are (a cut earlier leaves no font whole).
    _read_cut(pdf, fraction, tmp_path, exempt=("sequence_family",))


def test_the_trio_printout_cut_at_98_percent_reads_its_scans_as_the_whole_printout_does(tmp_path):
    """A fixed cut that reads (the cuts drawn above may all be refused, and a refusal passes them): the VB17
    printout cut at 98 % of its bytes (its cross-reference table and trailer gone) reads scans, each the whole
    printout's, every value as the whole printout reads it, and says it is cut."""
    if not TRIO_PDF.is_file():
        pytest.skip("the vendor-exports fixtures are not here")
    read = _read_cut(TRIO_PDF, 0.98, tmp_path, exempt=("sequence_family",))
    assert read is not None, "refused"
    whole = _WHOLE[TRIO_PDF]
    assert read and set(read) <= set(whole)
    assert sum(len(params) for params in read.values()) >= 100
    [inspection] = inspect_path(tmp_path / TRIO_PDF.name)
    assert any("cut short" in w for w in inspection.warnings)


def test_a_whole_pdf_damaged_elsewhere_is_refused_as_unreadable_not_read_as_cut(tmp_path):
    """The VB17 printout, whole (its trailer, startxref and %%EOF last: ISO 32000-1 7.5.5), whose trailer names a
    security handler no reader has (7.6.1: the Encrypt dictionary's Filter names the handler that decrypts the
    document): it cannot be read, and that is said; it is not a cut file whose pages before the cut are read."""
    if not TRIO_PDF.is_file():
        pytest.skip("the vendor-exports fixtures are not here")
    data = TRIO_PDF.read_bytes()
    trailer = data.rindex(b"trailer")
    assert b"startxref" in data[trailer:] and data.rstrip().endswith(b"%%EOF")
    damaged = tmp_path / "encrypted.pdf"
    damaged.write_bytes(data[:trailer] + data[trailer:].replace(b"<<", b"<<\n/Encrypt << /Filter /NoSuchHandler >>", 1))
    with pytest.raises(ReadError, match="not a readable PDF") as refused:
        inspect_path(damaged)
    assert "cut short" not in str(refused.value)


def test_the_pdf_text_says_whether_the_pdf_was_cut(tmp_path):
    """The cut is a flag of the PDF's cells (the printout reader acts on it), not words searched in a warning."""
    if not TRIO_PDF.is_file():
        pytest.skip("the vendor-exports fixtures are not here")
    from ofsep_presets.readers.printout_layout import pdf_cells

    assert pdf_cells(_cut_before_the_page_tree(TRIO_PDF, tmp_path), warnings=[], first_pages=1).cut is True
    assert pdf_cells(TRIO_PDF, warnings=[], first_pages=1).cut is False
