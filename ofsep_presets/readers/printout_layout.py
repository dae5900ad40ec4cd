"""Vendor printouts as positioned text cells, and the label -> value pairing every printout reader shares.

A console printout is a sheet of label/value columns (Siemens two, Philips three, GE two per series). What makes
a value belong to a label is where it sits: to the right of the label on the same line, possibly wrapped onto the
next line at the same left edge. So a printout is first turned into *cells* (one run of text with its page, left
and right edge and height on the page) and only then paired, by position, never by guessing from flowed text.

PDF text comes from pdfminer.six, chosen over pypdf because its layout analysis hands us each run of text with its
coordinates (LTTextLine): a label and its value stay two cells with their own x. pypdf's layout mode instead
re-flows the page into fixed-width text and, on these printouts, glues cells together ("DWI05:34.1", "R >> L350
mm" on the Siemens VB17 and Philips R5 printouts), which loses exactly the column a value is in. pdfminer is pure
Python, runs no external program and fetches nothing. Plain-text printouts (a console's "print to file", or text
copied out of a PDF with its layout) give cells too: runs separated by two or more spaces, the column as x.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ..acquisition import ReadError

MAX_PDF_BYTES = 32 * 1024 * 1024  # the largest printout seen is ~0.5 MB; 23 pages of a Siemens exam
MAX_PAGES = 2000
MAX_TEXT_BYTES = 16 * 1024 * 1024
TEXT_CHAR_WIDTH = 5.0  # a text printout's column counted as this many points, so tolerances read like a PDF's
TEXT_LINE_HEIGHT = 10.0


@dataclass(frozen=True)
class Cell:
    page: int
    x0: float
    x1: float
    top: float  # distance from the top of the page, growing downwards
    height: float
    text: str
    rotated: bool = False  # printed at a right angle (a GE report's series name in the page margin)


class PdfCells(list[Cell]):
    """A PDF's cells, and whether the PDF was cut short (its pages read as far as the cut, `cut` True)."""

    cut: bool = False


def pdf_cells(path: Path, warnings: list[str] | None = None, first_pages: int | None = None) -> PdfCells:
    """Every run of text of a PDF with its position (of its first pages only, when sniffing).

    A damaged page is skipped and said in `warnings` (when given; otherwise it is a ReadError).
    """
    if path.stat().st_size > MAX_PDF_BYTES:
        raise ReadError(f"{path}: larger than any vendor printout ({MAX_PDF_BYTES // 2**20} MiB); refused")
    return pdf_cells_from_bytes(path.read_bytes(), str(path), warnings, first_pages)


def pdf_cells_from_bytes(
    data: bytes, where: str, warnings: list[str] | None = None, first_pages: int | None = None
) -> PdfCells:
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTTextLineHorizontal
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    # char_margin 1.0: a label and its value, a few character widths apart, stay two cells.
    # boxes_flow=None: no hierarchical grouping of text boxes — we pair cells by position ourselves, and that
    # grouping was two thirds of the time (the cells of every fixture printout are identical without it).
    params = LAParams(char_margin=1.0, line_margin=0.1, word_margin=0.2, boxes_flow=None)
    cut = None  # the reason pdfminer gave, when the PDF is cut short
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)))
        pages = PDFPage.create_pages(document)
    except Exception as exc:  # pdfminer raises many types on damaged files; all mean "not a readable PDF"
        recovered = None if _has_its_end(data) else _before_the_cut(data)
        try:
            if recovered is None:
                raise ValueError
            document = PDFDocument(PDFParser(io.BytesIO(recovered)))
            pages = PDFPage.create_pages(document)
        except Exception:
            raise ReadError(f"{where}: not a readable PDF ({type(exc).__name__})") from None
        cut = type(exc).__name__
        _warn(
            warnings,
            where,
            "the PDF is cut short (its cross-reference table, trailer and page tree, written at its end, are "
            "missing): the pages before the cut whose fonts are whole are read, in file order; the rest is absent",
        )
    manager = PDFResourceManager(caching=True)
    device = PDFPageAggregator(manager, laparams=params)
    interpreter = PDFPageInterpreter(manager, device)
    cells = PdfCells()
    cells.cut = cut is not None
    number = 0
    while True:
        try:
            page = next(pages)
        except StopIteration:
            break
        except Exception as exc:
            _warn(warnings, where, f"the page tree is damaged after page {number} ({type(exc).__name__})")
            break
        if first_pages is not None and number >= first_pages:
            break
        number += 1
        if number > MAX_PAGES:
            raise ReadError(f"{where}: more than {MAX_PAGES} pages; refused")
        if cut and not _fonts_whole(document, page):
            # A font whose object, widths or Unicode map the cut took decodes to other characters: never read.
            _warn(warnings, where, f"page {number}: its fonts are past the cut; skipped")
            continue
        try:
            interpreter.process_page(page)
            layout = device.get_result()
        except Exception as exc:
            _warn(warnings, where, f"page {number} unreadable ({type(exc).__name__}); skipped")
            continue
        height = float(layout.height)
        page_cells: list[Cell] = []
        for line in _text_lines(layout, LTTextLineHorizontal):
            text = " ".join(line.get_text().split())
            if text:
                # Indentation printed as leading spaces (Siemens VB) counts: the cell starts at its first glyph.
                first = next((c for c in line if hasattr(c, "x0") and c.get_text().strip()), line)
                page_cells.append(
                    Cell(number, float(first.x0), float(line.x1), height - float(line.y1), line.height, text)
                )
        cells += _join_words(page_cells)
        cells += _rotated_runs(layout, number, height)
    if number == 0:
        raise ReadError(f"{where}: a PDF without any page")
    if cut and not cells:
        raise ReadError(
            f"{where}: not a readable PDF ({cut}): cut short, no page before the cut has its fonts whole (the "
            "text cannot be decoded): nothing to read"
        )
    return cells


