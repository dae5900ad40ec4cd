"""Readers: bytes in, canonical acquisitions out; one small module per format, picked by content.

Each reader module has `FORMAT`, `sniff(path, head) -> bool` (decides from the first bytes, not the extension
alone) and `read(path) -> Inspection`; a folder of one format is read file by file here (DICOM, which groups
files into series, has its own `read_many`). A reader never writes, never fetches, never executes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath

from .. import limits, xmlsafe
from ..acquisition import Inspection, ReadError, fill_implied, scanner_from
from ..derived import fill_derived
from . import (
    archive,
    bids,
    dicom,
    dicom_protocol,
    ge_protocol,
    ours,
    philips_examcard,
    philips_par,
    printout,
    siemens_ascconv,
    siemens_edx,
    siemens_exar1,
    siemens_printxml,
)

HEAD_BYTES = 4096
READERS = (
    dicom,  # a Philips private object carrying its scan's protocol is handed on to dicom_protocol (see below)
    siemens_exar1,
    siemens_edx,
    philips_examcard,
    ge_protocol,
    siemens_ascconv,
    siemens_printxml,
    philips_par,
    ours,
    bids,
    printout,
)


# Machine-readable protocol exports: beside one of these, a printout of the same protocol is not read twice.
PROTOCOL_EXPORTS = (siemens_exar1, siemens_edx, philips_examcard, ge_protocol, siemens_printxml)


def formats() -> list[str]:
    return [r.FORMAT for r in READERS]


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(HEAD_BYTES)


def reader_for(path, head: bytes | None = None):
    head = _head(path) if head is None else head
    if archive.is_tar(head):
        # A tar is a container: only the reader of a tar format may take it (a GE Protocol Exchange tar names its
        # session.xml and LxProtocol members); any other is an archive of files (DICOM), read as a .zip is. The
        # text sniffers never see a tar's header, which opens with its first member's name.
        return ge_protocol if ge_protocol.sniff(path, head) else None
    heads = [head]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 text ("Unicode" on Windows): sniffed as its UTF-8 text
        heads.append(xmlsafe.as_utf8(head, head=True))
    for candidate in heads:
        for reader in READERS:
            try:
                if reader.sniff(path, candidate):
                    return reader
            except Exception:  # a sniffer choking on damaged bytes only means: not this format
                continue
    return None


def inspect_path(path: Path, progress=None) -> list[Inspection]:
    """Read one input (file or folder) into one Inspection per format found in it."""
    inspections = _inspect_path(path, progress)
    if not any(inspection.acquisitions for inspection in inspections):
        # Read without error but nothing to judge: a check of it would "pass" an empty exam.
        why = next((w for i in inspections for w in i.warnings), None)
        kinds = ", ".join(sorted({i.format for i in inspections}))
        raise ReadError(
            f"{path}: no acquisition in this {kinds} input"
            + (f" ({why})" if why else " (it holds no protocol or image series)")
        )
    for inspection in inspections:
        for acq in inspection.acquisitions:
            fill_implied(acq)
            fill_derived(acq)
            inspection.warnings += acq.warnings  # fields that could not be read, each named
            acq.warnings.clear()
        _printable(inspection)
    return inspections


def printable(text: str) -> str:
    """Text that any report can encode: a file name that is not UTF-8 reaches Python as lone surrogates
    (os.fsdecode), which no UTF-8 writer accepts; its bytes are shown as \\xNN escapes instead."""
    if not any("\udc80" <= c <= "\udcff" for c in text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _printable(inspection: Inspection) -> None:
    """Every string an Inspection carries made printable, in the one place every input passes through."""
    inspection.source = printable(inspection.source)
    inspection.warnings[:] = [printable(w) for w in inspection.warnings]
    for acq in inspection.acquisitions:
        acq.name = printable(acq.name)
        acq.provenance = {k: printable(v) for k, v in acq.provenance.items()}
        for key, value in acq.params.items():
            if isinstance(value, str):
                acq.params[key] = printable(value)
            elif isinstance(value, list) and any(isinstance(v, str) for v in value):
                acq.params[key] = [printable(v) if isinstance(v, str) else v for v in value]


def _inspect_path(path: Path, progress=None) -> list[Inspection]:
    if not path.exists():
        raise ReadError(f"{path}: no such file or directory")
    if path.is_dir():
        return _inspect_dir(path, progress)
    if path.name.upper() == "DICOMDIR":
        return _inspect_dir(path.parent, progress)  # the exam it indexes is the folder around it
    if not path.is_file():  # a FIFO, socket or device would block or never end: only regular files are read
        raise ReadError(f"{path}: not a regular file (a FIFO, socket or device); give a file or a folder")
    try:
        head = _head(path)
        reader = None if archive.is_zip(head) else reader_for(path, head)
        # Told by content, after the readers: a GE protocol tar and a gzipped DICOM file are theirs
        packed = "zip" if archive.is_zip(head) else archive.tar_kind(path, head) if reader is None else None
    except OSError as exc:
        raise ReadError(f"{path}: cannot read ({exc.strerror or exc})") from None
    if packed:
        return _inspect_archive(path, progress, packed)
    if reader is None:
        if not head:
            raise ReadError(f"{path}: empty file (0 bytes): nothing to read")
        raise ReadError(f"{path}: not a format ofsep-presets reads; it reads: {', '.join(formats())}")
    if reader is dicom and dicom_protocol.sniff(path, head):
        reader = dicom_protocol  # not an image: the Philips object that carries its series' protocol
    return [_guarded(reader.FORMAT, path, lambda: reader.read(path))]


def walk(root: Path) -> tuple[list[Path], list[str]]:
    """The regular files under `root`, sorted, and one warning per kind of entry left out (see _names)."""
    names, warnings = _names(root)
    return list(map(Path, names)), warnings


def _names(root: Path) -> tuple[list[str], list[str]]:
    """The regular files under `root` as path strings (each what str() of its Path gives), sorted as their Paths
    sort, and one warning per kind of entry left out: a large folder's files are scanned by name, and only the
    few that become a representative or another format's input are made Paths (20,000 Paths: ~0.1 s).

    Symbolic links are never followed out of the folder: a linked folder is not entered (os.walk does not follow
    links), and a linked file is read only when it resolves inside `root` (an exam folder pointing at
    /etc/passwd or another patient's data reads neither). FIFOs, sockets and devices are skipped, not opened.
    """
    base = root.resolve()
    names: list[str] = []
    outside = special = 0
    # Depth first, each folder's entries in name order: the order of the paths sorted (Path compares part by
    # part, and no file's path is a prefix of another's), without sorting 20,000 Paths (~0.3 s) or making one
    # per entry before it is kept. os.scandir: an entry's type comes with the listing, no stat per regular file.
    stack = [_listing(os.fspath(root))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
            continue
        try:
            if entry.is_symlink():
                if entry.is_dir():
                    continue  # a linked folder is never entered
                target = Path(entry.path).resolve()
                if not target.is_relative_to(base):
                    outside += 1
                    continue
                regular = stat.S_ISREG(os.stat(entry.path).st_mode)
            elif entry.is_dir(follow_symlinks=False):
                stack.append(_listing(entry.path))
                continue
            else:
                regular = entry.is_file(follow_symlinks=False)
        except (OSError, RuntimeError):  # a dangling or looping link
            outside += 1
            continue
        if regular:
            names.append(entry.path)
        else:
            special += 1
    if os.fspath(root) == ".":
        names = [name[2:] for name in names]  # "./a.dcm" as Path("./a.dcm") spells it: "a.dcm"
    warnings = []
    if outside:
        warnings.append(f"{root}: {outside} link(s) pointing outside the folder (or nowhere) not followed")
    if special:
        warnings.append(f"{root}: {special} entry(ies) that are not regular files (FIFO, socket, device) skipped")
    return names, warnings


def _listing(folder: str):
    """A folder's entries in the order Path sorts their paths (by name; case-folded where paths compare so);
    an unreadable folder is left out, as os.walk leaves it."""
    try:
        with os.scandir(folder) as entries:
            listed = list(entries)
    except OSError:
        return iter(())
    listed.sort(key=lambda entry: os.path.normcase(entry.name))
    return iter(listed)


_NAMED_SKIPS = 5


def _skip_name(root: Path, name) -> str:
    """A skipped file as the warning names it: its path inside the folder, and "empty" when it holds nothing."""
    shown = os.path.relpath(name, root) if os.path.isabs(name) == root.is_absolute() else str(name)
    try:
        empty = os.path.getsize(name) == 0
    except OSError:
        empty = False
    return printable(shown) + (": empty" if empty else "")


def _inspect_dir(path: Path, progress=None) -> list[Inspection]:
    by_reader: dict[str, list[Path]] = {}
    zips: list[Path] = []
    skipped = 0
    skipped_names: list[str] = []  # the first few, to name them: which files were not read, not only how many
    skipped_paths: list[str] = []
    nifti: list[str] = []
    found, walk_warnings = _names(path)
    # One pass over the files tells each one's format and, for DICOM, scans its header from the same read.
    scanned = []
    for info in dicom.scan(found, progress, sniff=True):
        if info.format == dicom.FORMAT and dicom_protocol.takes(info.path, info.sop):
            info = dicom.FileInfo(info.path, format=dicom_protocol.FORMAT)  # a Philips object with its protocol
        if info.format == dicom.FORMAT:
            scanned.append(info)
        if not info.format:
            if _is_zip_file(info.path) or archive.tar_kind(info.path):
                zips.append(Path(info.path))  # a zipped or tarred run or export beside the others: read in memory
                continue
            if str(info.path).endswith((".nii", ".nii.gz")):
                nifti.append(str(info.path))  # a BIDS series' image: its sidecar may be only inherited
            skipped += 1
            skipped_paths.append(str(info.path))
            if len(skipped_names) < _NAMED_SKIPS:
                skipped_names.append(_skip_name(path, info.path))
            continue
        by_reader.setdefault(info.format, []).append(info.path if info.format == dicom.FORMAT else Path(info.path))
    zipped, zip_failed = [], []
    for member in zips:
        try:
            zipped += _inspect_archive(member, progress)
        except limits.LimitError:
            raise
        except ReadError as exc:
            zip_failed.append(exc)
    if not by_reader and not zipped:
        if zip_failed:
            raise zip_failed[0]
        raise ReadError(f"{path}: no readable file inside; ofsep-presets reads: {', '.join(formats())}")
    inherited_note = None
    virtual = bids.sidecarless(nifti) if nifti else []
    if virtual:  # NIfTI series read through the sidecar they inherit: read, not skipped
        by_reader.setdefault(bids.FORMAT, []).extend(sidecar for _, sidecar in virtual)
        skipped -= len(virtual)
        taken = {_skip_name(path, name) for name, _ in virtual}
        skipped_names = [n for n in skipped_names if n not in taken]
        read_images = {str(name) for name, _ in virtual}
        skipped_paths = [n for n in skipped_paths if n not in read_images]
    if bids.FORMAT in by_reader:
        kept, metadata = bids.dataset_level(by_reader[bids.FORMAT])
        if metadata:
            by_reader[bids.FORMAT] = kept
            inherited_note = (
                f"{len(metadata)} dataset-, subject- or session-level sidecar(s) "
                f"({', '.join(p.name for p in metadata[:3])}"
                f"{', …' if len(metadata) > 3 else ''}) read as the metadata the sidecars below them inherit "
                "(BIDS inheritance), not as acquisitions"
            )
            if not kept:
                del by_reader[bids.FORMAT]
    if bids.FORMAT in by_reader:
        kept, empty = bids.named_only(by_reader[bids.FORMAT])
        if empty:  # JSON files named like sidecars that state nothing: not series of this folder
            by_reader[bids.FORMAT] = kept
            skipped += len(empty)
            skipped_paths += [str(f) for f in empty]
            skipped_names += [_skip_name(path, str(f)) for f in empty][: max(0, _NAMED_SKIPS - len(skipped_names))]
            if not kept:
                del by_reader[bids.FORMAT]
    companions_note = None
    if bids.FORMAT in by_reader and skipped:
        # A BIDS dataset's other files are part of it, not inputs ofsep-presets failed to read: a series' image
        # and .bval/.bvec beside its sidecar (the b-values are read from them), the dataset's, participants',
        # sessions' and scans' files. Counted apart; anything else stays "skipped".
        companions = bids.companions(by_reader[bids.FORMAT], skipped_paths)
        if companions:
            skipped -= len(companions)
            left = [name for name in skipped_paths if name not in companions]
            skipped_names = [_skip_name(path, name) for name in left[:_NAMED_SKIPS]]
            companions_note = (
                f"{len(companions)} other file(s) of the BIDS dataset (images, .bval/.bvec beside their sidecars, "
                "dataset, participants, sessions and scans files) used with the sidecars or not needed for a "
                "protocol"
            )
    rec_note = None
    if philips_par.FORMAT in by_reader and skipped:
        # A PAR's REC (same name, .REC) holds its pixels only: part of the export, not a file left unread.
        stems = {str(par)[:-4].lower() for par in by_reader[philips_par.FORMAT]}
        recs = [name for name in skipped_paths if name.lower().endswith(".rec") and name[:-4].lower() in stems]
        if recs:
            skipped -= len(recs)
            skipped_paths = [name for name in skipped_paths if name not in recs]
            skipped_names = [_skip_name(path, name) for name in skipped_paths[:_NAMED_SKIPS]]
            rec_note = f"{len(recs)} REC file(s) beside their PAR (the images' pixels) not needed for a protocol"
    printouts = by_reader.get(printout.FORMAT, [])
    if printouts and any(reader.FORMAT in by_reader for reader in PROTOCOL_EXPORTS):
        # A printout beside the export it was printed from states the same protocol again: read once, from the
        # export (a printout is read when named, or in a folder of printouts).
        del by_reader[printout.FORMAT]
        note = f"{len(printouts)} printout(s) beside the protocol export not read again (inspect them by name)"
    else:
        note = None
    results, failed = [], []
    for reader in (dicom_protocol, *READERS):  # the embedded protocols first: compared with the images below
        files = by_reader.get(reader.FORMAT)
        if files:
            try:
                if reader is dicom:  # DICOM groups files into series across the folder
                    inspection = _guarded(reader.FORMAT, path, lambda f=files: dicom.read_many(path, f, infos=scanned))
                else:
                    inspection = _read_each(reader, path, files)
            except limits.LimitError:
                raise  # a budget refusal stops the input, naming its limit
            except ReadError as exc:  # one format's files unreadable: said, and the folder's other formats read
                failed.append(exc)
                continue
            if skipped:
                named = "; ".join(skipped_names) + ("; …" if skipped > len(skipped_names) else "")
                inspection.warnings.append(f"{skipped} file(s) skipped: not a format ofsep-presets reads ({named})")
            if inherited_note and reader is bids:
                inspection.warnings.append(inherited_note)
            if companions_note and reader is bids:
                inspection.warnings.append(companions_note)
            if rec_note and reader is philips_par:
                inspection.warnings.append(rec_note)
            inspection.warnings += walk_warnings
            if note:
                inspection.warnings.append(note)
                note = None
            results.append(inspection)
    results += zipped
    failed += zip_failed
    if len(failed) == 1 and not results:
        raise failed[0]
    if not results:
        raise ReadError(f"{path}: nothing readable; " + "; ".join(str(exc) for exc in failed))
    results[0].warnings += [f"not read: {exc}" for exc in failed]
    dicom_protocol.compare_with_images(results)
    return results


def _archive_members(path: Path, packed: str) -> tuple[dict[str, list], int, list[str]]:
    """The members of a .zip, .tar or .tar.gz (checked, in memory) by the format they hold (DICOM, and the protocol
    objects read from memory: Philips ExamCards, Siemens .exar1), how many other members were skipped, and why."""
    members, warnings = archive.members(path) if packed == "zip" else archive.tar_members(path)
    found: dict[str, list] = {}
    skipped = 0
    for member in members:
        if packed != "zip" and ge_protocol.holds_protocol(member.member):
            # A gzipped GE Protocol Exchange tar (a plain one is ge_protocol's own): its members read by name
            found.setdefault(ge_protocol.FORMAT, []).append(member)
            continue
        try:
            head = archive.head(member, HEAD_BYTES)
            fmt = next((r.FORMAT for r in (dicom, philips_examcard) if r.sniff(member, head)), None)
            if fmt is None and head.startswith(siemens_exar1.SQLITE_MAGIC):
                fmt = siemens_exar1.FORMAT
        except Exception:  # a damaged member is skipped and counted like any unreadable file
            fmt = None
        if fmt:
            found.setdefault(fmt, []).append(member)
        else:
            skipped += 1
    return found, skipped, warnings


ZIP_PROTOCOLS = {
    philips_examcard.FORMAT: lambda data, member: philips_examcard.read_card(data, str(member), member.name),
    siemens_exar1.FORMAT: siemens_exar1.read_bytes,
}


def _ge_members(path: Path, members: list) -> Inspection:
    """A GE export's session and LxProtocol members (each within the GE reader's member cap) read as its tar."""
    files = {}
    for member in members:
        if member.size <= ge_protocol.MAX_MEMBER:
            files[str(PurePosixPath(member.member))] = member.read_bytes()
    return ge_protocol.read_files(path, files)


def _is_zip_file(name) -> bool:
    """Whether a file the folder scan could not place starts as a .zip does (4 bytes read)."""
    try:
        with open(name, "rb") as handle:
            return archive.is_zip(handle.read(4))
    except OSError:
        return False


def _inspect_archive(path: Path, progress=None, packed: str | None = None) -> list[Inspection]:
    """A zipped or tarred exam or protocol export: its DICOM members read like a folder's files, its ExamCards and
    .exar1 read from their bytes, nothing extracted. `packed`: "zip", "tar" or "tar.gz" (else told by content)."""
    packed = packed or ("zip" if _is_zip_file(path) else archive.tar_kind(path) or "zip")
    with limits.deadline(path):
        found, skipped, warnings = _archive_members(path, packed)
    if not found:
        raise ReadError(
            f"{path}: nothing readable inside this .{packed} (inside a .{packed} ofsep-presets reads DICOM, Philips "
            f"ExamCards{', GE Protocol Exchange exports' if packed != 'zip' else ''} and Siemens .exar1)"
        )
    results: list[Inspection] = []
    lost: list[str] = []
    if dicom.FORMAT in found:
        members = found[dicom.FORMAT]
        results.append(_guarded(dicom.FORMAT, path, lambda: dicom.read_many(path, members, progress)))
    if ge_protocol.FORMAT in found:
        results.append(_guarded(ge_protocol.FORMAT, path, lambda: _ge_members(path, found[ge_protocol.FORMAT])))
    for fmt, read in ZIP_PROTOCOLS.items():
        if fmt not in found:
            continue
        inspection = Inspection(source=str(path), format=fmt)
        for member in found[fmt]:
            try:
                one = _guarded(fmt, member, lambda m=member, r=read: r(m.read_bytes(), m))
            except limits.LimitError:
                raise
            except ReadError as exc:
                inspection.warnings.append(str(exc))
                continue
            inspection.acquisitions += one.acquisitions
            inspection.warnings += one.warnings
        inspection.scanner = scanner_from(inspection.acquisitions)
        if inspection.acquisitions or dicom.FORMAT in found:
            results.append(inspection)
        else:  # nothing of this format could be read: said on the first inspection, not as an empty one
            lost += inspection.warnings
    if not results:
        raise ReadError(f"{path}: no member of this .{packed} could be read; first problem: {lost[0]}")
    results[0].warnings[:0] = warnings
    results[0].warnings += lost
    if skipped and ge_protocol.FORMAT not in found:  # a GE export's other members (.pn notes) are its own
        results[0].warnings.append(
            f"{skipped} member(s) of the .{packed} skipped: not DICOM, nor an ExamCard or .exar1"
        )
    return results


def _read_each(reader, root: Path, files: list[Path]) -> Inspection:
    """One Inspection for a folder of files of one format: each read alone; an unreadable one is a warning."""
    inspection = Inspection(source=str(root), format=reader.FORMAT)
    printed: dict[tuple, Path] = {}
    for file in files:
        try:
            one = _guarded(reader.FORMAT, file, lambda f=file: reader.read(f))
        except ReadError as exc:
            inspection.warnings.append(str(exc))
            continue
        for acq in one.acquisitions:  # each file is its own document (its own exam), not the folder's
            acq.context.setdefault("source", str(file))
        if reader is printout:
            same = _printed_protocol(one)
            if same in printed:
                inspection.warnings.append(
                    f"{file.name}: prints the same protocol as {printed[same].name} (same program, series and "
                    "values): read once"
                )
                continue
            printed[same] = file
        inspection.acquisitions += one.acquisitions
        inspection.warnings += one.warnings
    if not inspection.acquisitions and inspection.warnings:
        raise ReadError(f"{root}: no readable {reader.FORMAT} file; first problem: {inspection.warnings[0]}")
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


_NOT_PRINTED_ALIKE = {"manufacturer", "model", "software_version", "series_description", "sequence_family"}


def _printed_protocol(inspection: Inspection) -> tuple:
    """What a printout states, to tell two prints of one protocol (a GE report saved as HTML and printed to PDF):
    the program, and each series' name and values (not the names a layout may word differently)."""
    return tuple(
        (
            a.context.get("program"),
            a.name,
            tuple(sorted((k, repr(v)) for k, v in a.params.items() if k not in _NOT_PRINTED_ALIKE)),
        )
        for a in inspection.acquisitions
    )


def _guarded(fmt: str, path: Path, read):
    """Run a reader; anything but our own ReadError is a reader bug or hostile input, reported as unreadable."""
    try:
        if isinstance(path, Path) and path.is_file():
            with limits.deadline(path):
                return read()
        return read()
    except ReadError:
        raise
    except MemoryError:
        raise ReadError(f"{path}: too large to read as {fmt}") from None
    except RecursionError:
        raise limits.too_deep(path) from None
    except Exception as exc:  # the last line of defence: a traceback is never the answer to bad input
        raise ReadError(f"{path}: could not be read as {fmt} ({type(exc).__name__}: {exc})") from None
