"""Siemens print-protocol XML (syngo "print to XML", VE and XA): the console's own cards, label by label.

Each `PrintProtocol/Protocol` is one program step: `HeaderProtPath` names it, `HeaderProperty` carries the voxel
size, and `Card/ProtParameter` pairs carry `Label` and `ValueAndUnit` exactly as the console prints them. The same
value is printed on several cards (TR on Routine, Contrast and Physio): the first one is kept. Labels are matched
through the Siemens vocabulary, whose aliases cover the VE and XA spellings ("Dist. factor" / "Distance Factor");
in a slice or slab group only group 1 is read. Values the card prints as words ("Minimum") stay absent.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .. import xmlsafe
from ..acquisition import Acquisition, Inspection, ReadError, orientation_from_normal, scanner_from
from ..families import set_family
from ..vendors import all_vendors
from .siemens_printout_extras import add_printed_values, printed_sequence_name
from .vocabulary import acquisition_from_vendor_values

FORMAT = "siemens-printxml"
MAX_BYTES = 64 * 1024 * 1024


def sniff(path: Path, head: bytes) -> bool:
    return b"<PrintOut" in head


def read(path: Path) -> Inspection:
    if path.stat().st_size > MAX_BYTES:
        raise ReadError(f"{path}: larger than any print-protocol XML ({MAX_BYTES // 2**20} MiB)")
    root, problem = xmlsafe.parse_salvaged(path.read_bytes(), f"{path}", huge=True)
    if root.tag != "PrintOut":
        raise ReadError(f"{path}: not a Siemens print-protocol XML (root <{root.tag}>)")
    inspection = Inspection(source=str(path), format=FORMAT)
    parts = _protocols(root)
    if problem:
        # Cut short (a truncated copy): the parser closed what the cut left open, so the last step's last value
        # may be cut inside ("2300 ms" read as "23"); that step is not read, the whole steps before it are.
        cut = parts.pop() if parts else None
        inspection.warnings.append(
            f"{path.name}: not a complete print-protocol XML ({problem}): "
            + (f"step {step_name(cut.path or '')!r}, where the cut fell, not read; " if cut is not None else "")
            + f"the {len(parts)} step(s) before it are read"
        )
    for part in parts:  # one walk of the tree: nested Protocols stay linear
        protocol = part.element
        step = (part.path or protocol.get("Id") or "").strip()
        labelled = [
            (" ".join((p.findtext("Label") or "").split()), " ".join((p.findtext("ValueAndUnit") or "").split()))
            for p in part.parameters
            if p.get("GroupId") in (None, "1")
        ]
        title = protocol.findtext("HeaderTitle") or ""
        header = " ".join(part.header.split())
        inspection.acquisitions.append(acquisition_from_card(step, labelled, title, header, path.name))
    if not inspection.acquisitions:
        raise ReadError(f"{path}: a print-protocol XML without any <Protocol>")
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def step_name(step: str) -> str:
    """The step's name from its printed path (\\\\USER\\...\\T1w, a trailing '*' marks an edited step)."""
    return step.strip().rstrip(" *").rsplit("\\", 1)[-1].strip()


def acquisition_from_card(
    step: str, labelled, title: str, header: str, where: str, sequence_name: str = ""
) -> Acquisition:
    """One step from its printed (label, value) pairs, as the console prints them on its cards (XML or PDF).

    The first printing of a label wins (TR is printed on Routine, Contrast and Physio alike); the header's
    "Voxel size: a×b×c mm" is read in its printed order (`siemens_printout_extras`); the title's "3.0T", where
    printed, the field strength.
    """
    siemens = all_vendors()["siemens"]
    fields = [f for f in siemens.fields() if f.convert != "voxel_text"]
    name = step_name(step)
    field_strength = re.search(r"(\d+(?:\.\d+)?)\s*T\b", title)
    entries, seen = [], set()
    labelled = _b_values_joined(labelled)
    for label, value in labelled:
        match = next((f for f in fields if f.named(label)), None)
        if match is None or (match.param, match.label) in seen:
            continue
        if match.unit and value.endswith(match.unit) and not value.endswith(" " + match.unit):
            value = f"{value[: -len(match.unit)].rstrip()} {match.unit}"  # "0%" as VB prints some: "0 %"
        if match.param == "orientation":
            value = _tilted_orientation(value, siemens.words["orientation"])
        seen.add((match.param, match.label))
        entries.append((match.param, label, value))
    where = f"{where} {name}"
    acq = acquisition_from_vendor_values(
        name, entries, siemens, float(field_strength.group(1)) if field_strength else None, where
    )
    add_printed_values(acq, labelled, title, header, where)  # the voxel's ingredients, the header voxel's order
    if name and "series_description" not in acq.params:
        # The step's name is the protocol name the console writes as the series' ProtocolName and description,
        # as the exports of the same program name it (.exar1/.edx: the step, or tProtocolName).
        acq.set("series_description", name, f"{where} printed step path")
    for param, value in title_scanner(title).items():
        if param not in acq.params:
            acq.set(param, value, f"{where} printed title {' '.join(title.split())!r}")
    if acq.get("acquisition_type") == "3D":  # a 3D slab's distance factor is between slabs, not slices
        acq.params.pop("slice_gap_mm", None)
        acq.provenance.pop("slice_gap_mm", None)
    sequence_name = sequence_name or printed_sequence_name(labelled)
    set_family(acq, where, sequence_name=sequence_name, sequence_file=sequence_name, description=name)
    program = step.strip().rstrip(" *").rsplit("\\", 1)[0].rstrip("\\")
    if program and program != step.strip():  # the folders above the step: its program in the console's tree
        acq.context.setdefault("program", program)
    return acq


