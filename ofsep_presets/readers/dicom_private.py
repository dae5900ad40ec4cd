"""The vendors' private DICOM elements the readers use, found by their creator as PS3.5 §7.8.1 says.

A private element (gggg,xxee) belongs to the block xx whose creator element (gggg,00xx) holds the creator's name;
the element byte ee is what the creator defines, the block xx is whichever the writer took. Most files put their
first creator at (gggg,0010), so the value is at (gggg,10ee), but nothing fixes it: a Philips Ingenia writes
"Philips MR Imaging DD 002" at (2005,0011), an Elition X "Philips MR Imaging DD 001" at (2005,0012), and an
archive that rewrites private blocks (dcm_qa_agfa) moves them again. Reading (gggg,10ee) blindly then reads
nothing, or another creator's element.

PRIVATE is the one table of every private element read: name -> (group, creator, element byte). The creators and
element bytes are those of pydicom's private dictionary (from GDCM's and DCMTK's) where it has them; the rest
(Siemens XA "SIEMENS MR SDS 01" / "SDI 02", United Imaging's "Image Private Header", GE HyperBand (0043,xxB6)) are
as the vendors' own files write them (the XA30 fixtures; GDCM gdcmEquipmentManufacturer.cxx for UIH; dcm_qa_ge's
README for HyperBand). Each value is found by the same resolution of its block: `element` on a pydicom dataset
(pydicom's Dataset.private_block), `canonical` on the raw elements of the fast walk (dicom_scan), both through
`block_of`. The fast paths key values by the tag of block 0x10 ("canonical"), the form the constants and
decoders of dicom.py are written in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

PRIVATE: dict[str, tuple[int, str, int]] = {
    # GE
    "ge_gradient_x": (0x0019, "GEMS_ACQU_01", 0xBB),  # User data 20-22: the diffusion gradient
    "ge_gradient_y": (0x0019, "GEMS_ACQU_01", 0xBC),
    "ge_gradient_z": (0x0019, "GEMS_ACQU_01", 0xBD),
    "ge_diffusion_directions": (0x0019, "GEMS_ACQU_01", 0xE0),  # User data 24: DTI directions prescribed
    "ge_pulse_sequence": (0x0019, "GEMS_ACQU_01", 0x9C),  # Pulse Sequence Name
    "ge_locations": (0x0021, "GEMS_RELA_01", 0x4F),  # Locations in acquisition
    "ge_series_protocol": (0x0025, "GEMS_SERS_01", 0x1B),  # Protocol Data Block (compressed)
    "ge_bvalue": (0x0043, "GEMS_PARM_01", 0x39),  # Slop_int_6... slop_int_9: b-value first
    "ge_user_data": (0x0043, "GEMS_PARM_01", 0x2A),  # User defined data: the raw header's rdb_hdr
    "ge_asset_factors": (0x0043, "GEMS_PARM_01", 0x83),  # Asset R Factors
    "ge_multiband": (0x0043, "GEMS_PARM_01", 0xB6),  # HyperBand: factor, slice FOV shift, calibration
    # Siemens
    "siemens_bvalue": (0x0019, "SIEMENS MR HEADER", 0x0C),  # B_value
    "siemens_gradient": (0x0019, "SIEMENS MR HEADER", 0x0E),  # DiffusionGradientDirection
    "siemens_csa_image": (0x0029, "SIEMENS CSA HEADER", 0x10),  # CSA Image Header Info
    "siemens_csa_series": (0x0029, "SIEMENS CSA HEADER", 0x20),  # CSA Series Header Info (MrPhoenixProtocol)
    "siemens_xa_protocol": (0x0021, "SIEMENS MR SDS 01", 0x19),  # XA: MrPhoenixProtocol
    "siemens_xa_protocol_item": (0x0021, "SIEMENS MR SDS 01", 0xFE),  # XA enhanced: the item holding it
    "siemens_xa_pe_positive": (0x0021, "SIEMENS MR SDI 02", 0x1C),  # XA: PhaseEncodingDirectionPositive
    # Philips
    "philips_bvalue": (0x2001, "Philips Imaging DD 001", 0x03),  # Diffusion B-Factor
    "philips_prepulse_delay": (0x2001, "Philips Imaging DD 001", 0x1B),  # Prepulse Delay (ms)
    "philips_prepulse_type": (0x2001, "Philips Imaging DD 001", 0x1C),  # Prepulse Type
    "philips_technique": (0x2001, "Philips Imaging DD 001", 0x20),  # Scanning Technique Description MR
    "philips_slices": (0x2001, "Philips Imaging DD 001", 0x18),  # Number of Slices MR (SL)
    "philips_gradient_rl": (0x2005, "Philips MR Imaging DD 001", 0xB0),  # Diffusion Direction RL
    "philips_gradient_ap": (0x2005, "Philips MR Imaging DD 001", 0xB1),  # Diffusion Direction AP
    "philips_gradient_fh": (0x2005, "Philips MR Imaging DD 001", 0xB2),  # Diffusion Direction FH
    "philips_series_data": (0x2005, "Philips MR Imaging DD 005", 0x0F),  # MR series data (an SQ)
    # A Philips protocol object's tables (GDCM Examples/Cxx/DumpExamCard.cxx): items of (2005,xx32), each naming its
    # table (xx37: "PDF_EXAM_PARS", "ExamCardBlob"...), its encoding (xx39) and holding its bytes (xx44)
    "philips_protocol_tables": (0x2005, "Philips MR Imaging DD 002", 0x32),
    "philips_protocol_name": (0x2005, "Philips MR Imaging DD 002", 0x37),
    "philips_protocol_encoding": (0x2005, "Philips MR Imaging DD 002", 0x39),
    "philips_protocol_data": (0x2005, "Philips MR Imaging DD 002", 0x44),
    # United Imaging
    "uih_bvalue": (0x0065, "Image Private Header", 0x09),  # BActualValue (FD)
    "uih_gradient": (0x0065, "Image Private Header", 0x37),  # MRDiffusionGradOrientation (FD, 3)
}

FIRST_BLOCK, LAST_BLOCK = 0x10, 0xFF  # creator elements (gggg,0010)-(gggg,00FF), PS3.5 §7.8.1


def canonical_tag(name: str) -> int:
    """The element's tag in block 0x10, the one most files use: how the fast paths key its value."""
    group, _, byte = PRIVATE[name]
    return (group << 16) | 0x1000 | byte


