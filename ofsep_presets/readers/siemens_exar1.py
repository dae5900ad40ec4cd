"""Siemens .exar1 exam archives (VE11 and XA): an SQLite database of DEFLATE-compressed JSON objects.

Tree: EdfProgram -> EdfMeasurementStep (named by its label EdfString) -> EdfProtocol, whose JSON `Data` is
XProtocol text ending in an ASCCONV block (mapped by `ascconv`). The database is opened read-only and immutable
(nothing, not even a lock or journal file, is written beside the user's file); each blob is inflated under a cap.
"""

from __future__ import annotations

import contextlib
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


# The schema an .exar1 declares on its first page: seen there even when the rest of the file is cut off.
SCHEMA_MARKS = (b"CREATE TABLE Content", b"CREATE TABLE Instance")


def sniff(path: Path, head: bytes) -> bool:
    if not head.startswith(SQLITE_MAGIC):
        return False
    try:
        with _connect(path) as con:
            tables = {r[0] for r in con.execute("select name from sqlite_master where type='table'")}
        if tables >= REQUIRED_TABLES:
            return True
    except sqlite3.Error:
        pass
    # A damaged or truncated .exar1 (SQLite refuses it as "malformed") is still one: its first page says so. A
    # file cut inside its first page cannot show its schema; no whole SQLite file is that short, so it is taken
    # as the incomplete .exar1 it most likely is (read() then says it is cut before its schema).
    with path.open("rb") as handle:
        first = handle.read(_page_size(head))
    return len(first) < _page_size(head) or all(mark in first for mark in SCHEMA_MARKS)


def _page_size(head: bytes) -> int:
    """SQLite's page size (header bytes 16-17, big-endian; 1 means 65536)."""
    size = int.from_bytes(head[16:18], "big") if len(head) >= 18 else 4096
    return 65536 if size == 1 else (size if 512 <= size <= 32768 and size & (size - 1) == 0 else 4096)


def _missing_bytes(data: bytes) -> int:
    """How many bytes short of the page count its header states the file is (0: complete, or it cannot tell).

    The in-header page count (bytes 28-31) is valid only when bytes 92-95 match the change counter (24-27)."""
    if len(data) < 100 or data[92:96] != data[24:28]:
        return 0
    expected = int.from_bytes(data[28:32], "big") * _page_size(data)
    if expected > limits.get("read_bytes"):
        return 0  # a header claiming more than any file read whole: no padding to that size (a memory bomb)
    return max(0, expected - len(data))


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

    def __init__(self, con: sqlite3.Connection, needed: set, where: str, salvage: bool = False):
        self._where = where
        self._blobs: dict[object, bytes] = {}
        self._cache: dict[object, dict] = {}
        budget = limits.Budget(where)
        for digest, data in _rows(con, "select Hash, Data from Content", (), salvage):
            if (salvage or digest in needed) and digest not in self._blobs and isinstance(data, bytes):
                budget.spend(len(data))
                self._blobs[digest] = data

    def unread(self, used: set) -> list[tuple[object, bytes]]:
        """The records not taken through the Instance tree (a damaged file's orphans), in table order."""
        return [(digest, blob) for digest, blob in self._blobs.items() if digest not in used]

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
    with path.open("rb") as handle:
        head = handle.read(100)
    missing = _missing_bytes_of(path, head)
    if not missing:
        try:
            with _connect(path) as con:
                return _read(con, path, inspection)
        except sqlite3.Error as exc:
            if "too big" in str(exc):
                raise limits.refusal("read_bytes", f"{path}: a database value") from None
            problem = str(exc)
    else:
        problem = f"{missing} bytes missing at its end (truncated)"
    return read_damaged(limits.read_file(path), path, problem)


def _missing_bytes_of(path: Path, head: bytes) -> int:
    size = path.stat().st_size
    if len(head) < 100 or head[92:96] != head[24:28]:
        return 0
    expected = int.from_bytes(head[28:32], "big") * _page_size(head)
    return max(0, expected - size) if expected <= limits.get("read_bytes") else 0


def read_bytes(data: bytes, where) -> Inspection:
    """An .exar1 held in memory (a member of a .zip): the same reading, from a deserialized database."""
    missing = _missing_bytes(data)
    if missing:
        return read_damaged(data, where, f"{missing} bytes missing at its end (truncated)")
    con = sqlite3.connect(":memory:")
    try:
        con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, min(limits.get("read_bytes"), 2**31 - 1))
        con.deserialize(data)
        return _read(con, where, Inspection(source=str(where), format=FORMAT))
    except sqlite3.Error as exc:
        return read_damaged(data, where, str(exc))
    finally:
        con.close()


