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

from .. import ascconv, limits
from ..acquisition import Acquisition, Inspection, ReadError, scanner_from
from ..families import set_family

FORMAT = "siemens-exar1"
SQLITE_MAGIC = b"SQLite format 3\x00"
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
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    # SQLite itself refuses any string or blob past the cap, stored or computed (a generated column of
    # randomblob(400 MB) per row): the cap holds inside the query, before Python sees a byte.
    con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, min(limits.get("read_bytes"), 2**31 - 1))
    return con


def _inflate(blob: bytes, where: str) -> dict:
    cap = limits.get("inflate_bytes")
    inflater = zlib.decompressobj(-15)
    data = inflater.decompress(blob, cap)
    if inflater.unconsumed_tail:
        raise limits.refusal("inflate_bytes", f"{where}: a record")
    text = data.decode("utf-8-sig", errors="replace")
    if not text.startswith("EDF V1:"):
        raise ReadError(f"{where}: a record is not an EDF object")
    return json.loads(text.split(";", 1)[1])


class _Contents:
    """The Content records the steps need, read in one pass over the table (no per-lookup scan of an unindexed
    table) and inflated once each (a label shared by every step is not re-inflated per step); the blobs kept
    count against limit `inflate_total`."""

    def __init__(self, con: sqlite3.Connection, needed: set, where: str):
        self._where = where
        self._blobs: dict[object, bytes] = {}
        self._cache: dict[object, dict] = {}
        budget = limits.Budget(where)
        for digest, data in con.execute("select Hash, Data from Content"):
            if digest in needed and digest not in self._blobs and isinstance(data, bytes):
                budget.spend(len(data))
                self._blobs[digest] = data

    def get(self, digest: object, what: str) -> dict:
        if digest not in self._cache:
            blob = self._blobs.get(digest)
            if blob is None:
                raise ReadError(f"{self._where}: missing content for {what}")
            record = _inflate(blob, self._where)
            self._cache[digest] = record if isinstance(record, dict) else {}
        return self._cache[digest]


def read(path: Path) -> Inspection:
    inspection = Inspection(source=str(path), format=FORMAT)
    try:
        with _connect(path) as con:
            return _read(con, path, inspection)
    except sqlite3.Error as exc:
        if "too big" in str(exc):
            raise limits.refusal("read_bytes", f"{path}: a database value") from None
        raise ReadError(f"{path}: not a readable .exar1 database ({exc})") from None


def _read(con: sqlite3.Connection, path: Path, inspection: Inspection) -> Inspection:
    cap = limits.get("members")
    rows = con.execute(
        "select Element_id, ContentHash, Children, ParentElementId, LabelElement_id, InstanceType from Instance "
        "limit ?",
        (cap + 1,),
    ).fetchall()
    limits.check("members", len(rows), f"{path}: Instance rows")
    by_element = {r[0]: r for r in rows}
    # Labels of steps, programs and folders (the program path of the exam model), contents of protocols and
    # programs (a program may state its BodyPartExamined): inflated once each.
    wanted = {"EdfProtocol", "EdfMeasurementStep", "EdfProgram", "EdfDirectory"}
    needed = {r[1] for r in rows if r[5] in ("EdfProtocol", "EdfProgram")}
    needed |= {by_element[r[4]][1] for r in rows if r[5] in wanted and r[4] in by_element}
    contents = _Contents(con, needed, str(path))

    def content(row) -> dict:
        return contents.get(row[1], f"{row[5]} {row[0]}")

    def label(row) -> str:
        target = by_element.get(row[4])
        if target is None:
            return "unnamed"
        texts = content(target).get("Texts") or {}
        if not isinstance(texts, dict):
            return "unnamed"
        return next((str(v) for k, v in texts.items() if not str(k).startswith("$")), "unnamed")

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
            limits.check("members", len(children) // 16, "an .exar1 program's steps")
            for i in range(0, len(children), 16):
                order.setdefault(str(uuid.UUID(bytes_le=children[i : i + 16])), len(order))
    return order


def acquisition_from_protocol(name: str, xprotocol: str, where: str, named_by_file: bool = False) -> Acquisition:
    """One acquisition from XProtocol/ASCCONV text (shared by .exar1, .edx and .pro).

    `named_by_file`: `name` is only the file's name (a .pro or bare ASCCONV text, not a named exam step); the
    protocol's own tProtocolName, where it states one, names the acquisition instead.
    """
    values = ascconv.parse(xprotocol)
    stated = ascconv.protocol_name(values) if named_by_file else None
    name = stated or name
    acq = Acquisition(name)
    acq.set("manufacturer", "siemens", f"{where} (Siemens protocol format)")
    acq.set("series_description", name, f"{where} tProtocolName" if stated else f"{where} step name")
    ascconv.to_acquisition(values, acq, where)
    ascconv.scanner_to_acquisition(values, acq, where)
    set_family(acq, where, sequence_name=str(values.get("tSequenceFileName", "")), description=name)
    coil = ascconv.coils(values)
    if coil:
        acq.context["coil"] = coil
    return acq