@cache  # the same few groups for every file of a scan
def creator_tags(group: int) -> frozenset[int]:
    """The creator elements (gggg,0010)-(gggg,00FF) of one private group."""
    return frozenset((group << 16) | block for block in range(FIRST_BLOCK, LAST_BLOCK + 1))


def tags_of(names: Iterable[str]) -> frozenset[int]:
    """Every tag a walk must collect to find `names` in whichever block: their element in each block, and the
    creators of their groups (a walk collects exact tags; the block is known only once the creators are read)."""
    out: set[int] = set()
    for name in names:
        group, _, byte = PRIVATE[name]
        out |= creator_tags(group)
        out |= {(group << 16) | (block << 8) | byte for block in range(FIRST_BLOCK, LAST_BLOCK + 1)}
    return frozenset(out)


_TEXTS: dict[bytes, str] = {}  # raw creator value -> text: the files of a scan repeat a few creators
_TEXTS_SIZE = 1024


def _creator_text(value: Any) -> str:
    """A creator value (LO) as text: raw bytes or pydicom's str, padding stripped (PS3.5 6.2: trailing spaces)."""
    if isinstance(value, bytes | bytearray):
        key = value if isinstance(value, bytes) else bytes(value)
        text = _TEXTS.get(key)
        if text is None:
            if len(_TEXTS) >= _TEXTS_SIZE:
                _TEXTS.clear()
            text = _TEXTS[key] = key.decode("latin-1").strip("\0 ")
        return text
    return str(value).strip("\0 ")