def read_damaged(data: bytes, path: Path, problem: str) -> Inspection:
    """What a damaged or truncated .exar1 still holds: the database in memory, its missing pages as zeros, every
    row read up to the first unreadable page, each step without its protocol said; nothing read is an error that
    says the file is incomplete, never "not a format"."""
    inspection = Inspection(source=str(path), format=FORMAT)
    where = f"{path}: not a complete Siemens .exar1 file ({problem})"
    data = data + b"\0" * _missing_bytes(data)
    seen: set = set()
    failure = None
    con = sqlite3.connect(":memory:")
    try:
        con.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, min(limits.get("read_bytes"), 2**31 - 1))
        con.deserialize(data)
        _read(con, path, inspection, salvage=True, seen=seen)
    except sqlite3.Error as exc:
        failure = exc
    finally:
        con.close()
    # The records SQLite could not reach (their b-tree's interior pages lost), read from the leaf pages themselves.
    _orphan_protocols(_raw_blobs(data), seen, path, inspection)
    if not inspection.acquisitions:
        raise ReadError(f"{where}: {failure or 'no measurement step could be read'}")
    orphans = sum(1 for a in inspection.acquisitions if a.context.pop("step_lost", None))
    if orphans:
        inspection.warnings.append(f"{orphans} protocol(s) read without their step: order and program unknown")
    inspection.warnings.insert(
        0, f"{where}: {len(inspection.acquisitions)} step(s) read; whatever its missing part held is lost"
    )
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def _rows(con: sqlite3.Connection, sql: str, args: tuple, salvage: bool) -> list:
    """The query's rows; in a damaged database, those before the first unreadable page."""
    rows = []
    try:
        for row in con.execute(sql, args):
            rows.append(row)
    except sqlite3.DatabaseError:
        if not salvage:
            raise
    return rows


