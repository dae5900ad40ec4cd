"""GE's own series protocol inside its DICOM images: private element (0025,xx1B) of block GEMS_SERS_01.

The layout is the one GDCM documents and reads (malaterre/GDCM, gdcmPDBHeader.cxx,
PDBHeader::readprotocoldatablock): "Data Element: 0025,xx1b,GEMS_SERS_01 which is documented as Protocol Data Block
(compressed). in fact this is a simple text format compressed using the gzip algorithm"; the value opens with its
length again, 4 bytes little-endian, equal to the value's length less 4 (less 5 when the value was padded to even
length with a 0). dcm2niix reads the same block (rordenlab/dcm2niix console/nii_dicom.cpp `geProtocolBlock`; pull
request 173: "Uses proprietary GE Protocol Data Block (0025,101B)"; issue 311) and warns that DV24 consoles may
store XML there instead, which is not read here either. The inflated text is the series' Rx in the LxProtocol's
keys and values without `set` (`PSEQ "MP-RAGE"`, `CONTRAST "No"`, `COIL "48HA"`, `FOV "24.0"` in cm, one a line;
the three GE fixtures of dcm_qa_ge and dcm_qa_table hold it in every file), so it is parsed and mapped by the GE
protocol reader (ge_protocol: one parser, one mapping, its units converted there).

The images are what was acquired: the protocol fills what they do not state, upgrades what they only imply (a
contrast agent, see `_contrast`), and where both state a value and disagree a warning says so. Only the one file
per series the DICOM reader reads in full is decoded; the value is size-capped and its inflation capped (limits),
and a damaged one is a warning: the images are read as they would be without it.
"""

from __future__ import annotations

import re
import struct
import zlib

from .. import limits
from ..acquisition import Acquisition
from . import dicom_private, ge_protocol
from .dicom_protocol import COMPARED, _agree

GROUP, CREATOR, ELEMENT = dicom_private.PRIVATE["ge_series_protocol"]  # (0025,xx1B) of GEMS_SERS_01
TAG = "(0025,101B)"
MAX_BLOB = 1024 * 1024  # compressed bytes: the fixtures' are under 1 KB; past this the value is no series protocol
MAX_TEXT = ge_protocol.MAX_MEMBER  # inflated bytes: one LxProtocol is ~20 KB (and never past limit inflate_bytes)
GZIP_MAGIC = b"\x1f\x8b"
# Values of the protocol the images' own reading always has, or that name the protocol rather than the series.
NOT_FILLED = {"manufacturer", "series_description", "contrast_agent"}
# Values the images state even where the DICOM reader sets none: GE writes InversionTime 0 when there is no
# inversion (dicom.py), which says "none", not "unknown".
STATED_BY = {"inversion_time_ms": "InversionTime"}


class Unreadable(ValueError):
    """The block is there but is no readable series protocol (the message says why)."""


def blob_of(ds) -> bytes | None:
    """The raw value of (0025,xx1B) in block GEMS_SERS_01, or None when the file has none."""
    element = dicom_private.element(ds, "ge_series_protocol")
    if element is None:
        return None
    value = element.value
    if not value:
        return None  # empty (a tool blanked it): no protocol, nothing to say
    if not isinstance(value, bytes | bytearray):
        raise Unreadable(f"a {type(value).__name__} value, not bytes")
    return bytes(value)


def text_of(blob: bytes) -> str:
    """The protocol text of one block: the length word checked, the gzip stream inflated under the caps."""
    if len(blob) > MAX_BLOB:
        raise Unreadable(f"{len(blob):,} bytes, past the {MAX_BLOB:,} a series protocol takes")
    if len(blob) < 4 + 18:  # the length word, then a gzip member's 10-byte header and 8-byte trailer at least
        raise Unreadable(f"{len(blob)} bytes: too short for a gzip stream")
    (stated,) = struct.unpack_from("<I", blob)
    stream = blob[4:]
    if stated > len(stream):
        raise Unreadable(f"truncated: its length word states {stated:,} bytes, {len(stream):,} follow")
    if stream[:2] != GZIP_MAGIC:
        raise Unreadable("no gzip stream after its length word")
    cap = min(MAX_TEXT, limits.get("inflate_bytes"))
    inflater = zlib.decompressobj(31)
    try:
        data = inflater.decompress(stream[:stated], cap + 1)
    except zlib.error as exc:
        raise Unreadable(f"a damaged gzip stream ({exc})") from None
    if len(data) > cap or inflater.unconsumed_tail:
        raise Unreadable(f"inflates past {cap:,} bytes (no series protocol is so long; limit inflate_bytes)")
    if not inflater.eof:
        raise Unreadable("its gzip stream ends before its end (truncated)")
    text = data.decode("latin-1")
    if text.lstrip().startswith("<"):
        raise Unreadable("an XML protocol block (DV24 consoles), whose layout no public source documents")
    return text