_TITLE = re.compile(r"^\s*SIEMENS\s+MAGNETOM\s+(.*?)\s*$")
_TITLE_SOFTWARE = re.compile(r"\b(?:syngo\s+MR\s+\S+|Numaris/X\s+\S+)")
_TITLE_FIELD = re.compile(r"^\d+(?:\.\d+)?\s*T$")


def title_scanner(title: str) -> dict[str, str]:
    """The system the printout's page title names: "SIEMENS MAGNETOM TrioTim syngo MR B17" (VB), "SIEMENS
    MAGNETOM Prisma_fit" (VE), "SIEMENS MAGNETOM 3.0T X60 Numaris/X VA61A-092T" or "SIEMENS MAGNETOM Numaris/X
    VA31A-1" (XA). The software as printed ("syngo MR B17", "Numaris/X VA61A-092T"); the model where VB/VE print
    it, one word after MAGNETOM (as DICOM ManufacturerModelName spells it: TrioTim, Prisma_fit). XA prints its
    field and a system word ("X60") that no source here ties to a model name: no model is taken from it."""
    found = _TITLE.match(title or "")
    if not found:
        return {}
    rest = found.group(1)
    out: dict[str, str] = {}
    software = _TITLE_SOFTWARE.search(rest)
    if software:
        out["software_version"] = " ".join(software.group(0).split())
    before = rest[: software.start()].split() if software else rest.split()
    numaris_x = bool(software) and software.group(0).startswith("Numaris")
    if len(before) == 1 and not numaris_x and not _TITLE_FIELD.match(before[0]):
        out["model"] = before[0]
    return out


_B_VALUE_ROW = re.compile(r"^b-value\s+\d+$", re.I)
_B_VALUE = re.compile(r"^(-?[\d.]+)\s*s/mm²$")


def _b_values_joined(labelled: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The card's "b-value 1  0 s/mm²", "b-value 2  800 s/mm²" rows as one "b-values" entry (rows without the
    unit, printed under the same label, are the averages of each b-value and are not b-values)."""
    rows = [(label, value) for label, value in labelled if _B_VALUE_ROW.match(label)]
    found = [m.group(1) for _, value in rows if (m := _B_VALUE.match(value))]
    if not found:
        return labelled
    rest = [(label, value) for label, value in labelled if not _B_VALUE_ROW.match(label)]
    return [*rest, ("b-values", ", ".join(dict.fromkeys(found)) + " s/mm²")]


_TILTED = re.compile(r"^([STC])\s*>\s*([STC])\s*(-?\d+(?:\.\d+)?)?$")
_AXES = {"S": 0, "C": 1, "T": 2}


def _tilted_orientation(value: str, words: dict[str, str]) -> str:
    """XA prints a tilted slice as "S > T-0.9" (sagittal, tilted 0.9 deg towards transversal): its main plane."""
    tilted = _TILTED.match(value)
    if not tilted:
        return value
    main, towards, angle = tilted.group(1), tilted.group(2), math.radians(abs(float(tilted.group(3) or 0)))
    normal = [0.0, 0.0, 0.0]
    normal[_AXES[main]] = math.cos(angle)
    normal[_AXES[towards]] = math.sin(angle)
    return words.get(orientation_from_normal(normal), value)


def _header(protocol) -> str:
    return " ".join((protocol.findtext(".//HeaderProperty") or "").split())


@dataclass
class _Part:
    element: etree._Element
    path: str | None = None
    header: str = ""
    parameters: list = field(default_factory=list)


def _protocols(root) -> list[_Part]:
    """Each <Protocol> with its step path, header and parameters, gathered in one walk of the tree.

    Each element belongs to its innermost <Protocol>: asking every Protocol for all its descendants made
    nested Protocols quadratic (each level re-walked everything below it).
    """
    parts: list[_Part] = []
    stack: list[_Part] = []
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if element.tag == "Protocol":
            if event == "start":
                stack.append(_Part(element))
                parts.append(stack[-1])
            else:
                stack.pop()
        elif event == "start" and stack:
            top = stack[-1]
            if element.tag == "ProtParameter":
                top.parameters.append(element)
            elif element.tag == "HeaderProtPath" and top.path is None:
                top.path = element.text or ""
            elif element.tag == "HeaderProperty" and not top.header:
                top.header = element.text or ""
    return parts
