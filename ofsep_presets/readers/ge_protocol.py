"""GE protocols: a Protocol Notebook/Exchange tar (session.xml + one LxProtocol per series) or a bare LxProtocol.

The tar is read in memory, never extracted: only regular members with relative names and no `..` are read;
links, devices and AppleDouble `._*` files are ignored; each member and the whole read are size-capped.
session.xml names the tasks and points (CONTENT_PROPERTY) to series folders whose names do not match the task
names. LxProtocol speaks the console's units (FOV in cm, RBW in ±kHz), converted through the GE vocabulary.
"""

from __future__ import annotations

import os
import re
import tarfile
from functools import cache
from pathlib import Path, PurePosixPath

from .. import limits, units, xmlsafe
from ..acquisition import Acquisition, Inspection, ReadError, plane_of_normal, scanner_from
from ..families import set_family
from ..resources import spec_dir
from ..vendors import all_vendors
from ..yamlload import load_yaml
from . import archive
from .vocabulary import acquisition_from_vendor_values

FORMAT = "ge-protocol-tar"
LX_FORMAT = "ge-lxprotocol"
MAX_MEMBER = 4 * 1024 * 1024  # one LxProtocol is ~20 KB; a member past this is not one (and is not read)
# `[ \t]`, not `\s`: with re.M, `^\s*` at each of n blank lines would run over all the blank lines after it
# (quadratic: a 256 KB file of newlines took 48 s). Each line start is now tried in O(its own indent).
_SET = re.compile(r'^[ \t]*set[ \t]+(\w+)[ \t]+"((?:[^"\\\n]|\\.)*)"', re.M)
_KEYS = re.compile(r'^[ \t]*set[ \t]+(\w+)[ \t]+"', re.M)
# The same lines without `set` (`PSEQ "MP-RAGE"`): the series protocol of GE DICOM images (ge_dicom_protocol).
_PLAIN = re.compile(r'^[ \t]*(\w+)[ \t]+"((?:[^"\\\n]|\\.)*)"', re.M)
# PLANE of a three-plane localizer: stacks in three planes at once, a localizer whatever its name (the dcm_qa_table
# "3-Plane Localizer" series states PLANE "3-PLANE" in its (0025,101B) protocol; its images lie in several planes).
THREE_PLANES = {"3-PLANE"}


def sniff(path: Path, head: bytes) -> bool:
    if len(head) > 262 and head[257:262] == b"ustar":
        # A plain tar only, like the read (see _open_tar); whatever its size (a tarred DICOM exam is larger than
        # any protocol, and is archive.py's): its first members' names tell, read through the bounded walk.
        try:
            with path.open("rb") as raw:
                walk = archive.TarWalk(archive.open_tar(raw, path), path, limits.get("read_bytes"))
                for count, member in enumerate(walk):
                    if member.name.endswith(("session.xml", "LxProtocol")):
                        return True
                    if count > 200:
                        break
        except (tarfile.TarError, OSError, ReadError):
            return False
        return False
    return is_lxprotocol(head)


def is_lxprotocol(head: bytes) -> bool:
    text = head.decode("latin-1")
    keys = set(_KEYS.findall(text))
    return b"ofsep-presets" not in head and len(keys & {"PSEQ", "IMODE", "PLANE", "TE", "TR", "FOV", "SLTHICK"}) >= 3


def _open_tar(path: Path, raw) -> tarfile.TarFile:
    """A plain tar only ("r:"): the sniffer saw an uncompressed ustar header, so a file that only looks like one
    (a gzip stream whose extra field spells `ustar`) is not inflated behind its back; the file's size, checked
    first, then bounds whatever tarfile reads, PAX headers included (every read bounded: archive.open_tar)."""
    limits.check("read_bytes", path.stat().st_size, path)
    return archive.open_tar(raw, path)


def _lone_name(path: Path) -> str:
    """The series name of a lone LxProtocol: the file states none (its keys are the scan's parameters), and GE
    writes one per series folder named after the series ("DTI_20170221045322618_4/LxProtocol", the HBCD
    exports), so the folder names it, however the path was typed. A file saved under another name (one of
    several series' protocols kept side by side) is named by its own name: the folder is then only where it
    was put (a download folder), not the series."""
    if path.name == "LxProtocol":
        return Path(os.path.abspath(path)).parent.name or path.name  # the folder it is in, not a link's target's
    return path.stem or path.name