def _read(
    con: sqlite3.Connection, path: Path, inspection: Inspection, salvage: bool = False, seen: set | None = None
) -> Inspection:
    cap = limits.get("members")
    columns = {r[1] for r in con.execute("pragma table_info(Instance)")}
    object_id = "ObjectId" if "ObjectId" in columns else "NULL"  # the id the program's step links name
    rows = _rows(
        con,
        "select Element_id, ContentHash, Children, ParentElementId, LabelElement_id, InstanceType, "
        f"{object_id} from Instance limit ?",
        (cap + 1,),
        salvage,
    )
    limits.check("members", len(rows), f"{path}: Instance rows")
    by_element = {r[0]: r for r in rows}
    # Labels of steps, programs and folders (the program path of the exam model), contents of protocols and
    # programs (a program may state its BodyPartExamined): inflated once each.
    wanted = {"EdfProtocol", "EdfMeasurementStep", "EdfProgram", "EdfDirectory", "EdfPauseStep"}
    needed = {r[1] for r in rows if r[5] in ("EdfProtocol", "EdfProgram", "EdfPauseStep", "EdfStructure")}
    needed |= {by_element[r[4]][1] for r in rows if r[5] in wanted and r[4] in by_element}
    contents = _Contents(con, needed, str(path), salvage)

    def content(row, required: bool = True) -> dict:
        try:
            return contents.get(row[1], f"{row[5]} {row[0]}")
        except ReadError:
            if required or not salvage:
                raise
            return {}  # a label or program record in the lost part of a damaged file: the step reads unnamed

    def label(row) -> str:
        target = by_element.get(row[4])
        if target is None:
            return "unnamed"
        texts = content(target, required=False).get("Texts") or {}
        if not isinstance(texts, dict):
            return "unnamed"
        return next((str(v) for k, v in texts.items() if not str(k).startswith("$")), "unnamed")

    protocols = {r[3]: r for r in rows if r[5] == "EdfProtocol"}
    steps = [r for r in rows if r[5] == "EdfMeasurementStep"]
    programs = [r for r in rows if r[5] == "EdfProgram"]
    # An export of one program carries the folders of its path (flat: their nesting is not in the file, but
    # with a single program every folder is on its path); with several programs only each program's name is sure.
    folders = [label(r) for r in rows if r[5] == "EdfDirectory" and label(r) not in ("Root", "unnamed")]

    def optional(row) -> dict:
        """A record that only refines the reading (the folder tree, the step links): lost or unreadable, it is
        not there, and the reading falls back to what it did without it."""
        try:
            return content(row, required=False)
        except (ReadError, limits.LimitError, zlib.error, ValueError):
            return {}

    trees = _program_folders(rows, optional, label)

    def program_path(program) -> str:
        """The program's folders from the export's tree (EdfStructure), else, with one program, every folder."""
        above = trees.get(program[0])
        if above is None:
            above = [*folders] if len(programs) == 1 else []
        return "\\" + "\\".join([*above, label(program)])

    order, chained = _step_order(rows, programs, optional)
    stated: set[int] = set()  # the acquisitions whose step the program's chain placed (by id)
    linked = {by_element[e][3] for e in chained if e in by_element}  # programs whose chain was read

    def off_chain(step, acq: Acquisition) -> None:
        """A step of a linked program the chain does not reach: its place in the listing is the child list's, not
        the exam's order (matching reads no contrast phase from it)."""
        if step[0] in chained:
            stated.add(id(acq))
        elif step[3] in linked:
            acq.context["unordered"] = (
                "not on its program's step chain (FirstStepId/LinksFrom): placed by the child list"
            )

    pauses = [r for r in rows if r[5] == "EdfPauseStep"]
    steps = sorted(steps + pauses, key=lambda r: order.get(r[0], len(order)))
    used: set = set()
    for step in steps:
        if step[5] == "EdfPauseStep":
            injection = _injection(step, label(step), optional(step), path)
            if injection is not None:
                program = by_element.get(step[3])
                if program is not None and program[5] == "EdfProgram":
                    injection.context["program"] = program_path(program)
                off_chain(step, injection)
                inspection.acquisitions.append(injection)
            continue
        protocol = protocols.get(step[0])
        name = label(step)
        if protocol is None:
            inspection.warnings.append(f"step {name!r} has no protocol; skipped")
            continue
        try:
            data = content(protocol).get("Data")
        except ReadError as exc:
            if not salvage:
                raise
            inspection.warnings.append(f"step {name!r}: its protocol is in the lost part ({exc}); skipped")
            continue
        if not isinstance(data, str) or ascconv.find_block(data) is None:
            inspection.warnings.append(f"step {name!r}: no ASCCONV block in its protocol; skipped")
            continue
        used.add(protocol[1])
        if seen is not None:
            seen.add(data)
        # A step whose label is lost (a damaged file) is named by its protocol's own tProtocolName.
        acq = acquisition_from_protocol(
            name, data, f"{path.name} step {name!r} ASCCONV", named_by_file=name == "unnamed"
        )
        acq.context["source"] = str(path)
        program = by_element.get(step[3])
        if program is not None and program[5] == "EdfProgram":
            acq.context["program"] = program_path(program)
            part = str(optional(program).get("BodyPartExamined") or "")
            if part:
                acq.context["body_part"] = part
        off_chain(step, acq)
        inspection.acquisitions.append(acq)
    _after_injection(inspection.acquisitions, stated)
    if salvage:
        _orphan_protocols(
            (blob for _, blob in contents.unread(used)), set() if seen is None else seen, path, inspection
        )
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def _orphan_protocols(blobs, seen: set, path, inspection: Inspection) -> None:
    """Protocol records of a damaged file whose step is lost (the Instance table sits at the end of the file, so a
    truncation loses it first): each record is whole on its own (XProtocol + ASCCONV), named by its
    tProtocolName; their step order and program are not known. `seen`: the protocol texts already read."""
    for blob in blobs:
        try:
            record = _inflate(blob, str(path))
        except (ReadError, limits.LimitError, zlib.error, ValueError):
            continue  # a label, a program, or a record cut in two
        data = record.get("Data") if isinstance(record, dict) else None
        if not isinstance(data, str) or data in seen or ascconv.find_block(data) is None:
            continue
        seen.add(data)
        number = sum(1 for a in inspection.acquisitions if a.context.get("step_lost")) + 1
        acq = acquisition_from_protocol(
            f"protocol {number}", data, f"{path.name} protocol record {number} ASCCONV (its step lost)", True
        )
        acq.context["source"] = str(path)
        acq.context["step_lost"] = "yes"
        inspection.acquisitions.append(acq)