def _has_its_end(data: bytes) -> bool:
    """Whether the file ends as a whole PDF does: "startxref", the offset and "%%EOF" last (ISO 32000-1 7.5.5,
    File Trailer; Annex H.3 note 3.4.4: a reader looks for %%EOF within the last 1024 bytes). One that does and
    still does not open is damaged elsewhere (encrypted, a broken object): not a cut file to read up to a cut."""
    tail = data[-1024:]
    return b"startxref" in tail or b"%%EOF" in tail


_OBJECT = re.compile(rb"(?m)^[ \t]*(\d{1,10})[ \t]+\d{1,5}[ \t]+obj\b")


def _before_the_cut(data: bytes) -> bytes | None:
    """A PDF cut short, as far as its last whole object, closed by a stand-in catalog and trailer: a PDF writer
    writes the cross-reference table, the trailer naming the catalog, and often the page tree last (PDF 1.7,
    ISO 32000-1 7.5.1: header, body, cross-reference table, trailer), so a cut file has the objects before the cut
    and nothing naming them. pdfminer's fallback then finds the objects by scanning (as Annex C.1 lets a reader
    rebuild a missing cross-reference table), and the catalog having no
    page tree, the page objects in the order they are written. None if no object is whole."""
    end = data.rfind(b"endobj")
    if end < 0 or not data.startswith(b"%PDF-"):
        return None
    body = data[: end + len(b"endobj")]
    numbers = [int(m.group(1)) for m in _OBJECT.finditer(body)]
    if not numbers:
        return None
    catalog = max(numbers) + 1
    return body + b"\n%d 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root %d 0 R >>\n" % (catalog, catalog)


def _fonts_whole(document, page) -> bool:
    """Whether every font the page names, and what decodes its glyphs (descendant fonts, descriptor, widths,
    encoding, Unicode map), is in the file: a page of a cut PDF whose fonts lie past the cut is unreadable."""
    from pdfminer.pdftypes import PDFObjRef, resolve1

    def whole(obj, depth: int = 0) -> bool:
        try:
            obj = resolve1(obj)
        except Exception:
            return False
        if obj is None:
            return False
        if depth >= 3:
            return True
        if isinstance(obj, dict):
            return all(whole(v, depth + 1) for k, v in obj.items() if k != "Parent" and isinstance(v, PDFObjRef))
        if isinstance(obj, list):
            return all(whole(v, depth + 1) for v in obj if isinstance(v, PDFObjRef))
        return True

    try:
        resources = resolve1(page.resources)
        fonts = resolve1(resources.get("Font")) if isinstance(resources, dict) else None
    except Exception:
        return False
    if not isinstance(resources, dict) or (resources.get("Font") is not None and not isinstance(fonts, dict)):
        return False
    return all(whole(font) for font in (fonts or {}).values()) and all(
        whole(resources.get(k)) for k in ("XObject",) if resources.get(k) is not None
    )