def read(path: Path) -> Inspection:
    with path.open("rb") as handle:
        head = handle.read(512)
    if not (len(head) > 262 and head[257:262] == b"ustar"):
        inspection = Inspection(source=str(path), format=LX_FORMAT)
        text = limits.read_file(path).decode("latin-1")
        acq = lx_acquisition(_lone_name(path), text, path.name)
        acq.context["named_by_folder"] = path.name == "LxProtocol"  # a folder a user made names it: redacted
        inspection.acquisitions.append(acq)
        inspection.scanner = scanner_from(inspection.acquisitions)
        return inspection
    inspection = Inspection(source=str(path), format=FORMAT)
    files: dict[str, bytes] = {}
    total = 0
    with path.open("rb") as raw:
        try:
            walk = archive.TarWalk(_open_tar(path, raw), path, MAX_MEMBER)
        except tarfile.TarError as exc:
            raise ReadError(f"{path}: not a readable tar ({exc})") from None
        for member in walk:
            total += member.size
            limits.check("read_bytes", total, f"{path}: members")
            raw.seek(member.offset_data)
            data = raw.read(member.size)
            if len(data) < member.size:  # the file ends inside this member: it is not kept
                walk.cut = f"member {archive._quoted(member.name)} cut short by the end of the file"
                break
            # `tar -cf x.tar .` names members "./exam/…": the normalised name is the one session.xml points at
            files[str(PurePosixPath(member.name))] = data
    if walk.cut is not None:
        if not files:
            raise ReadError(f"{path}: not a readable tar ({walk.cut})")
        # Cut short (a truncated copy): the members read whole before the cut are each complete; the rest is
        # absent, and said.
        inspection.warnings.append(
            f"{path.name}: not a complete tar ({walk.cut}): the {len(files)} member(s) before the cut are read; "
            "the series after it are absent"
        )
    refused = sum(len(names) for names in walk.refused.values())
    if refused:
        inspection.warnings.append(f"{refused} tar member(s) refused (links, absolute or '..' names, oversize)")
    return read_files(path, files, inspection)


def holds_protocol(name: str) -> bool:
    """Whether a tar member's name is one of a Protocol Exchange export's (its session or a series' LxProtocol)."""
    return PurePosixPath(name).name in ("session.xml", "LxProtocol")


def read_files(path: Path, files: dict[str, bytes], inspection: Inspection | None = None) -> Inspection:
    """The series of an export's members, by their normalised names (a plain tar read here, or a gzipped one's
    members read in memory by readers.archive): each session's tasks, or the bare series folders."""
    inspection = inspection or Inspection(source=str(path), format=FORMAT)
    sessions = [name for name in files if PurePosixPath(name).name == "session.xml"]
    for session in sessions:
        root = PurePosixPath(session).parent
        tasks, field_t, version = _session(files[session], str(path))
        for task, folder in tasks:
            key = str(root / folder / "LxProtocol")
            if key not in files:
                inspection.warnings.append(f"task {task!r}: no LxProtocol in folder {folder!r}")
                continue
            acq = lx_acquisition(task, files[key].decode("latin-1"), f"{path.name}:{key}")
            acq.context.update(source=str(path), exam=str(root), program=root.name)
            if field_t is not None and "field_strength_t" not in acq.params:
                acq.set("field_strength_t", field_t, f"{path.name}:{session} MRSessionData fieldstrength (gauss)")
            if version and "software_version" not in acq.params:
                acq.set("software_version", version, f"{path.name}:{session} MRSessionData MR_VERSION")
            inspection.acquisitions.append(acq)
    if not sessions:  # a tar of bare series folders
        for name in sorted(n for n in files if PurePosixPath(n).name == "LxProtocol"):
            folder = PurePosixPath(name).parent.name
            acq = lx_acquisition(folder, files[name].decode("latin-1"), f"{path.name}:{name}")
            acq.context["source"] = str(path)
            acq.context["named_by_folder"] = True
            inspection.acquisitions.append(acq)
    inspection.scanner = scanner_from(inspection.acquisitions)
    return inspection


