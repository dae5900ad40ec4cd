"""Siemens print-protocol XML (syngo "print to XML", VE and XA): the console's own cards, label by label.

Each `PrintProtocol/Protocol` is one program step: `HeaderProtPath` names it, `HeaderProperty` carries the voxel
size, and `Card/ProtParameter` pairs carry `Label` and `ValueAndUnit` exactly as the console prints them. The same
value is printed on several cards (TR on Routine, Contrast and Physio): the first one is kept. Labels are matched
through the Siemens vocabulary, whose aliases cover the VE and XA spellings ("Dist. factor" / "Distance Factor");
in a slice or slab group only group 1 is read. Values the card prints as words ("Minimum") stay absent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from .. import limits, xmlsafe
from ..acquisition import Inspection, ReadError, scanner_from
from ..families import set_family
from ..vendors import all_vendors
from .vocabulary import acquisition_from_vendor_values

FORMAT = "siemens-printxml"


def sniff(path: Path, head: bytes) -> bool:
    return b"<PrintOut" in head and b"ofsep-presets" not in head


def read(path: Path) -> Inspection:
    root = xmlsafe.parse(limits.read_file(path), f"{path}", huge=True)
    if root.tag != "PrintOut":
        raise ReadError(f"{path}: not a Siemens print-protocol XML (root <{root.tag}>)")
    siemens = all_vendors()["siemens"]
    fields = [f for f in siemens.fields() if f.convert != "voxel_text"]
    inspection = Inspection(source=str(path), format=FORMAT)
    for part in _protocols(root):
        protocol = part.element
        step = (part.path or protocol.get("Id") or "").strip()
        name = step.rstrip(" *").rsplit("\\", 1)[-1].strip()
        title = protocol.findtext("HeaderTitle") or ""
        strength = _FIELD.search(title)
        entries, seen = [], set()
        for parameter in part.parameters:
            if parameter.get("GroupId") not in (None, "1"):
                continue
            label = " ".join((parameter.findtext("Label") or "").split())
            value = " ".join((parameter.findtext("ValueAndUnit") or "").split())
            match = next((f for f in fields if f.named(label)), None)
            if match is None or (match.param, match.label) in seen:
                continue
            seen.add((match.param, match.label))
            entries.append((match.param, match.label, value))
        voxel = re.search(r"Voxel Size:\s*([\d.]+\s*[×x*]\s*[\d.]+\s*[×x*]\s*[\d.]+)", " ".join(part.header.split()))
        if voxel:
            entries.append(("voxel_size_mm", "Voxel size", voxel.group(1)))
        where = f"{path.name} {name}"
        acq = acquisition_from_vendor_values(
            name, entries, siemens, float(strength.group(1)) if strength else None, where
        )
        if acq.get("acquisition_type") == "3D":  # a 3D slab's distance factor is between slabs, not slices
            acq.params.pop("slice_gap_mm", None)
            acq.provenance.pop("slice_gap_mm", None)
        set_family(acq, where, description=name)
        inspection.acquisitions.append(acq)
    if not inspection.acquisitions:
        raise ReadError(f"{path}: a print-protocol XML without any <Protocol>")
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


# A field strength starts where a number starts (the look-behind): a title of 100,000 digits is one pass, not
# a retry from each digit.
_FIELD = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*T\b")


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