def blocks(creators: Mapping[int, Any]) -> dict[tuple[int, str], int]:
    """{(group, creator): block xx} of the creator elements (gggg,0010-00FF) among `creators` (tag -> value; other
    tags ignored); where one creator holds several blocks of a group, its lowest."""
    out: dict[tuple[int, str], int] = {}
    for tag, value in creators.items():
        block = tag & 0xFFFF
        if tag >> 16 & 1 and FIRST_BLOCK <= block <= LAST_BLOCK:
            key = (tag >> 16, _creator_text(value))
            if block < out.get(key, 0x100):
                out[key] = block
    return out


def block_of(creators: Mapping[int, Any], group: int, creator: str) -> int | None:
    """The block xx (0x10-0xFF) whose creator element (group,00xx) in `creators` (tag -> value, any other tags
    ignored) names `creator`; the lowest such block where several do; None where no block does."""
    return blocks(creators).get((group, creator))


def element(ds: Any, name: str) -> Any:
    """The pydicom DataElement of private element `name` in `ds` (a dataset or a sequence item), or None where its
    creator or the element is absent."""
    group, creator, byte = PRIVATE[name]
    try:
        block = _blocks_in(ds, group).get(creator)
    except (KeyError, ValueError, TypeError, AttributeError):
        return None
    return None if block is None else ds.get((group << 16) | (block << 8) | byte)


_DATASETS: dict[int, tuple[Any, dict[int, dict[str, int]]]] = {}  # id -> (dataset, {group: {creator: block}})
_DATASETS_SIZE = 16  # the datasets being read (a representative file and its items): each held, so no id recurs


def _blocks_in(ds: Any, group: int) -> dict[str, int]:
    """{creator: lowest block} of one group of a dataset. Every group's creators are found in one pass over the
    dataset's tags, once per dataset (pydicom's private_block sorts the dataset's tags at every call, and the
    reader asks a dozen per file)."""
    entry = _DATASETS.get(id(ds))
    if entry is None or entry[0] is not ds:
        if len(_DATASETS) >= _DATASETS_SIZE:
            _DATASETS.clear()
        groups: dict[int, dict[str, int]] = {}
        for key in ds.keys():  # noqa: SIM118 - iterating a Dataset yields its elements, sorted: the keys only
            tag = int(key)  # pydicom's BaseTag compares in Python: one int() each instead
            block = tag & 0xFFFF
            if tag & 0x10000 and FIRST_BLOCK <= block <= LAST_BLOCK:
                found = groups.setdefault(tag >> 16, {})
                text = _creator_text(ds[key].value)
                if block < found.get(text, 0x100):
                    found[text] = block
        entry = _DATASETS[id(ds)] = (ds, groups)
    return entry[1].get(group, {})


def tag_text(found: Any) -> str:
    """A found element's own tag as "(gggg,eeee)", for provenance: where the value was, in whichever block."""
    tag = int(found.tag)
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


def value(ds: Any, name: str, default: Any = None) -> Any:
    """The value of private element `name` in a pydicom dataset, `default` where it is absent."""
    found = element(ds, name)
    return default if found is None else found.value


def canonical(found: Mapping[int, Any], names: tuple[str, ...]) -> dict[int, Any]:
    """`found` (tag -> raw (VR, bytes), as dicom_scan.walk returns) with the private elements of `names` re-keyed
    to their canonical tag when their block's creator (also in `found`) is theirs, and every other element of
    their groups' private blocks (creators, another creator's elements) dropped; standard elements untouched.

    Called once per file by the header scan: which copy goes where depends only on the creators a file holds,
    which the files of a scan repeat, so it is worked out once per set of creators."""
    present, moves = _present_moves(found, names)
    if not present:
        return found
    out = dict(found)
    for tag in present:
        del out[tag]
    for source, tag in moves:
        raw = found.get(source)
        if raw is not None:
            out[tag] = raw
    return out


def fast_tags_of(names: Iterable[str]) -> frozenset[int]:
    """The tags the header scan collects for `names`: their groups' creators and their elements in block 0x10
    (where most files keep them). A file whose creator holds another block is left to pydicom (fast_canonical)."""
    out: set[int] = set()
    for name in names:
        group = PRIVATE[name][0]
        out |= creator_tags(group)
        out.add(canonical_tag(name))
    return frozenset(out)