def _session(xml: bytes, where: str) -> tuple[list[tuple[str, str]], float | None, str | None]:
    """The session's tasks (name, series folder) in order, and the field strength and software its MRSessionData
    states (`<property name="fieldstrength" value="30000"/>`, gauss, and `MR_VERSION` "DV25.1#0", the release
    that saved it, in the MR750 export), each None where not stated."""
    root = xmlsafe.parse(xml, f"{where}: session.xml")
    field_t, version = None, None
    for data in root.iter("{*}data"):
        if data.get("name") != "MRSessionData":
            continue
        for prop in data.iter("{*}property"):
            if prop.get("name") == "MR_VERSION":
                text = " ".join((prop.get("value") or "").split())
                version = text[:64] if text else None
            if prop.get("name") == "fieldstrength":
                try:
                    gauss = float(prop.get("value") or "")
                except ValueError:
                    continue
                tesla = units.to_unit(gauss, "G", "T")
                field_t = tesla if 0 < tesla <= 20 else None  # past any MR magnet: not a field strength
        break
    return _tasks(root), field_t, version


def _tasks(root) -> list[tuple[str, str]]:
    tasks = []
    for task in root.iter("{*}task"):
        for prop in task.iter("{*}property"):
            if prop.get("name") == "CONTENT_PROPERTY" and prop.getparent().get("name") == "LxProtocol":
                tasks.append((task.get("name") or "unnamed", prop.get("value") or ""))
                break
    return tasks


def lx_values(text: str, plain: bool = False) -> dict[str, str]:
    """An LxProtocol's keys and values (`set KEY "VALUE"` lines; `KEY "VALUE"` lines when `plain`), unescaped."""
    pattern = _PLAIN if plain else _SET
    return {key: re.sub(r"\\(.)", r"\1", value) for key, value in pattern.findall(text)}


def lx_acquisition(name: str, text: str, where: str) -> Acquisition:
    return acquisition_from_lx_values(name, lx_values(text), where)


@cache
def _readouts() -> dict[str, str]:
    """GE pulse-sequence names → the readout they are (ge.yaml `scanning_sequences`)."""
    return {str(k).upper(): str(v) for k, v in (_ge_data().get("scanning_sequences") or {}).items()}


@cache
def _ge_data() -> dict:
    return load_yaml(spec_dir() / "vendors" / "ge.yaml")


def _coded(values: dict[str, str]) -> dict[str, str]:
    """Console codes as the words the report prints for them (ge.yaml `codes`: SUPPTQ "1" is "Fat"), under our key
    of the word (SUPPTQ_LABEL), where the report's word is not there already; an unknown code tells nothing."""
    out = dict(values)
    for key, words in (_ge_data().get("codes") or {}).items():
        word = {str(k): str(v) for k, v in words.items()}.get(values.get(key, "").strip())
        if word and f"{key}_LABEL" not in out:
            out[f"{key}_LABEL"] = word
    return out


def _imaging_options(acq: Acquisition, values: dict[str, str], options: set[str], where: str) -> None:
    """A canonical value the imaging options state (ge.yaml `imaging_options`): the value of the option the stated
    IOPT lists, else, implied, the value a list without any of them means (IOPT is every option the series
    selects)."""
    if "IOPT" not in values:
        return
    for param, choices in (_ge_data().get("imaging_options") or {}).items():
        listed = [(option, value) for option, value in choices.items() if str(option).upper() in options]
        if listed:
            option, value = listed[0]
            acq.set(param, value, f"{where} IOPT={values['IOPT']!r} lists {option}")
        elif "otherwise" in choices:
            if param == "parallel_mode" and (acq.get("parallel_factor") or 1) > 1:
                continue  # an acceleration factor stated beside no method's option: the method is not told
            names = "/".join(str(o) for o in choices if o != "otherwise")
            acq.set(param, choices["otherwise"], f"implied: {where} IOPT={values['IOPT']!r} lists no {names}")