def _raw_blobs(data: bytes) -> list[bytes]:
    """Every blob of every table-leaf page of an SQLite file, read from the pages themselves (SQLite's file format:
    sqlite.org/fileformat2.html), overflow chains followed while their pages exist. A truncation loses the b-tree's
    interior pages before its leaves are lost; the leaves that remain still hold their records."""
    if len(data) < 100:
        return []
    size = _page_size(data)
    usable = size - data[20]
    pages = len(data) // size
    limits.check("members", pages, "an .exar1's pages")
    blobs: list[bytes] = []
    for page in range(pages):
        base = page * size
        header = base + (100 if page == 0 else 0)
        if data[header] != 0x0D:  # a table b-tree leaf
            continue
        cells = int.from_bytes(data[header + 3 : header + 5], "big")
        for i in range(min(cells, size // 2)):
            pointer = int.from_bytes(data[header + 8 + 2 * i : header + 10 + 2 * i], "big")
            with contextlib.suppress(IndexError, ValueError):
                payload = _cell_payload(data, base + pointer, size, usable, pages)
                if payload is not None:
                    blobs += _record_blobs(payload)
    return blobs


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = 0
    for i in range(9):
        byte = data[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    raise ValueError("varint")


def _cell_payload(data: bytes, at: int, size: int, usable: int, pages: int) -> bytes | None:
    """A table-leaf cell's record, its overflow pages joined; None when one of them is lost."""
    length, at = _varint(data, at)
    _, at = _varint(data, at)  # the rowid
    if length > limits.get("inflate_bytes"):
        return None
    most = usable - 35
    if length <= most:
        return data[at : at + length]
    least = (usable - 12) * 32 // 255 - 23
    local = least + (length - least) % (usable - 4)
    local = local if local <= most else least
    parts = [data[at : at + local]]
    following = int.from_bytes(data[at + local : at + local + 4], "big")
    remaining = length - local
    while remaining > 0:
        if not 1 <= following <= pages:
            return None  # the rest of the record was in the lost part
        start = (following - 1) * size
        chunk = data[start + 4 : start + 4 + min(remaining, usable - 4)]
        parts.append(chunk)
        remaining -= len(chunk)
        following = int.from_bytes(data[start : start + 4], "big")
        if len(parts) > pages:
            return None  # a looping chain
    return b"".join(parts)


def _record_blobs(payload: bytes) -> list[bytes]:
    """The blob columns of one record (serial types >= 12 and even)."""
    header_size, at = _varint(payload, 0)
    types = []
    while at < header_size:
        kind, at = _varint(payload, at)
        types.append(kind)
    sizes = {0: 0, 1: 1, 2: 2, 3: 3, 4: 4, 5: 6, 6: 8, 7: 8, 8: 0, 9: 0}
    blobs, position = [], header_size
    for kind in types:
        width = sizes.get(kind, (kind - 12) // 2 if kind >= 12 and kind % 2 == 0 else (kind - 13) // 2)
        if kind >= 12 and kind % 2 == 0:
            blobs.append(payload[position : position + width])
        position += width
    return blobs


def _step_order(rows, programs, content) -> tuple[dict[str, int], set[str]]:
    """The exam order of the steps: each program's steps as it runs them, a chain from `FirstStepId` through
    `LinksFrom` (source step → target step, by the steps' ObjectId), the order its printout's table of contents
    lists (VE11C and XA61 spine-generic programs); the program's child list, which is not that order, for any step
    the chain does not reach (a damaged file, a format without links, the other branch of a decision: only each
    link's first target is followed). Also the steps whose place the chain gave: only their order is stated."""
    children = _child_order(rows)
    by_object = {r[6]: r[0] for r in rows if len(r) > 6 and r[6]}
    order: dict[str, int] = {}
    for program in programs:  # one chain per program: a library's programs are separate exams
        record = content(program)
        links = record.get("LinksFrom") if isinstance(record, dict) else None
        current = record.get("FirstStepId") if isinstance(record, dict) else None
        if not isinstance(links, dict):
            continue
        seen: set = set()
        while isinstance(current, str) and current not in seen and len(seen) <= len(rows):
            seen.add(current)
            if current in by_object:
                order.setdefault(by_object[current], len(order))
            targets = links.get(current, {}).get("$values", []) if isinstance(links.get(current), dict) else []
            if not isinstance(targets, list):
                break  # a link that lists no targets (damaged): the chain ends, the child order places the rest
            current = next((t.get("TargetId") for t in targets if isinstance(t, dict)), None)
    chained = set(order)
    rest = len(order)
    for element, position in sorted(children.items(), key=lambda item: item[1]):
        order.setdefault(element, rest + position)
    return order, chained


def _injection(step, name: str, record: dict, path: Path) -> Acquisition | None:
    """A pause step that gives the contrast agent (its record: ApplyContrastAgent true, or a ContrastAgent given
    or named): the injection's place in the program, read as an injection step. Other pauses (a coil note, "#
    Install PulseOx") are no step of the exam's acquisitions."""
    if not isinstance(record, dict):
        return None
    agent = record.get("ContrastAgent") if isinstance(record.get("ContrastAgent"), dict) else {}
    named = str(record.get("ContrastAgentName") or agent.get("Name") or "").strip()
    if not (record.get("ApplyContrastAgent") is True or agent.get("IsGiven") is True or named):
        return None
    why = "ApplyContrastAgent" if record.get("ApplyContrastAgent") is True else "ContrastAgent"
    acq = Acquisition(name if name != "unnamed" else "contrast agent")
    acq.context["injection"] = f"{path.name} pause step {name!r}: {why}" + (f" ({named})" if named else "")
    acq.context["source"] = str(path)
    return acq


def _program_folders(rows, content, label) -> dict[str, list[str]]:
    """{program element id: its folders, root first} from the export's EdfStructure records: `ParentDirectoryId`
    maps a program (by element id) or a folder (by object id) to its folder, up to the root ("Root", not a name).
    A library of several programs keeps each program's own folders ("Head\\MS", "Knee") this way."""
    parent: dict[str, str] = {}
    for row in rows:
        if row[5] == "EdfStructure":
            record = content(row)
            links = record.get("ParentDirectoryId") if isinstance(record, dict) else None
            if isinstance(links, dict):
                parent.update({k: v for k, v in links.items() if isinstance(v, str) and not k.startswith("$")})
    names = {row[6]: label(row) for row in rows if row[5] == "EdfDirectory" and len(row) > 6 and row[6]}
    out: dict[str, list[str]] = {}
    for row in rows:
        if row[5] != "EdfProgram" or row[0] not in parent:
            continue
        path, current, seen = [], parent[row[0]], set()
        while current in names and current not in seen:
            seen.add(current)
            if names[current] not in ("Root", "unnamed"):
                path.append(names[current])
            current = parent.get(current)
        out[row[0]] = path[::-1]
    return out


def _after_injection(acquisitions: list[Acquisition], stated: set[int]) -> None:
    """The steps a program runs after its pause step that applies the contrast agent are post-contrast: the
    program states it (as a GE program's CONTRAST "Yes" does), so the contrast rule judges them instead of asking
    to verify at the console. The steps before it, in a program that gives the agent later, are pre-contrast by
    the same statement. Only steps the program's chain placed (`stated`: ids of the acquisitions), the injection
    among them: a step the chain does not reach (another branch of a decision, a damaged link) has no stated
    place beside the injection, its contrast is unsaid."""
    given: dict[str | None, str] = {}
    first = {}
    for acq in acquisitions:
        if acq.context.get("injection") and id(acq) in stated:
            first.setdefault(acq.context.get("program"), acq.context["injection"])
    for acq in acquisitions:
        program = acq.context.get("program")
        if id(acq) not in stated:
            continue
        if acq.context.get("injection"):
            given.setdefault(program, acq.context["injection"])
        elif acq.get("contrast_agent") is not None:
            continue
        elif program in given:
            acq.set("contrast_agent", True, f"after {given[program]} in the program's step order")
        elif program in first:
            acq.set("contrast_agent", False, f"before {first[program]} in the program's step order")


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
    if ascconv.BEGIN in xprotocol and ascconv.END not in xprotocol:
        _cut_short(acq)
    return acq


def _cut_short(acq: Acquisition) -> None:
    """A protocol text whose ASCCONV block has no END line was cut short (a truncated copy, a damaged export):
    a key missing from it may have stood after the cut, so no default is inferred from its absence (ASCCONV
    omits values at their default: "lAverages absent: default 1" holds only of a whole block)."""
    inferred = sorted(k for k, why in acq.provenance.items() if " absent" in why)
    for key in inferred:
        del acq.params[key], acq.provenance[key]
    acq.warn(
        f"the protocol's ASCCONV block has no '{ascconv.END}' line (cut short): what followed the cut is unknown"
        + (f"; the defaults a whole block would imply ({', '.join(inferred)})" if inferred else "")
    )