def _rotated_runs(layout, number: int, height: float) -> list[Cell]:
    """Text printed at a right angle, which pdfminer leaves as loose characters (inside a form XObject, never in a
    text line): one cell per column of characters, read along the baseline (bottom-up when turned anticlockwise).
    A GE Protocol Exchange PDF prints each page's series name so, in both margins, and nowhere else."""
    from pdfminer.layout import LTChar, LTFigure

    columns: dict[tuple[int, int], list] = {}
    chars = (ch for figure in _text_lines(layout, LTFigure) for ch in _text_lines(figure, LTChar))
    for item in chars:
        a, b, c, d = (round(float(v)) for v in item.matrix[:4])
        if a == 0 and d == 0 and b and c:
            columns.setdefault((b, round(float(item.matrix[4]))), []).append(item)
    cells = []
    for (direction, _), chars in sorted(columns.items()):
        chars.sort(key=lambda ch: float(ch.matrix[5]) * direction)
        run: list = []
        for ch in chars + [None]:
            gap = ch is not None and run and abs(float(ch.matrix[5]) - float(run[-1].matrix[5])) > 3 * ch.size
            if (ch is None or gap) and run:
                text = " ".join("".join(c.get_text() for c in run).split())
                if text:
                    x0, x1 = min(c.x0 for c in run), max(c.x1 for c in run)
                    top = height - max(c.y1 for c in run)
                    cells.append(Cell(number, float(x0), float(x1), float(top), float(x1 - x0), text, rotated=True))
                run = []
            if ch is not None:
                run.append(ch)
    return cells


def _join_words(cells: list[Cell]) -> list[Cell]:
    """Runs a word space apart are one cell ("EPI" "factor"): a label and its value are always further apart."""
    joined: list[Cell] = []
    for cell in reading_order(cells):
        last = joined[-1] if joined else None
        if last and same_line(last, cell) and 0 <= cell.x0 - last.x1 <= 0.45 * min(last.height, cell.height):
            joined[-1] = Cell(last.page, last.x0, cell.x1, last.top, last.height, f"{last.text} {cell.text}")
        else:
            joined.append(cell)
    return joined


def _warn(warnings: list[str] | None, where: str, message: str) -> None:
    if warnings is None:
        raise ReadError(f"{where}: {message}")
    warnings.append(message)


def _text_lines(container, kind) -> Iterator:
    stack = [container]
    while stack:
        item = stack.pop()
        if isinstance(item, kind):
            yield item
        elif hasattr(item, "__iter__"):
            stack.extend(item)


_RUN = re.compile(r"\S+(?: \S+)*")


def text_cells(text: str) -> list[Cell]:
    """A text printout's cells: runs of text separated by two or more spaces; pages split at form feeds."""
    cells = []
    for number, page in enumerate(text.split("\f"), 1):
        for row, line in enumerate(page.expandtabs(8).splitlines()):
            for match in _RUN.finditer(line):
                x0, x1 = match.start() * TEXT_CHAR_WIDTH, match.end() * TEXT_CHAR_WIDTH
                cells.append(Cell(number, x0, x1, row * TEXT_LINE_HEIGHT, TEXT_LINE_HEIGHT, match.group()))
    return cells


def split_glued(cells: list[Cell], labels: list[str]) -> list[Cell]:
    """A label glued to its value by a single space (text printouts: "Act. WFS (pix) / BW (Hz) 0.817 / 531.5")
    is split into the label's cell and the value's, the value starting where its text starts."""
    ordered = sorted(labels, key=len, reverse=True)
    out = []
    for cell in cells:
        folded = cell.text.casefold()
        label = next((lab for lab in ordered if folded.startswith(lab.casefold() + " ")), None)
        if label is None:
            out.append(cell)
            continue
        width = (cell.x1 - cell.x0) / max(len(cell.text), 1)
        cut = cell.x0 + width * (len(label) + 1)
        head = cell.text[: len(label)]
        out.append(Cell(cell.page, cell.x0, cell.x0 + width * len(label), cell.top, cell.height, head))
        out.append(Cell(cell.page, cut, cell.x1, cell.top, cell.height, cell.text[len(label) + 1 :]))
    return out


def join_wrapped_labels(cells: list[Cell], is_label) -> list[Cell]:
    """A label wrapped onto a second line at the same left edge ("Number of Diffusion" / "Directions", its value
    beside the first line) is one label: the two cells joined when `is_label` knows the joined text."""
    by_page: dict[int, list[Cell]] = {}
    for cell in cells:
        by_page.setdefault(cell.page, []).append(cell)
    dropped: set[int] = set()
    out = []
    for cell in cells:
        if id(cell) in dropped:
            continue
        if not is_label(cell.text):
            below = _below(by_page[cell.page], cell)
            if below is not None and is_label(f"{cell.text} {below.text}"):
                dropped.add(id(below))
                cell = Cell(
                    cell.page, cell.x0, max(cell.x1, below.x1), cell.top, cell.height, f"{cell.text} {below.text}"
                )
        out.append(cell)
    return [c for c in out if id(c) not in dropped]


def reading_order(cells: Iterable[Cell]) -> list[Cell]:
    """Top to bottom, left to right, page by page (cells within a third of a line count as one line)."""
    ordered = sorted(cells, key=lambda c: (c.page, c.top, c.x0))
    lines: list[list[Cell]] = []
    for cell in ordered:
        last = lines[-1] if lines else None
        if last and last[0].page == cell.page and cell.top - last[0].top <= cell.height / 3:
            last.append(cell)
        else:
            lines.append([cell])
    return [cell for line in lines for cell in sorted(line, key=lambda c: c.x0)]


def column_order(cells: list[Cell], is_label) -> list[Cell]:
    """Column by column, top to bottom in each: a card's rows are read before the next column's.

    The columns start where the labels start: the left edges of the cells `is_label` accepts, clustered (a new
    column where the next label starts more than a fifth of the page further right).
    """
    starts: dict[int, list[float]] = {}
    for page in {c.page for c in cells}:
        on_page = [c for c in cells if c.page == page]
        width = max(c.x1 for c in on_page) - min(c.x0 for c in on_page)
        lefts = sorted(c.x0 for c in on_page if is_label(c.text))
        columns: list[float] = []
        for x in lefts:
            if not columns or x - columns[-1] > width / 5:
                columns.append(x)
        starts[page] = [x - 3 * max(c.height for c in on_page) for x in columns[1:]]

    def column(cell: Cell) -> int:
        return sum(1 for x in starts[cell.page] if cell.x0 >= x)

    return sorted(reading_order(cells), key=lambda c: (c.page, column(c)))


def same_line(a: Cell, b: Cell) -> bool:
    return a.page == b.page and abs(a.top - b.top) <= min(a.height, b.height) / 3


@dataclass(frozen=True)
class Pair:
    label: str
    value: str
    cell: Cell
    parent: str | None = None  # the label this one is indented under ("Slice group", "FOV RL (mm)")
    parent_value: str | None = None  # what is printed beside that parent ("1" for "Slice group  1")


def pairs(cells: list[Cell], is_label, wrap=lambda value: False) -> list[Pair]:
    """(label, value) for every cell `is_label` accepts, in reading order.

    The value is the next cell to the right on the label's line (unless that is a label itself). A value that
    `wrap` says is unfinished ("1.25 / 1.50 /") continues with the cell just below it at the same left edge.
    The parent is the nearest cell above whose left edge is a little left of the label's (an indented block).
    """
    by_page: dict[int, list[Cell]] = {}
    for cell in cells:
        by_page.setdefault(cell.page, []).append(cell)
    found = []
    for cell in column_order(cells, is_label):
        if not is_label(cell.text):
            continue
        page = by_page[cell.page]
        value_cell = _right_of(page, cell)
        parent = _parent(page, cell)
        parent_value = _right_of(page, parent) if parent else None
        context = (parent.text if parent else None, parent_value.text if parent_value else None)
        if value_cell is None or is_label(value_cell.text):
            found.append(Pair(cell.text, "", cell, *context))
            continue
        value = value_cell.text
        below = value_cell
        for _ in range(4):
            if not wrap(value):
                break
            nxt = _below(page, below)
            if nxt is None or is_label(nxt.text) or _labelled(page, nxt, is_label):
                break  # the next row's value (a label of its own on its line), never this value's continuation
            value, below = f"{value} {nxt.text}", nxt
        found.append(Pair(cell.text, value, cell, *context))
    return found


def _labelled(page: list[Cell], cell: Cell, is_label) -> bool:
    """Whether the nearest cell left of `cell` on its line is a label: `cell` is then that label's value."""
    left = [c for c in page if same_line(c, cell) and c.x1 <= cell.x0 + 0.5 and c is not cell]
    nearest = max(left, key=lambda c: c.x1, default=None)
    return nearest is not None and is_label(nearest.text)


def _right_of(page: list[Cell], cell: Cell) -> Cell | None:
    right = [c for c in page if same_line(c, cell) and c.x0 >= cell.x1 - 0.5 and c is not cell]
    return min(right, key=lambda c: c.x0, default=None)


def _below(page: list[Cell], cell: Cell) -> Cell | None:
    near = max(2.0, cell.height / 2)
    candidates = [c for c in page if 0 < c.top - cell.top <= 1.8 * cell.height and abs(c.x0 - cell.x0) <= near]
    return min(candidates, key=lambda c: c.top, default=None)


def _parent(page: list[Cell], cell: Cell) -> Cell | None:
    """The nearest cell above whose left edge is a little left of this one's: the block it is indented in."""
    window = 4 * cell.height
    above = [c for c in page if c.top < cell.top - cell.height / 3 and cell.x0 - window <= c.x0 < cell.x0 - 1.0]
    nearest = max(above, key=lambda c: c.top, default=None)
    return nearest