def acquisition_from_lx_values(name: str, values: dict[str, str], where: str) -> Acquisition:
    """One series from its LxProtocol keys and values (the export's, or the report's rows mapped to keys)."""
    values = _coded(values)
    vendor = all_vendors()["ge"]
    options = {token.strip().upper() for token in values.get("IOPT", "").split(",")}
    diffusion = "DIFF" in options
    if values.get("IMODE") == "3D" and "SLABLOC" in values:
        values["NOSLC"] = values["SLABLOC"]  # a 3D series states its partitions as locations per slab
    by_key = {f.key: f for f in vendor.fields() if f.key}
    entries = []
    for key, value in values.items():
        field = by_key.get(key)
        if field is None or (field.param in ("b_values", "diffusion_directions") and not diffusion):
            continue  # MULTIBVALUE is a leftover in non-diffusion protocols: read it only when IOPT says DIFF
        entries.append((field.param, key, value))
    acq = acquisition_from_vendor_values(name, entries, vendor, None, where)
    acq.set("series_description", name, f"{where} task name")
    # The coil elements the series selects (COILCOMPONENT, "HNS CTL Spine;HNS Head/Neck/Chest"; the report's "Coil
    # Configuration") before the coil configuration's name (COIL, "HNS Head": the HNS coil's configuration a
    # cervical cord T2 is acquired with): the same evidence from the export and from its report.
    coil = values.get("COILCOMPONENT") or values.get("COIL")
    if coil and coil.strip() not in ("", "0"):
        acq.context["coil"] = coil
    anatomy = re.split(r"%5C|\\", values.get("ANATOMY", ""), flags=re.I)
    if anatomy[-1].strip():  # "SRT\None\T-11501": scheme, modifier, code (DICOM CID 4031)
        acq.context["anatomy"] = anatomy[-1].strip()
    if diffusion and acq.get("b_values") and float(values.get("DIFNUMT2", "0") or 0) > 0:
        acq.set(
            "b_values",
            sorted({0.0, *acq.get("b_values")}),
            f"{where} MULTIBVALUE + DIFNUMT2={values['DIFNUMT2']} (b=0)",
        )
    _oblique_plane(acq, values, where)
    _imaging_options(acq, values, options, where)
    if values.get("PLANE", "").strip().upper() in THREE_PLANES:
        # Three stacks at right angles in one series (the console's three-plane localizer): each plane once, as
        # a DICOM series whose images lie in several planes states them (image_planes).
        acq.set("image_planes", ["sagittal", "coronal", "axial"], f"{where} PLANE={values['PLANE']}")
    inversion = "IRP" in options or bool(acq.get("inversion_time_ms"))
    if not inversion and "inversion_time_ms" in acq.params:
        del acq.params["inversion_time_ms"], acq.provenance["inversion_time_ms"]
    pseq = values.get("PSEQ", "").strip().upper()
    set_family(
        acq,
        f"{where} PSEQ/IOPT",
        scanning_sequence="GR\\IR" if pseq == "SPGR" and "IRP" in options else _readouts().get(pseq, ""),
        sequence_name="IR-FSPGR"
        if values.get("PSEQ", "").upper() == "SPGR" and "IRP" in options
        else f"{values.get('PSEQ', '')} {values.get('IOPT', '')}",
        description=name,
    )
    return acq


def _orthonormal(vectors: list[list[float]], tolerance: float = 0.01) -> bool:
    """Three 3-vectors of unit length at right angles to one another: a direction frame, as the layout holds."""
    if len(vectors) != 3 or any(len(v) != 3 for v in vectors):
        return False

    def dot(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    units = all(abs(dot(v, v) - 1) <= tolerance for v in vectors)
    square = all(abs(dot(vectors[i], vectors[j])) <= tolerance for i, j in ((0, 1), (0, 2), (1, 2)))
    return units and square


def _oblique_plane(acq: Acquisition, values: dict[str, str], where: str) -> None:
    """An oblique series' main plane from its prescription: `GRIP_SLGROUP1` holds the slice group's centre (3
    numbers), then its slice normal and two in-plane directions (3 × 3). The programs' own SAGITTAL series show the
    layout (normal 1 0 0: left-right); an OBLIQUE series within the limit of one axis is that axis' plane, as a
    DICOM slice normal is (acquisition.plane_of_normal), and stays oblique beyond it."""
    if acq.get("orientation") != "oblique":
        return
    numbers = values.get("GRIP_SLGROUP1", "").split()
    try:
        vectors = [[float(v) for v in numbers[i : i + 3]] for i in (3, 6, 9)]
    except ValueError:
        return
    if not _orthonormal(vectors):
        return  # not the layout above (another version's, or damaged): the plane stays as stated, oblique
    normal = vectors[0]
    found = plane_of_normal(normal)
    if found is None or found[0] == "oblique":
        return
    plane, angle, _ = found
    shown = " ".join(numbers[3:6])
    acq.set(
        "orientation",
        plane,
        f"{where} PLANE=OBLIQUE, GRIP_SLGROUP1 slice normal ({shown}) {angle:.1f}° from pure {plane}",
    )
