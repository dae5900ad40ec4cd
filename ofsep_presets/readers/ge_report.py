"""GE Protocol Exchange / Protocol Notebook reports ("Protocol: ..." as HTML, or printed to PDF), series by series.

The report prints each series' LxProtocol values under readable labels (PATIENT POSITION, IMAGING PARAMETERS, SCAN
TIMING, ... tables): the same words and units as the LxProtocol (FOV in cm, bandwidth in ±kHz). So each row is
mapped back to its LxProtocol key (protocol_spec/vendors/printouts/ge-report.yaml) and the series is read exactly
like the export (`ge_protocol.acquisition_from_lx_values`): one mapping, two documents.

HTML is parsed by lxml.html with the network off and comments/processing instructions dropped; the series is the
bordered table under a two-column header (the task name). In the PDF that header is not text: the report prints
one series per page, named by its "Series Description" row where it has one (DV-era reports), else by its rank.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from ..acquisition import Inspection, ReadError, scanner_from
from ..resources import spec_dir
from ..yamlload import load_yaml
from .ge_protocol import acquisition_from_lx_values
from .printout_layout import Cell, join_wrapped_labels, pairs, reading_order

FORMAT = "ge-report"
MAX_HTML_BYTES = 16 * 1024 * 1024
SECTIONS = {"IMAGING PARAMETERS", "SCAN TIMING", "PATIENT POSITION", "SCAN RANGE", "ACQ TIMING"}


@cache
def _report() -> dict:
    return load_yaml(spec_dir() / "vendors" / "printouts" / "ge-report.yaml")


def report_labels() -> dict[str, str]:
    return {_norm(k): str(v) for k, v in _report()["labels"].items()}


def report_sections() -> set[str]:
    return {_norm(s) for s in _report()["sections"]}


def _norm(text) -> str:
    return " ".join(str(text).split()).casefold()


def is_html(head: bytes) -> bool:
    low = head.lower()
    return b"<html" in low and b"protocol:" in low and any(s.encode().lower() in low for s in SECTIONS)


def is_ge(cells: list[Cell]) -> bool:
    texts = {c.text for c in cells}
    return any(t.startswith("Protocol:") for t in texts) and len(texts & SECTIONS) >= 2


def _field_strength(texts) -> float | None:
    for text in texts:
        match = re.search(r"\b(\d(?:\.\d+)?)\s?T\b", text)
        if match:
            return float(match.group(1))
    return None


def _series(name: str, rows, field_t: float | None, where: str):
    labels = report_labels()
    values: dict[str, str] = {}
    for section, label, value in rows:
        key = labels.get(_norm(f"{section}/{label}")) or labels.get(_norm(label))
        if key and value and key not in values:
            values[key] = value
    acq = acquisition_from_lx_values(name, values, f"{where} series {name!r}")
    if field_t is not None:
        acq.set("field_strength_t", field_t, f"{where}: report header")
    return acq


def read_html(path: Path) -> Inspection:
    import lxml.html

    if path.stat().st_size > MAX_HTML_BYTES:
        raise ReadError(f"{path}: larger than any GE protocol report ({MAX_HTML_BYTES // 2**20} MiB); refused")
    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, huge_tree=False)
    data = path.read_bytes()
    try:
        document = lxml.html.document_fromstring(data, parser=parser)
    except Exception as exc:  # lxml's parser errors on damaged bytes: unreadable, said once
        raise ReadError(f"{path}: not a readable HTML report ({type(exc).__name__})") from None
    inspection = Inspection(source=str(path), format=FORMAT)
    # The console writes the whole report, "</body></html>" last. Without it the file was cut (a truncated copy):
    # its last row may be cut inside its value ("800.0" cut to "80", read as TR 80 ms), so that row is not read.
    cut = not re.search(rb"</html\s*>", data[-4096:], re.I)
    series: list[tuple[str, list]] = []
    header = [th.text_content() for th in document.iter("th") if th.get("colspan") != "2"]
    field_t = _field_strength(header)
    for th in document.iter("th"):
        table = th.getparent().getparent() if th.getparent() is not None else None
        if th.get("colspan") != "2" or table is None or table.get("border") != "1":
            continue
        rows = []
        for tr in table.iter("tr"):
            cells = [c for c in tr if c.tag == "td"]
            if len(cells) == 2 and not tr.xpath(".//table"):
                heading = tr.getparent().xpath("string(.//th)") if tr.getparent() is not None else ""
                section = " ".join(str(heading).split())
                rows.append((section, cells[0].text_content().strip(), cells[1].text_content().strip()))
        series.append((" ".join(th.text_content().split()), rows))
    if cut and series and series[-1][1]:
        name, rows = series[-1]
        inspection.warnings.append(
            f"{path.name}: the report is cut short (no closing </html>): the last row read, {rows[-1][1]!r} of "
            f"series {name!r}, may be cut inside its value and is not read; what followed the cut is absent"
        )
        series[-1] = (name, rows[:-1])
    for name, rows in series:
        if not rows:
            inspection.warnings.append(f"series {name!r}: no parameter rows; skipped")
            continue
        inspection.acquisitions.append(_series(name, rows, field_t, path.name))
    if not inspection.acquisitions:
        raise ReadError(f"{path}: a GE protocol report without any series table")
    _place(inspection, _protocol_name(" ".join(b.text_content().split()) for b in document.iter("b")))
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def _unsectioned(label: str, sections: set[str]) -> str:
    head, _, tail = label.partition("/")
    return tail if tail and head in sections else label


def _section(cell: Cell, headings: list[Cell]) -> str:
    """The heading a row is printed under: the nearest one above it in its column."""
    above = [h for h in headings if h.top < cell.top and abs(h.x0 - cell.x0) <= 2 * cell.height]
    nearest = max(above, key=lambda h: h.top, default=None)
    return nearest.text if nearest else ""


def _margin_name(cells: list[Cell], page: int) -> str | None:
    """The series name a GE Protocol Exchange PDF prints at a right angle in the margins of the series' page."""
    names = [c.text for c in cells if c.rotated and c.page == page]
    return max(set(names), key=names.count) if names else None


