"""Siemens .exar1 exam archives (VE11 and XA): an SQLite database of DEFLATE-compressed JSON objects.

Tree: EdfProgram -> EdfMeasurementStep (named by its label EdfString) -> EdfProtocol, whose JSON `Data` is
XProtocol text ending in an ASCCONV block (mapped by `ascconv`). The database is opened read-only and immutable
(nothing, not even a lock or journal file, is written beside the user's file); each blob is inflated under a cap.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
import zlib
from pathlib import Path

from .. import ascconv
from ..acquisition import Acquisition, Inspection, ReadError, scanner_from
from ..families import set_family

FORMAT = "siemens-exar1"
SQLITE_MAGIC = b"SQLite format 3\x00"
MAX_INFLATED = 64 * 1024 * 1024  # one protocol is ~1 MB; a blob inflating past this is refused
REQUIRED_TABLES = {"Content", "Instance"}


def sniff(path: Path, head: bytes) -> bool:
    if not head.startswith(SQLITE_MAGIC):
        return False
    try:
        with _connect(path) as con:
            tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
    except sqlite3.Error:
        return False
    return tables >= REQUIRED_TABLES


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


def _inflate(blob: bytes, where: str) -> dict:
    inflater = zlib.decompressobj(-15)
    data = inflater.decompress(blob, MAX_INFLATED)
    if inflater.unconsumed_tail:
        raise ReadError(f"{where}: a record inflates past {MAX_INFLATED // 2**20} MiB (the cap); refused")
    text = data.decode("utf-8-sig", errors="replace")
    if not text.startswith("EDF V1:"):
        raise ReadError(f"{where}: a record is not an EDF object")
    return json.loads(text.split(";", 1)[1])


def read(path: Path) -> Inspection:
    inspection = Inspection(source=str(path), format=FORMAT)
    try:
        with _connect(path) as con:
            rows = con.execute(
                "select Element_id, ContentHash, Children, ParentElementId, LabelElement_id, InstanceType from Instance"
            ).fetchall()
            blobs = dict(con.execute("select Hash, Data from Content").fetchall())
    except sqlite3.Error as exc:
        raise ReadError(f"{path}: not a readable .exar1 database ({exc})") from None
    by_element = {r[0]: r for r in rows}

    def content(row) -> dict:
        blob = blobs.get(row[1])
        if blob is None:
            raise ReadError(f"{path}: missing content for {row[5]} {row[0]}")
        return _inflate(blob, str(path))

    def label(row) -> str:
        target = by_element.get(row[4])
        if target is None:
            return "unnamed"
        texts = content(target).get("Texts") or {}
        return next((str(v) for k, v in texts.items() if not k.startswith("$")), "unnamed")

    protocols = {r[3]: r for r in rows if r[5] == "EdfProtocol"}
    steps = [r for r in rows if r[5] == "EdfMeasurementStep"]
    programs = [r for r in rows if r[5] == "EdfProgram"]
    # An export of one program carries the folders of its path (flat: their nesting is not in the file, but
    # with a single program every folder is on its path); with several programs only each program's name is sure.
    folders = [label(r) for r in rows if r[5] == "EdfDirectory" and label(r) not in ("Root", "unnamed")]
    order = _child_order(rows)
    steps.sort(key=lambda r: order.get(r[0], len(order)))
    for step in steps:
        protocol = protocols.get(step[0])
        name = label(step)
        if protocol is None:
            inspection.warnings.append(f"step {name!r} has no protocol; skipped")
            continue
        data = content(protocol).get("Data")
        if not isinstance(data, str) or ascconv.find_block(data) is None:
            inspection.warnings.append(f"step {name!r}: no ASCCONV block in its protocol; skipped")
            continue
        acq = acquisition_from_protocol(name, data, f"{path.name} step {name!r} ASCCONV")
        acq.context["source"] = str(path)
        program = by_element.get(step[3])
        if program is not None and program[5] == "EdfProgram":
            parts = ([*folders] if len(programs) == 1 else []) + [label(program)]
            acq.context["program"] = "\\" + "\\".join(parts)
            part = str(content(program).get("BodyPartExamined") or "")
            if part:
                acq.context["body_part"] = part
        inspection.acquisitions.append(acq)
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def _child_order(rows) -> dict[str, int]:
    """Programs list their steps as concatenated little-endian GUIDs: the console's step order."""
    order: dict[str, int] = {}
    for row in rows:
        children = row[2]
        if row[5] == "EdfProgram" and isinstance(children, bytes) and len(children) % 16 == 0:
            for i in range(0, len(children), 16):
                order.setdefault(str(uuid.UUID(bytes_le=children[i : i + 16])), len(order))
    return order


def acquisition_from_protocol(name: str, xprotocol: str, where: str) -> Acquisition:
    """One acquisition from XProtocol/ASCCONV text (shared by .exar1, .edx and .pro)."""
    values = ascconv.parse(xprotocol)
    acq = Acquisition(name)
    acq.set("manufacturer", "siemens", f"{where} (Siemens protocol format)")
    acq.set("series_description", name, f"{where} step name")
    ascconv.to_acquisition(values, acq, where)
    ascconv.scanner_to_acquisition(values, acq, where)
    set_family(acq, where, sequence_name=str(values.get("tSequenceFileName", "")), description=name)
    coil = ascconv.coils(values)
    if coil:
        acq.context["coil"] = coil
    return acq