def in_first_block(found: Mapping[int, Any], names: tuple[str, ...]) -> bool:
    """Whether block 0x10 of every group of `names` is their creator's in `found`, or the group is not there at
    all (most files): then `found` is fast_canonical's answer as it is, told in one lookup per creator."""
    for group, first, creator, tags in _fast_groups(names):
        raw = found.get(first)
        if raw is not None:
            if _creator_text(raw[1]) != creator:
                return False
        elif not creator_tags(group).isdisjoint(found) or any(tag in found for tag in tags):
            return False  # a block elsewhere, or values without a creator: fast_canonical decides
    return True  # (a group without any creator or value, as an XA MPRAGE's 0019: nothing to check)


def fast_canonical(found: Mapping[int, Any], names: tuple[str, ...]) -> Mapping[int, Any] | None:
    """The header scan's `found` (tag -> raw (VR, bytes), collected as fast_tags_of says) with the elements of
    `names` kept only where their block 0x10 is their creator's: as is in most files (checked with one lookup per
    creator); a group whose creator is absent has its block-0x10 values dropped (another creator's); None where the
    creator holds another block (PS3.5 7.8.1: the pydicom read, creator-aware, reads it there)."""
    out = found
    present = None
    for group, first, creator, tags in _fast_groups(names):
        raw = found.get(first)
        if raw is not None and _creator_text(raw[1]) == creator:
            continue
        if present is None:
            present = [(tag, raw[1]) for tag in _all_creators(names).intersection(found) for raw in (found[tag],)]
        if any(tag >> 16 == group and _creator_text(value) == creator for tag, value in present):
            return None
        if any(tag in found for tag in tags):
            if out is found:
                out = dict(found)
            for tag in tags:
                out.pop(tag, None)
    return out


@cache
def _fast_groups(names: tuple[str, ...]) -> tuple[tuple[int, int, str, tuple[int, ...]], ...]:
    """Per (group, creator) of `names`: the group, its first creator tag (gggg,0010), the creator, the tags."""
    groups: dict[tuple[int, str], list[int]] = {}
    for name in names:
        group, creator, _ = PRIVATE[name]
        groups.setdefault((group, creator), []).append(canonical_tag(name))
    return tuple((g, (g << 16) | FIRST_BLOCK, c, tuple(tags)) for (g, c), tags in groups.items())


@cache
def _all_creators(names: tuple[str, ...]) -> frozenset[int]:
    return frozenset().union(*(creator_tags(PRIVATE[name][0]) for name in names))


def _present_moves(found: Mapping[int, Any], names: tuple[str, ...]) -> tuple[frozenset, tuple]:
    collected, creator_set, _ = _wanted(names)
    present = collected.intersection(found)  # walks the few found tags, not the 1,440 collected
    if not present:
        return present, ()
    creators = tuple(sorted((tag, found[tag][1]) for tag in present if tag in creator_set))
    key = (names, creators)
    moves = _MOVES.get(key)
    if moves is None:
        if len(_MOVES) >= _TEXTS_SIZE:
            _MOVES.clear()
        moves = _MOVES[key] = _moves(names, creators)
    return present, moves


def _moves(names: tuple[str, ...], creators: tuple) -> tuple[tuple[int, int], ...]:
    """(tag in the file, canonical tag) of each of `names` whose creator is among `creators` (tag, raw value)."""
    where = blocks(dict(creators))
    out = []
    for group, creator, byte, tag in _wanted(names)[2]:
        block = where.get((group, creator))
        if block is not None:
            out.append(((group << 16) | (block << 8) | byte, tag))
    return tuple(out)


_MOVES: dict[tuple, tuple[tuple[int, int], ...]] = {}  # (names, a file's creator elements) -> its moves


@cache
def _wanted(names: tuple[str, ...]) -> tuple[frozenset[int], frozenset[int], tuple[tuple[int, str, int, int], ...]]:
    """The tags a walk collects for `names` (tags_of), the creator tags among them and, per name, (group,
    creator, byte, canonical tag)."""
    groups = {PRIVATE[n][0] for n in names}
    creators = frozenset().union(*(creator_tags(g) for g in groups))
    return tags_of(names), creators, tuple((*PRIVATE[n], canonical_tag(n)) for n in names)