PROTOCOL = re.compile(r"^\s*Protocol:\s*(.+?)\s*$")


def _protocol_name(texts) -> str | None:
    """The report's "Protocol: NAME" line: the program's name, as the console library stores it."""
    return next((m.group(1) for m in (PROTOCOL.match(str(t)) for t in texts) if m), None)


def _place(inspection: Inspection, program: str | None) -> None:
    """Every series of one report belongs to that one program (its name is region evidence, exams.py)."""
    if program:
        for acq in inspection.acquisitions:
            acq.context.setdefault("program", program)


def read_cells(cells: list[Cell], source: str, fmt: str, where: str) -> Inspection:
    inspection = Inspection(source=source, format=fmt)
    margins = [c for c in cells if c.rotated]
    cells = [c for c in cells if not c.rotated]
    sections = report_sections()
    # "SECTION/label" keys name the label under that section; a label may hold a slash itself ("Contrast Yes/No").
    labels = {_unsectioned(label, sections) for label in report_labels()} | {"series description"}

    def is_label(text: str) -> bool:
        return _norm(text) in labels

    cells = join_wrapped_labels(cells, is_label)  # "Number of Diffusion" / "Directions" (750 PDF)

    field_t = _field_strength(c.text for c in reading_order(cells) if c.page == 1 and c.top < 100)
    series: list[tuple[str, list[tuple[str, str]]]] = []
    by_page: dict[int, list] = {}
    # A value ending "," continues below (Imaging Options); so may a ";" list (Coil Configuration "HNS CTL
    # Spine;HNS" / "Head/Neck/Chest" in the 750 PDF), unless the cell below is another row's value.
    for pair in pairs(cells, is_label, wrap=lambda value: value.endswith(",") or ";" in value):
        by_page.setdefault(pair.cell.page, []).append(pair)
    for number, page in enumerate(sorted(by_page), 1):  # the report prints one series per page
        headings = [c for c in cells if c.page == page and _norm(c.text) in sections]
        rows = [(_section(p.cell, headings), p.label, p.value) for p in by_page[page]]
        name = next((v for _, label, v in rows if label.casefold() == "series description" and v), None)
        series.append((name or _margin_name(margins, page) or f"series {number}", rows))
    for name, rows in series:
        inspection.acquisitions.append(_series(name, rows, field_t, where))
    if not inspection.acquisitions:
        raise ReadError(f"{source}: a GE protocol report without any series")
    _place(inspection, _protocol_name(c.text for c in cells if c.page == 1))
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection
