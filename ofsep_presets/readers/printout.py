"""The vendors' own printouts of their protocols (PDF, text, HTML), picked by what they print, not by name.

Sites and studies publish protocols as the console's printout far more often than as an export: Siemens
print-protocol PDFs, Philips ExamCard printouts, GE Protocol Exchange reports. One reader takes every printout:
it turns the document into positioned text cells (`printout_layout`) and hands them to the vendor's module,
chosen by the vendor's own heading ("SIEMENS MAGNETOM", "Philips MRI Protocol Dump", GE's "PATIENT POSITION"
tables). A PDF that is none of these (our own checklists, a paper) is not taken for a printout.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

from .. import xmlsafe
from ..acquisition import Inspection, ReadError
from . import ge_report, philips_param_text, philips_printout, siemens_printout
from .printout_layout import MAX_TEXT_BYTES, pdf_cells, text_cells

FORMAT = "printout"  # refined in the Inspection: siemens-printout, philips-printout, ge-report
SNIFF_PAGES = 2
_PHILIPS_FIRST_LINE = b"Philips MRI Protocol Dump"
_TEXT_MARKERS = (
    re.compile(rb"SIEMENS MAGNETOM[^\n]*\n(?:.*\n){0,12}?\s*\\\\"),
    re.compile(rb"Philips MRI Protocol Dump|INFO PAGE\s+GEOMETRY\s+CONTRAST"),
    re.compile(rb"Protocol: [^\n]*\n(?:.*\n){0,3}?.*(?:IMAGING PARAMETERS|PATIENT POSITION)"),
)
VENDORS = (
    ("siemens", siemens_printout.is_siemens, siemens_printout.read_cells),
    ("philips", philips_printout.is_philips, philips_printout.read_cells),
    ("ge", ge_report.is_ge, ge_report.read_cells),
)
FORMATS = {"siemens": "siemens-printout", "philips": "philips-printout", "ge": "ge-report"}


def sniff(path: Path, head: bytes) -> bool:
    if head.startswith(b"%PDF-"):
        cells = _first_pages(path)
        # A PDF that cannot be laid out at all is taken, so that `read` says why (damaged, truncated, no page)
        # instead of "not a format": a vendor printout cut in transfer is still the user's printout.
        return cells is None or _vendor(cells) is not None
    if ge_report.is_html(head):
        return True
    if b"\0" in head:
        return False
    if philips_param_text.sniff(head):
        return True
    # Our own documents quote console titles and paths (a Siemens checklist: "SIEMENS MAGNETOM 3 T", "\\USER\..."):
    # not printouts. Our Philips sheet is one, in the console's layout: it starts as the printout does.
    if b"ofsep-presets" in head and not head.startswith(_PHILIPS_FIRST_LINE):
        return False
    return any(marker.search(head) for marker in _TEXT_MARKERS)


def _first_pages(path: Path):
    """The first pages' cells, or None when the PDF cannot be read at all."""
    try:
        return pdf_cells(path, warnings=[], first_pages=SNIFF_PAGES)
    except ReadError:
        return None


def _vendor(cells):
    return next(((vendor, read) for vendor, test, read in VENDORS if cells and test(cells)), None)


def _whole_lines(text: str, name: str, warnings: list[str]) -> tuple[str, bool]:
    """The printout's text up to its last whole line, and whether a line was left out. A printout ends its lines
    (pdftotext ends each page with a form feed); a last line without its end was cut (a truncated copy), and may be
    cut inside its value: "Act. TR (ms) 3500" cut to "Act. TR (ms) 3" read TR 3 ms, "slices 192" read 1 slice. That
    line is not read, and said; the flag (not the warning's wording) tells the caller the file was cut."""
    stripped = text.rstrip(" \t")
    if not stripped or stripped[-1] in "\n\r\f":
        return text, False
    cut = stripped.rfind("\n")
    last = " ".join(stripped[cut + 1 :].split())
    warnings.append(f"{name}: its last line does not end (the file is cut short?); {last[:60]!r} not read")
    return stripped[: cut + 1], True


def read(path: Path) -> Inspection:
    with path.open("rb") as handle:
        head = handle.read(4096)
    warnings: list[str] = []
    if head.startswith(b"%PDF-"):
        cells = pdf_cells(path, warnings=warnings)
        kind, cut = "PDF", cells.cut
    elif ge_report.is_html(head):
        return ge_report.read_html(path)
    else:
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise ReadError(f"{path}: larger than any printout ({MAX_TEXT_BYTES // 2**20} MiB); refused")
        data = path.read_bytes()
        with contextlib.suppress(UnicodeDecodeError):  # a printout saved as UTF-16 ("Unicode" on Windows)
            data = xmlsafe.as_utf8(data)
        text = data.decode("utf-8", errors="replace")
        whole, cut = _whole_lines(text, path.name, warnings)
        if philips_param_text.sniff(data[:4096]):
            return philips_param_text.read_text(whole, str(path), path.name, warnings)
        cells = text_cells(whole)
        kind = "text"
    found = _vendor(cells)
    if found is None:
        raise ReadError(f"{path}: a {kind} file that is not a Siemens, Philips or GE protocol printout")
    vendor, read_cells = found
    if vendor != "ge":  # text at a right angle is a GE report's margin series name; others print none we read
        cells = [c for c in cells if not c.rotated]
    inspection = read_cells(cells, str(path), FORMATS[vendor], path.name)
    if cut and inspection.acquisitions:
        # The scan the cut fell in has lost its later rows: its family, inferred from the rows it still has (a
        # TFE without its prepulse row reads as spoiled GRE, not MPRAGE), is not inferred at all.
        last = inspection.acquisitions[-1]
        if "sequence_family" in last.params:
            del last.params["sequence_family"], last.provenance["sequence_family"]
            warnings.append(f"{last.name}: cut short, its sequence family is not inferred from the rows left")
    inspection.warnings[:0] = warnings
    return inspection