def merge(ds, acq: Acquisition, here: str, warnings_out: list[str], is_map: bool) -> None:
    """Set the series protocol of this representative file (`ds`) beside what its images state (`acq`)."""
    where = f"{here} {TAG} GE series protocol"
    try:
        blob = blob_of(ds)
        if blob is None:
            return
        values = ge_protocol.lx_values(text_of(blob), plain=True)
        if not values:
            raise Unreadable('no KEY "VALUE" lines')
    except Unreadable as exc:
        _say(warnings_out, [f"{acq.name}: {where} not read ({exc}); the images' values stand"])
        return
    protocol = ge_protocol.acquisition_from_lx_values(acq.name, values, where)
    disagree = []
    several = len(acq.get("image_planes") or []) > 1
    for param, value in protocol.params.items():
        if param in NOT_FILLED:
            continue
        if param in acq.params:
            theirs = acq.params[param]
            if param == "orientation" and value == "oblique":
                continue  # PLANE=OBLIQUE: the images' slice normal says which plane it lies nearest
            if param in COMPARED and not _agree(value, theirs):
                disagree.append(f"{param} protocol {value!r}, images {theirs!r}")
            continue
        keyword = STATED_BY.get(param)
        if keyword and ds.get(keyword) is not None and str(ds.get(keyword)).strip() != "":
            disagree.append(f"{param} protocol {value!r}, images none ({keyword}={ds.get(keyword)})")
            continue
        if param in ("b_values", "diffusion_directions") and is_map:
            continue  # a map computed from a diffusion series has none of its own (the Siemens protocol's rule)
        if param in ("orientation", "phase_encoding_direction") and several:
            continue  # images in several planes: no one plane is the series'
        if param == "parallel_mode" and value == "none" and (acq.get("parallel_factor") or 1) > 1:
            continue  # IOPT names no ARC/Asset (implied none) beside the images' acceleration: the method is untold
        acq.set(param, value, protocol.provenance[param])
        if param == "image_planes":  # PLANE=3-PLANE: one file's plane is not the series'
            for key in ("orientation", "phase_encoding_direction"):
                acq.params.pop(key, None)
                acq.provenance.pop(key, None)
    disagree += _contrast(acq, protocol)
    for key in ("coil", "anatomy"):  # region evidence where the images' own tags are empty
        if protocol.context.get(key):
            acq.context.setdefault(key, protocol.context[key])
    _say(warnings_out, [f"{acq.name}: {TAG} GE series protocol vs images: {line}" for line in disagree])


def _say(warnings_out: list[str], lines: list[str]) -> None:
    """Each line once (a series whose representative is read twice, to count its b-values again, says it once)."""
    warnings_out += [line for line in lines if line not in warnings_out]


def _contrast(acq: Acquisition, protocol: Acquisition) -> list[str]:
    """CONTRAST "Yes" states that the series was acquired with contrast (the Rx's contrast field; the blocks GDCM
    harvested, Applications/Cxx/gdcmdump.cxx `--pdb`, hold CONTRAST "Yes" beside CONTAG "GAD"): it upgrades the "no"
    the images only imply (no Contrast/Bolus module) to a stated "yes", which is post-contrast evidence.

    CONTRAST "No" says no more than the absent module does: a post-contrast series whose Rx nobody changed carries
    it as it carries no module. It stays an implication, so a post-contrast name or the place after an enhanced
    series of the study still outranks it (match.contrast_phases), as they outrank the absent module; made a
    statement, it would empty the post-contrast slots such series fill today. A value the images state (an agent
    named, or named none) is kept; the protocol saying otherwise is a disagreement."""
    said = protocol.get("contrast_agent")
    if said is None:
        return []
    mine = acq.get("contrast_agent")
    source = acq.provenance.get("contrast_agent", "")
    implied = mine is None or source.startswith("implied")
    if said is True and implied:
        stale = _named_pre_contrast(acq)
        if stale:  # a protocol reused unchanged before the injection: its setting is not the series' statement
            return [f"contrast_agent protocol True (CONTRAST=Yes), but {stale}: the protocol's setting is not taken"]
        acq.set("contrast_agent", True, protocol.provenance["contrast_agent"])
        return []
    if said is False and implied:
        if mine is False:
            said_no = protocol.provenance["contrast_agent"]
            acq.set("contrast_agent", False, f"{source}; {said_no} (no more than the absent module says)")
        return []
    if said != mine:
        return [f"contrast_agent protocol {said!r}, images {mine!r} ({source})"]
    return []


def _named_pre_contrast(acq: Acquisition) -> str | None:
    """Whether the series' own name says pre-contrast, by the words matching reads (matching-evidence.yaml
    `contrast_names`: a pre word governing the contrast word, and no post-contrast word beside it)."""
    from ..match import evidence  # at call time: a "Yes" is rare, and matching's vocabulary is loaded then

    name = str(acq.get("series_description") or acq.name)
    words = re.sub(r"_+", " ", name)  # console names join words with "_" ("T1_PRE_GD"), as matching reads them
    ev = evidence()
    if ev.pre.search(words) and not ev.post.search(ev.pre.sub(" ", words)):
        return f"the series name {name!r} says pre-contrast"
    return None
