"""Siemens print-protocol XML (syngo "print to XML", VE and XA): the console's own cards, label by label.

Each `PrintProtocol/Protocol` is one program step: `HeaderProtPath` names it, `HeaderProperty` carries the voxel
size, and `Card/ProtParameter` pairs carry `Label` and `ValueAndUnit` exactly as the console prints them. The same
value is printed on several cards (TR on Routine, Contrast and Physio): the first one is kept. Labels are matched
through the Siemens vocabulary, whose aliases cover the VE and XA spellings ("Dist. factor" / "Distance Factor");
in a slice or slab group only group 1 is read. Values the card prints as words ("Minimum") stay absent.
"""

from __future__ import annotations

import re
from pathlib import Path

from .. import xmlsafe
from ..acquisition import Inspection, ReadError, scanner_from
from ..families import set_family
from ..vendors import all_vendors
from .vocabulary import acquisition_from_vendor_values

FORMAT = "siemens-printxml"
MAX_BYTES = 64 * 1024 * 1024


def sniff(path: Path, head: bytes) -> bool:
    return b"<PrintOut" in head and b"ofsep-presets" not in head


def read(path: Path) -> Inspection:
    if path.stat().st_size > MAX_BYTES:
        raise ReadError(f"{path}: larger than any print-protocol XML ({MAX_BYTES // 2**20} MiB)")
    root = xmlsafe.parse(path.read_bytes(), f"{path}", huge=True)
    if root.tag != "PrintOut":
        raise ReadError(f"{path}: not a Siemens print-protocol XML (root <{root.tag}>)")
    siemens = all_vendors()["siemens"]
    fields = [f for f in siemens.fields() if f.convert != "voxel_text"]
    inspection = Inspection(source=str(path), format=FORMAT)
    for protocol in root.iter("Protocol"):
        step = (protocol.findtext(".//HeaderProtPath") or protocol.get("Id") or "").strip()
        name = step.rstrip(" *").rsplit("\\", 1)[-1].strip()
        title = protocol.findtext("HeaderTitle") or ""
        field = re.search(r"(\d+(?:\.\d+)?)\s*T\b", title)
        entries, seen = [], set()
        geometry: dict[str, str] = {}
        for parameter in protocol.iter("ProtParameter"):
            if parameter.get("GroupId") not in (None, "1"):
                continue
            label = " ".join((parameter.findtext("Label") or "").split())
            value = " ".join((parameter.findtext("ValueAndUnit") or "").split())
            if label.lower() in RESOLUTION and label.lower() not in geometry:
                geometry[label.lower()] = value
            match = next((f for f in fields if f.named(label)), None)
            if match is None or (match.param, match.label) in seen:
                continue
            seen.add((match.param, match.label))
            entries.append((match.param, match.label, value))
        voxel = re.search(r"Voxel Size:\s*([\d.]+\s*[×x*]\s*[\d.]+\s*[×x*]\s*[\d.]+)", _header(protocol))
        if voxel:
            entries.append(("voxel_size_mm", "Voxel size", voxel.group(1)))
        where = f"{path.name} {name}"
        acq = acquisition_from_vendor_values(name, entries, siemens, float(field.group(1)) if field else None, where)
        if acq.get("acquisition_type") == "3D":  # a 3D slab's distance factor is between slabs, not slices
            acq.params.pop("slice_gap_mm", None)
            acq.provenance.pop("slice_gap_mm", None)
        set_family(acq, where, description=name)
        _resolution(acq, geometry, where)
        acq.context["source"] = str(path)
        if "\\" in step:
            acq.context["program"] = step.rstrip(" *").rsplit("\\", 1)[0]
        inspection.acquisitions.append(acq)
    if not inspection.acquisitions:
        raise ReadError(f"{path}: a print-protocol XML without any <Protocol>")
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


# The Resolution card's numbers that make the acquired voxel (derived.py): label (VE and XA spellings) -> param.
RESOLUTION = {
    "base resolution": "base_resolution",
    "phase resolution": "phase_resolution_pct",
    "slice resolution": "slice_resolution_pct",
    "interpolation": "interpolation",
}


def _resolution(acq, geometry: dict[str, str], where: str) -> None:
    for label, value in geometry.items():
        param = RESOLUTION[label]
        if param == "interpolation":
            if value in ("On", "Off"):
                acq.set(param, value == "On", f"{where} {label}={value}")
            continue
        number = re.match(r"\s*(\d+(?:\.\d+)?)", value)
        if number:
            acq.set(param, float(number.group(1)), f"{where} {label}={value}")


def _header(protocol) -> str:
    return " ".join((protocol.findtext(".//HeaderProperty") or "").split())
