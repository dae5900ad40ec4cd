"""Which acquisition is which spec sequence: an assignment over the whole exam, every pair scored with its reasons.

A physicist reading a report must be able to see *why* "5 3D Ax T1 MP-RAGE" was taken for the 3D T1, so a
match is a score built from named pieces of evidence: our own sheet's id, the BIDS suffix, the sequence family,
the series name (vendor product names, French and English words), the contrast phase, and the identity classes
that tell sequences of one family apart (2D/3D, orientation, resolution class). Some properties *veto* a pair
outright (a 2D FLAIR is never the 3D FLAIR; a known spine acquisition never a brain sequence; a short-TE spoiled
gradient echo never the T2*; a post-contrast slot without contrast evidence stays empty). Parameters the spec
merely limits (slice thickness, voxel) never steer the match: a 1.2 mm T1 must still be *the* T1, so it can fail.

The best *global* assignment wins (Hungarian algorithm on a few dozen series), so one strong match never steals a
series another slot needs more. Computed maps (ADC, FA, trace-weighted) are not sequences: kept aside for the
session rules. A series that repeats a matched one is reported as its repeat, not pushed into an optional slot.
The evidence vocabulary is data: protocol_spec/model/matching-evidence.yaml.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .acquisition import Acquisition
from .regions import REGIONS, admits, geometry_excludes, refined, regions_named, regions_of_coil
from .resources import spec_dir
from .spec import Sequence, Spec
from .yamlload import load_yaml

MAPS = {"ADC", "FA", "TRACEW", "TRACE"}  # series computed from an acquisition, never an acquisition themselves
T1_FAMILIES = {"mprage", "spgr"}
T2STAR_FAMILIES = {"t2star", "gre"}
WORD_REGIONS = ("brain", "spine")  # the regions whose words in a name nudge an unplaced series (regions.yaml)


@dataclass(frozen=True)
class Evidence:
    """What the matching vocabulary knows, compiled once."""

    not_sequences: tuple[tuple[str, re.Pattern, frozenset[str]], ...]
    not_sequence_types: dict[str, frozenset[str]]  # per not_sequences kind, ImageType terms that state it
    weighting_in_family: dict[str, dict[str, str]]
    stackless: frozenset[str]  # not_sequences kinds whose slice stack is no evidence of the anatomy
    several_planes: str | None  # the not_sequences kind of a series whose images lie in several planes
    ignored_entities: re.Pattern
    post: re.Pattern
    pre: re.Pattern
    injection: re.Pattern
    weightings: tuple[tuple[str, re.Pattern], ...]
    planes: tuple[tuple[str, re.Pattern], ...]
    stations: tuple[tuple[str, re.Pattern], ...]
    stir_needs_inversion: bool
    stir_max_ti_ms: float
    t2star_min_te_ms: float
    brain_min_fov_mm: float
    cord_station_min_fov_mm: float
    points: dict[str, float]
    derived_types: dict[str, str]
    products: frozenset[str]
    stand_ins: frozenset[str]
    phase_types: frozenset[str]
    magnitude_types: frozenset[str]
    reconstructions: dict[str, str]
    dwi_suffix_words: dict[str, str]
    named_directions: re.Pattern
    tensor_volumes_min: int


@cache
def evidence() -> Evidence:
    doc = load_yaml(spec_dir() / "model" / "matching-evidence.yaml")
    entities = "|".join(re.escape(e) for e in doc["bids_entities_ignored"])
    return Evidence(
        not_sequences=tuple(
            (why, re.compile(v["names"], re.I), frozenset(v.get("bids", []))) for why, v in doc["not_sequences"].items()
        ),
        not_sequence_types={
            why: frozenset(str(t).upper() for t in v.get("image_types", [])) for why, v in doc["not_sequences"].items()
        },
        weighting_in_family={f: dict(m) for f, m in (doc.get("weighting_in_family") or {}).items()},
        stackless=frozenset(why for why, v in doc["not_sequences"].items() if v.get("stack_is_no_evidence")),
        several_planes=next((why for why, v in doc["not_sequences"].items() if v.get("several_planes")), None),
        ignored_entities=re.compile(rf"(?:^|(?<=[_\s]))(?:{entities})-[A-Za-z0-9]+(?=_|\s|$)"),
        post=re.compile(doc["contrast_names"]["post"], re.I),
        pre=re.compile(doc["contrast_names"]["pre"], re.I),
        injection=re.compile(doc["injection_steps"], re.I),
        weightings=tuple((w, re.compile(p, re.I)) for w, p in doc["weightings"].items()),
        planes=tuple((w, re.compile(p, re.I)) for w, p in (doc.get("plane_names") or {}).items()),
        stations=tuple((w, re.compile(p, re.I)) for w, p in (doc.get("station_names") or {}).items()),
        stir_needs_inversion=bool(doc.get("stir_needs_inversion", False)),
        stir_max_ti_ms=float(doc.get("stir_max_ti_ms", float("inf"))),
        t2star_min_te_ms=float(doc["echo_time"]["t2star_min_te_ms"]),
        brain_min_fov_mm=float(doc["brain_min_fov_mm"]),
        cord_station_min_fov_mm=float(doc["cord_station_min_fov_mm"]),
        points={k: float(v) for k, v in doc["scores"].items()},
        derived_types={str(k).upper(): str(v) for k, v in doc["image_types"]["derived"].items()},
        products=frozenset(str(v).upper() for v in doc["image_types"].get("products", [])),
        stand_ins=frozenset(str(v).upper() for v in doc["image_types"].get("stand_in_when_alone", [])),
        phase_types=frozenset(str(v).upper() for v in doc["image_types"].get("phase", [])),
        magnitude_types=frozenset(str(v).upper() for v in doc["image_types"].get("magnitude", [])),
        reconstructions={str(k).upper(): str(v) for k, v in doc["image_types"].get("reconstructions", {}).items()},
        dwi_suffix_words=dict(doc["diffusion_class"]["bids_suffix_words"]),
        named_directions=re.compile(doc["diffusion_class"]["named_directions"], re.I),
        tensor_volumes_min=int(doc["diffusion_class"]["tensor_volumes_min"]),
    )


@dataclass
class Match:
    """One acquisition taken for one spec sequence, with how sure and why."""

    sequence: str
    acquisition: Acquisition
    position: int
    score: float
    reasons: list[str]
    forced: bool = False

    @property
    def confidence(self) -> float:
        return 1.0 if self.forced else round(min(1.0, self.score / 20.0), 2)


@dataclass
class Unmatched:
    """An acquisition no slot took: why, and the slot it came closest to (with that slot's score)."""

    acquisition: Acquisition
    why: str
    closest: str | None = None
    score: float | None = None
    repeat_of: str | None = None


@dataclass
class Matching:
    matches: dict[str, list[Match]] = field(default_factory=dict)
    unmatched: list[tuple[Acquisition, str]] = field(default_factory=list)
    maps: list[Acquisition] = field(default_factory=list)
    details: list[Unmatched] = field(default_factory=list)
    repeats: dict[str, list[Acquisition]] = field(default_factory=dict)

    def first(self, seq_id: str) -> Match | None:
        found = self.matches.get(seq_id)
        return found[0] if found else None

    def _leave(self, item: Unmatched) -> None:
        self.details.append(item)
        self.unmatched.append((item.acquisition, item.why))
        if item.repeat_of:
            self.repeats.setdefault(item.repeat_of, []).append(item.acquisition)


def is_map(acq: Acquisition) -> bool:
    """A series computed from another (ADC, FA, trace-weighted images): never the acquisition of a sequence.

    A site that kept only the TRACEW images of its DWI has not shown the diffusion series itself. A BIDS
    `rec-ADC` / `rec-TRACE` entity says the same as the DICOM ImageType (BIDS: "rec" = reconstruction)."""
    if set(acq.get("derived") or []) & MAPS:
        # A series that also holds magnitude images (ImageType M, M_SE…) is the acquisition with its maps stored
        # inside: Philips keeps the derived diffusion images in the DWI series itself (dcm2niix issue 44: they
        # are split off at conversion); it stays the DWI, and carries its map for the session rule.
        return not image_types(acq) & evidence().magnitude_types
    rec = re.search(r"(?:^|_)rec-([A-Za-z0-9]+)(?=_|$)", bids_tail(acq.name) or "")
    if rec and rec.group(1).upper() in TRACES and _original_magnitude(acq):
        # The curator's "trace" names what the scanner stored as the acquisition's own magnitude images (ImageType
        # ORIGINAL\\PRIMARY\\M\\SE: SOOP's Philips "sB1000", b 0 and 1000 in one series, as a Philips DWI series
        # holds its isotropic images, see above): the DWI itself, as its DICOM would be read. A computed map
        # (ADC, FA) stays a map whatever its ImageType.
        return False
    return bool(rec and rec.group(1).upper() in MAPS | {"MD"})


TRACES = {"TRACE", "TRACEW"}  # trace-weighted images: diffusion-weighted images, unlike the ADC and FA maps


def _original_magnitude(acq: Acquisition) -> bool:
    """Whether the ImageType states an acquisition's original magnitude images (values 1 ORIGINAL, a magnitude
    term: DICOM PS3.3 C.7.6.1.1.2, C.8.13.1.1.1)."""
    types = image_types(acq)
    return "ORIGINAL" in types and bool(types & evidence().magnitude_types) and not types & MAPS


def image_types(acq: Acquisition) -> frozenset[str]:
    """The ImageType terms the series' files state (DICOM), as the reader recorded them; empty when not stated."""
    return frozenset(t for t in (acq.context.get("image_type") or "").split("\\") if t)


def derived_reason(acq: Acquisition) -> str | None:
    """Why a series holds images computed from other images (a reformat, a projection, a computed map) or only
    part of an acquisition's images (its phase), and is therefore never the acquisition of a sequence; None for
    an acquisition's own images and for the diffusion maps (`is_map`), which the session rules use.

    From the ImageType the DICOM header states (matching-evidence.yaml `image_types`): a term naming the kind of
    derived image (MPR, PROJECTION IMAGE, ...), value 2 SECONDARY (PS3.3 C.7.6.1.1.2), or phase images only."""
    if is_map(acq):
        return None
    ev = evidence()
    types = image_types(acq)
    if types & ev.products:
        return None
    if len(acq.get("b_values") or []) > 1 and types & ev.magnitude_types:
        return None  # a diffusion acquisition's magnitude images, its derived images stored inside (see is_map)
    named = sorted(t for t in types if t in ev.derived_types)
    if named:
        return f"derived series: {ev.derived_types[named[0]]} (ImageType {named[0]}), not an acquisition"
    # Value 1 DERIVED alone decides nothing: GE writes DERIVED\\PRIMARY\\OTHER on the filtered images of an
    # acquisition itself (spine-generic chiba750's T1w and T2w, dcm2niix sidecars), its unfiltered copy ("ORIG")
    # beside them only when asked; what kind of derived image a series is, its other terms say.
    if "SECONDARY" in types and "PRIMARY" not in types:
        # Value 2 (PS3.3 C.7.6.1.1.2): SECONDARY = "image created after the initial patient examination".
        return "secondary images (ImageType SECONDARY: created after the examination), not an acquisition"
    if types & ev.phase_types and not types & ev.magnitude_types:
        shown = "/".join(sorted(types & ev.phase_types))
        return f"phase images (ImageType {shown}) of an acquisition, not its magnitude images"
    part = re.search(r"(?:^|_)part-(phase|imag|real)(?=_|$)", bids_tail(acq.name) or "")
    if part:  # BIDS "part" entity: the component of complex-valued data a file holds
        return f"{part.group(1)} images (BIDS part-{part.group(1)}) of an acquisition, not its magnitude images"
    return None


BIDS_NAME = re.compile(r"^sub-[a-zA-Z0-9]+_(?:ses-[a-zA-Z0-9]+_)?(.+?)(?:_run-\d+)?$")


def bids_tail(name: str) -> str | None:
    """What a BIDS file name says the series is, without subject, session and run: 'flip-1_mt-on_MTS'.

    The suffix and entities are the dataset curator's statement (BIDS specification), as strong as a series name."""
    found = BIDS_NAME.match(name)
    if not found:
        return None
    return re.sub(r"(?:^|_)run-\d+(?=_)", "", found.group(1)).lstrip("_")


def bids_suffix(name: str) -> str | None:
    tail = bids_tail(name)
    return tail.rsplit("_", 1)[-1] if tail else None


def words_of(acq: Acquisition) -> str:
    """The names that describe the series, without BIDS entities that describe something else (`dir-AP` is a
    phase-encoding direction, `run-2` a repeat): "sub-01_task-rest_dir-AP_bold" reads "bold"."""
    text = f"{acq.name} {acq.get('series_description') or ''}"
    text = re.sub(r"\bsub-[A-Za-z0-9]+_?", " ", text)
    suffix = bids_suffix(acq.name)
    word = evidence().dwi_suffix_words.get(suffix or "")
    if word:  # a datatype suffix (`_dwi`: every diffusion series) names no sequence of its datatype over another
        text = re.sub(rf"_{re.escape(suffix)}(?=\s|$)", f" {word}", text)
    return evidence().ignored_entities.sub(" ", text)


def _tokens(text: str) -> tuple[str, ...]:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return tuple(t for t in re.split(r"[^a-z0-9]+", plain) if t)


def mentions(text: str, phrase: str) -> bool:
    """Whether `text` contains `phrase` as whole words, case- and accent-insensitive ("OFSEP réduit" ∋ "reduit")."""
    words, wanted = _tokens(text), _tokens(phrase)
    n = len(wanted)
    return bool(n) and any(words[i : i + n] == wanted for i in range(len(words) - n + 1))


def weightings_in(text: str) -> set[str]:
    found: set[str] = set()
    for weighting, pattern in evidence().weightings:
        if pattern.search(text):
            found.add(weighting)
            text = pattern.sub(" ", text)  # "T2*" and "T2 EG" are not also a T2
    return found


def planes_in(text: str) -> set[str]:
    """The planes a series name states (matching-evidence.yaml `plane_names`)."""
    return {plane for plane, pattern in evidence().planes if pattern.search(text)}


@cache
def _slot_weightings(hints: tuple[str, ...]) -> frozenset[str]:
    return frozenset(w for h in hints for w in weightings_in(h))


def _hint_hits(seq: Sequence, name: str) -> list[str]:
    hits = []
    for hint in seq.hints:
        tail = r"(?:w|W)?(?![A-Za-z0-9*])" if hint[-1:].isdigit() else r"(?![A-Za-z])"
        if re.search(r"(?<![A-Za-z0-9])" + re.escape(hint) + tail, name, re.I):
            hits.append(hint)
    return hits


def is_injection_step(acq: Acquisition) -> bool:
    """A program step that is the injection itself (a pause card named "Gadolinium"), not an acquisition."""
    if acq.context.get("injection"):  # the export states it: a Siemens pause step that applies the agent
        return True
    if any(acq.get(p) is not None for p in _ACQUIRED):
        return False  # a step that acquires something is a series, whatever its name says of the contrast
    # The whole name is an injection statement ("Gadolinium", "mezzo di contrasto", "Injection Dotarem"): a name
    # holding any other word ("FLAIR gado", "T1_POST_GADO", "contrast bolus test") names a series, not the pause.
    return bool(evidence().injection.search(acq.name.strip()))


# What a step that acquires images states; a pause step (the injection) states none of it.
_ACQUIRED = ("sequence_family", "repetition_time_ms", "echo_time_ms", "slice_thickness_mm", "acquisition_type")


def not_a_sequence(acq: Acquisition, seq: Sequence | None = None) -> str | None:
    """Why this series is never a protocol's sequence (localizer, field map, fMRI, quantitative map), or None.

    A spec sequence that names such a series itself (a BIDS suffix or a hint of the same kind: spine-generic's
    MT scans) is not vetoed by it."""
    suffix = bids_suffix(acq.name)
    tail = bids_tail(acq.name)
    words = words_of(acq)
    # A console's name joins its words with "_" ("AX_LOC", "tgse_pcasl", "func_bold_rest"), which \b does not
    # split; a BIDS name's "_" separates entities, read as such above.
    spaced = re.sub(r"_+", " ", words) if tail is None else words
    ev = evidence()
    for why, names, suffixes in ev.not_sequences:
        mt = acq.get("magnetization_transfer") is True and "MTS" in suffixes  # the protocol states an MT pulse
        planes = why == ev.several_planes and len(acq.get("image_planes") or []) > 1  # the images say it
        typed = bool(image_types(acq) & ev.not_sequence_types.get(why, frozenset()))  # ImageType says it
        if (suffix and suffix in suffixes) or names.search(words) or names.search(spaced) or mt or planes or typed:
            if seq is not None and (
                (tail and tail in seq.bids) or any(names.search(h) or h in suffixes for h in seq.hints + seq.bids)
            ):
                return None
            return why
    return None


def not_a_sequence_because(acq: Acquisition) -> str | None:
    """not_a_sequence's kind, with what in the images says so where the name does not (a series whose images
    lie in several planes: "localizer or calibration (images in 3 planes: …)")."""
    why = not_a_sequence(acq)
    planes = acq.get("image_planes") or []
    if why is None or why != evidence().several_planes or len(planes) < 2:
        return why
    named = Acquisition(acq.name, {k: v for k, v in acq.params.items() if k != "image_planes"})
    named.context = acq.context
    if not_a_sequence(named) == why:
        return why  # its name says so already
    how = acq.provenance.get("image_planes", "")
    said = "ImageOrientationPatient" if "ImageOrientationPatient" in how or not how else how  # or GE PLANE=3-PLANE
    return f"{why} (its images lie in {len(planes)} planes: {', '.join(planes)}; {said})"


def stack_is_evidence(acq: Acquisition) -> bool:
    """Whether the slice stack of this series says anything of the anatomy (a localizer's does not)."""
    return not_a_sequence(acq) not in evidence().stackless


def _region_of(seq: Sequence) -> str | None:
    region = getattr(seq, "region", None)
    if region is None and seq.exam in REGIONS:
        region = seq.exam  # the exam id says it where the spec has no `region:` yet
    return region


def region_veto(acq: Acquisition, seq: Sequence) -> str | None:
    """A known acquisition region that the sequence's region does not admit vetoes; an unknown one vetoes nothing."""
    region, wanted = acq.region, _region_of(seq)
    if region is None or wanted is None:
        return None
    admits = getattr(seq, "admits_region", None)
    ok = admits(region) if callable(admits) else region == wanted
    if ok:
        return None
    because = f" ({'; '.join(acq.region_reasons[:2])})" if acq.region_reasons else ""
    return f"region {region}{because}, not {wanted}"


@dataclass
class Phase:
    """The contrast phase of one acquisition as far as the input tells: 'post', 'pre' or None, and why."""

    state: str | None
    why: str


# Inputs that are a dummy run's files (images or their sidecars), not a protocol: listed by file name.
DUMMY_RUN_FORMATS = {"dicom", "bids-json"}


def input_is_ordered(formats: list[str]) -> bool:
    """Whether the order of what was read is the acquisition order: an export's or printout's steps are; files of a
    dummy run (DICOM, BIDS) are listed by name."""
    return not any(f in DUMMY_RUN_FORMATS for f in formats)


def input_order(pos: int) -> tuple[int, int]:
    """The order key of an input whose order is the acquisition order (an export's or printout's steps)."""
    return (pos, pos)


def acquisition_order(acquisitions: list[Acquisition], ordered: bool) -> tuple[Any, str]:
    """(key of a position, what the order rests on): acquisition time where every acquisition has one, else series
    number, else the order of the input where that order means something (an export or printout lists its steps
    in the order they run).

    Files of a dummy run (DICOM, BIDS sidecars) without times or series numbers are listed by file name: that order
    says nothing of when each was acquired, so the key is None and what rests on the order says it is not known."""
    times = [a.get("acquisition_time") for a in acquisitions]
    numbers = [a.get("series_number") for a in acquisitions]
    if acquisitions and all(t is not None for t in times):
        return (lambda pos: (times[pos], pos)), "acquisition time"
    if acquisitions and all(n is not None for n in numbers):
        return (lambda pos: (numbers[pos], pos)), "series number"
    if not ordered:
        return None, "no acquisition time or series number in every file: the acquisition order is not known"
    return input_order, "order in the input"


def contrast_phases(acquisitions: list[Acquisition], key: Any = input_order) -> list[Phase]:
    """Contrast evidence per acquisition, strongest first: the header's flag when it says contrast was given, a
    name stating post- or pre-contrast, the header's 'no contrast', then the position after an injection step
    or a contrast-enhanced acquisition of the same program — in acquisition order (`key`, see
    `acquisition_order`); where that order is not known (key None) position says nothing."""
    ev = evidence()
    out: dict[int, Phase] = {}
    injected_in: dict[str | None, str] = {}
    positions = sorted(range(len(acquisitions)), key=key) if key is not None else range(len(acquisitions))
    for position in positions:
        acq = acquisitions[position]
        # Console names join words with "_" ("t1_mprage_sag_GD", "T1_POST_GADO"), which \\b does not split.
        words = re.sub(r"_+", " ", words_of(acq))
        tail = bids_tail(acq.name) or ""
        ce = re.search(r"(?:^|_)ce-([A-Za-z0-9]+)", tail)
        agent = acq.get("contrast_agent")
        # A flag the input states outright (GE CONTRAST "No", a Philips contrast step) outranks a name; one implied
        # from an absence (no DICOM Contrast/Bolus module, often left empty at the console) does not.
        stated = agent is not None and not acq.provenance.get("contrast_agent", "").startswith("implied")
        if agent is True:
            phase = Phase("post", "contrast flag on")
        elif ce and ce.group(1).lower() not in ("none", "no", "pre"):
            phase = Phase("post", f"BIDS ce-{ce.group(1)}")
        elif agent is False and stated:
            phase = Phase("pre", f"contrast flag off ({acq.provenance.get('contrast_agent')})")
        elif ev.post.search(ev.pre.sub(" ", words)) and not is_injection_step(acq):
            phase = Phase("post", "name says post-contrast")
        elif ev.pre.search(words):
            phase = Phase("pre", "name says pre-contrast")
        elif key is not None and acq.program in injected_in and not acq.context.get("unordered"):
            # Acquired after an injection (or a contrast-enhanced series) of its program or study, in an order the
            # input states: post-contrast, whatever an absent Contrast/Bolus module implies. A step the input lists
            # without stating its place (an .exar1 step off its program's chain) is not "after" anything.
            phase = Phase("post", f"after {injected_in[acq.program]!r} in the program")
        elif agent is False:
            phase = Phase("pre", "no contrast recorded in the header")
        else:
            phase = Phase(None, "")
        if (is_injection_step(acq) or phase.state == "post") and not acq.context.get("unordered"):
            injected_in.setdefault(acq.program, acq.name)
        out[position] = phase
    return [out[pos] for pos in range(len(acquisitions))]


def _requirements_met(acq: Acquisition, seq: Sequence) -> int:
    """How many of the sequence's requirements the acquisition's stated values pass (a tie-break only)."""
    return sum(1 for c in seq.constraints if acq.get(c.param) is not None and c.evaluate(acq.get(c.param)) == "pass")


def _fov_max(acq: Acquisition) -> float | None:
    fov = acq.get("fov_mm")
    return max(fov) if fov else None


def score(
    acq: Acquisition,
    seq: Sequence,
    vendor: str | None = None,
    field_t: float | None = None,
    phase: Phase | None = None,
) -> tuple[float, list[str], str | None]:
    """How well one acquisition fits one sequence: (score, evidence strongest first, veto or None)."""
    ev, p = evidence(), evidence().points
    if acq.name == seq.id:
        return p["sheet_id"], [f"named {seq.id!r} (a sheet of this spec)"], None
    name = words_of(acq)
    total, reasons, positive = 0.0, [], False
    veto: str | None = None

    def vetoed(why: str) -> None:
        nonlocal veto
        veto = veto or why

    tail = bids_tail(acq.name)
    if tail and tail in seq.bids:
        total += p["bids_suffix"]
        reasons.append(f"BIDS name …_{tail}")
        positive = True
    family = acq.get("sequence_family")
    families = seq.families()
    if family and families:
        if family in families:
            total += p["family"]
            reasons.append(f"family {family}")
            positive = True
        else:
            vetoed(f"family {family}, not {'/'.join(families)}")
    hits = _hint_hits(seq, name)
    if hits:
        total += p["hint"] + p["extra_hint"] * (len(hits) - 1)
        reasons.append("name has " + ", ".join(repr(h) for h in hits))
        positive = True
    why_not = not_a_sequence(acq, seq)
    if why_not:
        vetoed(why_not)
    region = region_veto(acq, seq)
    if region:
        vetoed(region)
    if _region_of(seq) == "brain" and (_fov_max(acq) or 1e9) < ev.brain_min_fov_mm:
        vetoed(f"field of view {_fov_max(acq):g} mm, smaller than a brain")
    if _region_of(seq) == "brain" and "brain" in geometry_excludes(acq):
        vetoed(geometry_excludes(acq)["brain"])
    if _region_of(seq) == "spine" and seq.stations and "spine" in geometry_excludes(acq):
        # A spinal station (the cord "en 2 ou 3 acquisitions") is no sagittal stack wider than a spinal column: that
        # is a head (or a body). A spine exam's head-and-neck T1 (spine-generic's T1w, no stations) is not vetoed.
        vetoed(geometry_excludes(acq)["spine"])
    if _region_of(seq) == "spine" and _sagittal_slot(seq) and (_fov_max(acq) or 1e9) < ev.cord_station_min_fov_mm:
        vetoed(f"field of view {_fov_max(acq):g} mm, shorter than a spinal station ({ev.cord_station_min_fov_mm:g} mm)")
    _identity(acq, seq, vendor, field_t, reasons, vetoed)
    _named_plane(acq, seq, name, vendor, field_t, vetoed)
    _inversion(acq, seq, name, vetoed)
    # A console name's "_" joins words ("AX_T1_SE_GD": T1); a BIDS name's separates entities (read as they are).
    stated = weightings_in(name if tail else re.sub(r"_+", " ", name))
    slot = _slot_weightings(seq.hints)
    meaning = ev.weighting_in_family.get(family or "", {})
    said = {meaning.get(w, w) for w in stated}  # a gradient echo's "T2" is its T2* weighting
    if said and slot and not said & slot:
        vetoed(f"name says {'/'.join(sorted(said))}, not {'/'.join(sorted(slot))}")
    # A name stating T2* (BIDS `_T2star`, "T2* FFE") is the statement to believe: a sidecar may give only the first
    # echo of a combined multi-echo image (spine-generic's Philips "sSUM"), which says nothing of the rest.
    if not ("T2*" in stated or (tail and tail in seq.bids) or bids_suffix(acq.name) == "MEGRE"):
        _echo_class(acq, families, vetoed)
    b_values = acq.get("b_values")
    if "epi_dwi" in families and b_values is not None and max(b_values) <= 0:
        vetoed("b = 0 only: no diffusion weighting")
    if seq.contrast in ("pre", "post") and phase is not None:
        if seq.contrast == "post":
            if phase.state == "post":
                total += p["contrast"]
                reasons.append(phase.why)
            else:
                vetoed(
                    f"no contrast evidence ({phase.why})"
                    if phase.state
                    else "no contrast evidence (no flag, no post-contrast name, no injection step before it)"
                )
        elif phase.state == "post":
            vetoed(f"post-contrast ({phase.why})")
        elif phase.state == "pre":
            reasons.append(phase.why)
    total += _identity_classes(acq, seq, reasons)
    if acq.region is None:  # words and a coil the exam model found too weak to place the series still nudge it
        words = regions_named(name) | regions_named(acq.program)
        named = {r: f"in name ({w!r})" for r, w in words.items()}
        # A part's word names its whole too: "lombaire" says a spinal series, not a brain one (regions.yaml
        # `refines`), as before the lumbar spine was a region of its own.
        for r, w in words.items():
            whole = refined(r)
            if whole and whole not in named:
                named[whole] = f"in name ({w!r}, the {r} spine)" if whole == "spine" else f"in name ({w!r})"
        named |= {r: f"coil ({w!r})" for r, w in regions_of_coil(acq.context.get("coil")).items() if r not in named}
        for word_region in WORD_REGIONS:
            if word_region in named:
                total += p["region_word"] if _region_of(seq) == word_region else -p["region_word"]
                reasons.append(f"{word_region} {named[word_region]}")
    if not positive and veto is None:
        vetoed("no positive evidence (family, name or BIDS suffix)")
    return total, reasons, veto


def _sagittal_slot(seq: Sequence) -> bool:
    """Whether the spec asks for a sagittal acquisition (a constraint or the nominal plane says so)."""
    if seq.nominal.get("orientation") == "sagittal":
        return True
    return any(c.param == "orientation" and c.op == "eq" and c.value == "sagittal" for c in seq.constraints)


def _identity(acq, seq: Sequence, vendor, field_t, reasons: list[str], vetoed) -> None:
    """2D/3D and orientation where the spec requires them: a contradiction vetoes (an oblique plane does not
    contradict one, the bicallosal plane is oblique); other identity limits only cost points."""
    for c in seq.constraints_for(vendor, field_t):
        value = acq.get(c.param)
        if value is None or c.param not in ("acquisition_type", "orientation") or c.op not in ("eq", "in"):
            continue
        if c.param == "orientation" and value == "oblique":
            continue
        if c.evaluate(value) == "fail":
            vetoed(f"{c.param} {value}, not {c.rule_text.removeprefix('== ')}")


def _named_plane(acq, seq: Sequence, name: str, vendor, field_t, vetoed) -> None:
    """Where the input does not state the plane, a name stating one plane that the slot's required plane
    contradicts vetoes it ("Ax T2 FRFSE" is not the sagittal T2)."""
    if acq.get("orientation") is not None:
        return
    stated = planes_in(name)
    if len(stated) != 1:
        return
    (plane,) = stated
    for c in seq.constraints_for(vendor, field_t):
        if c.param == "orientation" and c.op in ("eq", "in") and c.evaluate(plane) == "fail":
            vetoed(f"the name says {plane}, not {c.rule_text.removeprefix('== ')}")


def _inversion(acq, seq: Sequence, name: str, vetoed) -> None:
    """A STIR slot needs a short inversion: family stir, an inversion time (not a long one), or a STIR/TIRM name."""
    if not evidence().stir_needs_inversion or seq.nominal.get("fat_suppression") != "stir":
        return
    family, ti = acq.get("sequence_family"), acq.get("inversion_time_ms")
    if ti is not None and ti > evidence().stir_max_ti_ms:
        vetoed(f"TI {ti:g} ms: a long inversion (T1 FLAIR or FLAIR), not a short-tau inversion recovery")
        return
    if family == "stir" or ti is not None:
        return
    if re.search(r"stir|tirm", name, re.I) or acq.get("fat_suppression") == "stir":
        return
    vetoed(f"{'family ' + family if family else 'no family'}, no inversion stated: not a short-tau inversion recovery")


def _echo_class(acq: Acquisition, families: list[str], vetoed) -> None:
    """The echo-time class of a gradient echo: a single-echo spoiled GRE at short TE is T1-weighted (never the
    T2*); a gradient echo at long TE is T2*-weighted (never the 3D T1)."""
    family, te = acq.get("sequence_family"), acq.get("echo_time_ms")
    if te is None or not families:
        return
    echoes = acq.get("echo_times_ms") or []
    if len(echoes) > 1:
        te = max(echoes)  # a multi-echo GRE (MEDIC, MERGE, mFFE) is judged by its T2*-weighted later echoes
    elif family == "gre" and (acq.get("echo_train_length") or 1) > 1:
        return  # a gradient echo's echo train is its echoes: multi-echo, its later echoes untold
    limit = evidence().t2star_min_te_ms
    if set(families) <= T2STAR_FAMILIES and family == "gre" and te < limit:
        vetoed(f"TE {te:g} ms: a T1-weighted spoiled gradient echo, not a T2*")
        return
    if set(families) <= T1_FAMILIES and family == "spgr" and te >= limit:
        vetoed(f"TE {te:g} ms: T2*-weighted, not a T1")


def _identity_classes(acq: Acquisition, seq: Sequence, reasons: list[str]) -> float:
    """Soft identity evidence from the spec's nominal values: the product family it names, the plane, and the
    resolution class (a millimetric 3D vs a slab of 5 mm partitions). Never a veto: a 1.2 mm T1 is still the T1."""
    p = evidence().points
    total = 0.0
    nominal = seq.nominal
    if nominal.get("sequence_family") and acq.get("sequence_family") == nominal["sequence_family"]:
        total += p["nominal_family"]
    if nominal.get("orientation") and acq.get("orientation") == nominal["orientation"]:
        total += p["nominal_orientation"]
    wanted_type = next(
        (c.value for c in seq.constraints if c.param == "acquisition_type" and c.op == "eq"),
        nominal.get("acquisition_type"),
    )
    if wanted_type and acq.get("acquisition_type") == wanted_type:
        total += p["dimension"]
    thickness, nominal_t = acq.get("slice_thickness_mm"), nominal.get("slice_thickness_mm")
    if thickness and nominal_t:
        if thickness <= 1.5 * nominal_t:
            total += p["resolution_class"]
        elif thickness >= 3 * nominal_t:
            total -= p["resolution_class"]
            reasons.append(f"{thickness:g} mm slices for a {nominal_t:g} mm sequence")
    directions, told, stated = diffusion_class_evidence(acq)
    if directions is not None and "epi_dwi" in seq.families():
        tensor = any(c.param == "diffusion_directions" for c in seq.constraints)
        wanted = _directions_required(seq)
        if wanted is not None and directions < wanted and stated:
            # A count the input states (the protocol, the header, the name) below the tensor sequence's own
            # minimum: the series is a diffusion acquisition of the trace class for this spec (its ADC is the
            # DWI's), not that tensor sequence's (a GE "DWI TENSOR" of 6 directions beside a DTI of >= 15).
            total -= p["diffusion_class"]
            reasons.append(f"{told}, fewer than the {wanted:g} this sequence requires (trace class)")
        elif (directions >= evidence().tensor_volumes_min) == tensor:
            total += p["diffusion_class"]
            reasons.append(f"{told} ({'tensor' if tensor else 'trace'} class)")
    return total


def _directions_required(seq: Sequence) -> float | None:
    """The least number of diffusion directions a sequence's own `diffusion_directions >= N` rule asks for."""
    wanted = [float(c.value) for c in seq.constraints if c.param == "diffusion_directions" and c.op == "ge"]
    return max(wanted) if wanted else None


def diffusion_class_evidence(acq: Acquisition) -> tuple[int | None, str, bool]:
    """How many diffusion directions the input shows, how it says so, and whether that is a stated count of
    directions: the stated `diffusion_directions`, a count the series name states ("60dirs", "dir42") — both
    stated —, or the diffusion-weighted volumes of the top shell that a BIDS .bval counts (volumes, which
    repeats may inflate: not a count of directions; matching-evidence.yaml `diffusion_class`). Evidence of the
    class only, never a value."""
    directions = acq.get("diffusion_directions")
    if directions is not None:
        return int(directions), f"diffusion_directions {directions}", True
    # A BIDS name's entities are the curator's labels, no count: "ses-01_dir-AP" (a session, a phase-encoding
    # direction) must not read as "01 dir", one direction. They are set aside before a count is looked for.
    ev = evidence()
    text = ev.ignored_entities.sub(" ", f"{acq.name} {acq.get('series_description') or ''}")
    named = ev.named_directions.search(text)
    if named:
        count = int(next(g for g in named.groups() if g))
        return count, f"the name states {count} directions ({named.group(0)!r})", True
    volumes = acq.context.get("diffusion_weighted_volumes")
    if volumes and volumes.isdigit():
        return int(volumes), f"{volumes} diffusion-weighted volumes at the top b-value (.bval)", False
    return None, "", False


def match(
    acquisitions: list[Acquisition],
    spec: Spec,
    sequences: list[str],
    vendor: str | None = None,
    field_t: float | None = None,
    forced: dict[str, str] | None = None,
    order: Any = input_order,
) -> Matching:
    """Assign acquisitions to `sequences` one-to-one (a sequence of several stations takes up to its maximum).

    `order` is the acquisition order's key (`acquisition_order`; None where it is not known): a series after an
    injection is post-contrast only in acquisition order.

    An exam of the spec that the input shows no sign of, while it shows another, takes no series: a head study
    whose 2D "Ax T1 SE +C" merely fits the spinal post-contrast T1 holds no spinal cord exam (`_absent_exams`)."""
    result = _match(acquisitions, spec, sequences, vendor, field_t, forced, order)
    absent = _absent_exams(result, acquisitions, spec, sequences)
    if not absent:
        return result
    kept = [s for s in sequences if spec.sequences[s].exam not in absent]
    again = _match(acquisitions, spec, kept, vendor, field_t, forced, order)
    dropped = {id(m.acquisition): m for s, ms in result.matches.items() if s not in kept for m in ms}
    before = {id(u.acquisition): u for u in result.details}
    for item in again.details:
        if item.closest is not None and not item.why.startswith("closest:"):
            continue  # a repeat, or taken by another series: said so
        first, earlier = dropped.get(id(item.acquisition)), before.get(id(item.acquisition))
        if first is not None:
            seq_exam = spec.sequences[first.sequence].exam
            item.why = f"fits {first.sequence} (score {first.score:g}), but {absent[seq_exam]}"
            item.closest, item.score = first.sequence, first.score
        elif earlier is not None and earlier.closest and spec.sequences[earlier.closest].exam in absent:
            item.why, item.closest, item.score = earlier.why, earlier.closest, earlier.score  # the nearer slot's why
    again.unmatched = [(u.acquisition, u.why) for u in again.details]
    return again


def _absent_exams(
    result: Matching, acquisitions: list[Acquisition], spec: Spec, sequences: list[str]
) -> dict[str, str]:
    """{exam: why} for the spec's exams this input shows no sign of, when it shows another one.

    An exam is shown by one of its required sequences found, or by a series placed in its region (exams.py). One
    that is not shown, beside one that is, holds only series that happen to fit its optional sequences: none of
    them is taken. When no exam is shown at all, nothing tells which one the input is: every match stays."""
    shown: set[str] = set()
    candidates: set[str] = set()
    for exam_id in {spec.sequences[s].exam for s in sequences}:
        exam = spec.exams.get(exam_id)
        required = {s for v in exam.variants.values() for s in v.required} if exam else set()
        region = exam.region if exam is not None else None
        placed = bool(region) and any(a.region and admits(region, a.region) for a in acquisitions)
        if exam is None or not required or required & set(result.matches) or placed:
            shown.add(exam_id)
        else:
            candidates.add(exam_id)
    if not shown or not candidates:
        return {}
    forced = {spec.sequences[m.sequence].exam for ms in result.matches.values() for m in ms if m.forced}
    return {
        e: f"this input shows no {spec.exams[e].label.get('en', e)}: none of its required sequences found and "
        f"no series placed in the {spec.exams[e].region or e}"
        for e in sorted(candidates - forced)
    }


def _match(
    acquisitions: list[Acquisition],
    spec: Spec,
    sequences: list[str],
    vendor: str | None,
    field_t: float | None,
    forced: dict[str, str] | None,
    order: Any,
) -> Matching:
    result = Matching()
    forced = forced or {}
    p = evidence().points
    phases = contrast_phases(acquisitions, order)
    free: list[int] = []
    stand_ins: list[tuple[int, str]] = []  # derived series that may stand for an acquisition the input lacks
    for position, acq in enumerate(acquisitions):
        target = _forced_target(acq, forced)
        if target is not None:
            if target in spec.sequences:
                m = Match(target, acq, position, 100.0, [f"--map {acq.name!r}={target}"], forced=True)
                result.matches.setdefault(target, []).append(m)
            else:
                result._leave(Unmatched(acq, "--map: left out"))
            continue
        if is_map(acq):
            result.maps.append(acq)
            continue
        if is_injection_step(acq):
            result._leave(Unmatched(acq, "injection step"))
            continue
        echo_of = acq.context.get("echo_of")
        if echo_of:  # the reader found it one echo of another series' acquisition (its EchoNumbers)
            result._leave(
                Unmatched(
                    acq,
                    f"another echo of the acquisition {echo_of!r}, stored on its own "
                    f"(echo {acq.context.get('echo_numbers', '?')}): judged with that acquisition",
                )
            )
            continue
        derived = derived_reason(acq)
        if derived:
            types, ev = image_types(acq), evidence()
            # A composition itself, not a reformat of one (an MPR of a composed spine is no acquisition's images).
            other = types & (set(ev.derived_types) - ev.stand_ins)
            if types & ev.stand_ins and not other and "SECONDARY" not in types:
                stand_ins.append((position, derived))
            else:
                result._leave(Unmatched(acq, derived))
            continue
        free.append(position)
    free = _one_series_per_acquisition(acquisitions, free, phases, result)
    # Columns: one per slot, a sequence of several stations one per station (later stations a little weaker).
    columns: list[tuple[str, int]] = []
    for seq_id in sequences:
        seq = spec.sequences[seq_id]
        room = (seq.stations[1] if seq.stations else 1) - len(result.matches.get(seq_id, []))
        columns += [(seq_id, k) for k in range(max(room, 0))]
    table: dict[tuple[int, str], tuple[float, list[str], str | None]] = {}
    for position in free:
        for seq_id in sequences:
            table[(position, seq_id)] = score(
                acquisitions[position], spec.sequences[seq_id], vendor, field_t, phases[position]
            )
    banned: set[tuple[int, str]] = set()  # (acquisition, sequence): a station that sequence holds already
    for _ in range(len(free) + 1):
        weights = []
        for position in free:
            row = []
            for seq_id, k in columns:
                value, _, veto = table[(position, seq_id)]
                if veto or value < p["threshold"] or (position, seq_id) in banned:
                    row.append(None)
                    continue
                # Ties: the sequence more of whose requirements the acquisition meets takes it (a DWI with three
                # b-values is the three-b sequence's, not the two-b one's it also satisfies); then a post-contrast
                # sequence takes the later acquisition, any other the earlier one.
                late = position if spec.sequences[seq_id].contrast == "post" else -position
                met = _requirements_met(acquisitions[position], spec.sequences[seq_id])
                row.append(value - p["station"] * k + met * 1e-3 + late * 1e-6)
            weights.append(row)
        chosen = assign(weights)
        again = _station_taken_twice(chosen, free, columns, acquisitions, table)
        if not again:
            break
        banned |= again
    for row, col in enumerate(chosen):
        if col is None:
            continue
        position = free[row]
        seq_id = columns[col][0]
        value, reasons, _ = table[(position, seq_id)]
        result.matches.setdefault(seq_id, []).append(Match(seq_id, acquisitions[position], position, value, reasons))
    _stand_in(stand_ins, acquisitions, spec, sequences, vendor, field_t, phases, result)
    _repeats_out_of_optional_slots(result, spec)
    taken = {m.position for ms in result.matches.values() for m in ms}
    listed = {id(u.acquisition) for u in result.details}  # repeats taken out of a slot are listed already
    for position in free:
        if position not in taken and id(acquisitions[position]) not in listed:
            result._leave(_why_unmatched(acquisitions[position], position, sequences, table, result, p["threshold"]))
    for ms in result.matches.values():
        ms.sort(key=lambda m: m.position)
    return result


def _stand_in(
    stand_ins: list[tuple[int, str]],
    acquisitions: list[Acquisition],
    spec: Spec,
    sequences: list[str],
    vendor: str | None,
    field_t: float | None,
    phases: list[Phase],
    result: Matching,
) -> None:
    """Derived series that stand for an acquisition (matching-evidence.yaml `stand_in_when_alone`: a composition
    of stations) fill the slots the acquisitions left empty, scored as they are, said so; the others stay derived.

    A composed whole-spine T2 is its stations' images: where the input holds no station series, it is the only
    statement that the sagittal T2 was acquired. Beside acquired stations it is a copy, never one more station."""
    empty = [s for s in sequences if not result.matches.get(s)]
    threshold = evidence().points["threshold"]
    table = {
        (pos, s): score(acquisitions[pos], spec.sequences[s], vendor, field_t, phases[pos])
        for pos, _ in stand_ins
        for s in empty
    }
    weights = [
        [None if table[(pos, s)][2] or table[(pos, s)][0] < threshold else table[(pos, s)][0] for s in empty]
        for pos, _ in stand_ins
    ]
    chosen = assign(weights) if empty and stand_ins else [None] * len(stand_ins)
    for (pos, why), col in zip(stand_ins, chosen, strict=True):
        if col is None:
            result._leave(Unmatched(acquisitions[pos], why))
            continue
        value, reasons, _ = table[(pos, empty[col])]
        said = f"stands for its acquisition, of which the input holds no images ({why.split(': ', 1)[-1]})"
        result.matches.setdefault(empty[col], []).append(
            Match(empty[col], acquisitions[pos], pos, value, [*reasons, said])
        )


def _acquisition_key(acq: Acquisition, phase: Phase) -> tuple | None:
    """What two image series of one acquisition share: the acquisition time of their first image (DICOM
    AcquisitionTime) and what the acquisition is (family, plane, TR, slice thickness, contrast phase); None when
    the time is not stated, or is a de-identified midnight that many series would share."""
    time = acq.get("acquisition_time")
    if not time or not re.sub(r"[0:.]", "", str(time)):
        return None
    return (
        time,
        acq.get("sequence_family"),
        acq.get("orientation"),
        acq.get("repetition_time_ms"),
        acq.get("slice_thickness_mm"),
        phase.state,
    )


def _protocol_of(acq: Acquisition) -> str:
    """The protocol an image series was reconstructed from: its ProtocolName where the header names the series'
    own protocol there (Siemens, Philips, Canon; never GE's exam-level one), else its name without the marks of
    a second reconstruction ("_ND", "ORIG", GE's "SC:" on its intensity-corrected images: spine-generic chiba750
    "SC:Sag_3D_IR-FSPGR"). Two series of one acquisition share it; a de-identified study whose
    times were all set alike still keeps two protocols apart."""
    named = acq.context.get("protocol_name")
    if named:
        return re.sub(r"[^a-z0-9]+", "", named.lower())
    text = str(acq.get("series_description") or re.sub(r"^\s*\d+\s+", "", acq.name))
    text = re.sub(r"(?i)(?:^|(?<=[_\s:-]))(?:nd|orig|unfiltered|sc)(?=$|[_\s:-])", " ", text)
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _one_series_per_acquisition(
    acquisitions: list[Acquisition], free: list[int], phases: list[Phase], result: Matching
) -> list[int]:
    """One image series per acquisition: the others of one acquisition (the unfiltered copy Siemens stores beside
    the distortion-corrected images, the images without prescan normalisation, an echo stored as a series of its
    own, the other images of an SWI) are that acquisition again, not a repeat and never another slot's. Kept: the
    corrected images (no ND term) first, then the lowest series number."""
    groups: dict[tuple, list[int]] = {}
    for position in free:
        key = _acquisition_key(acquisitions[position], phases[position])
        if key is not None and not_a_sequence(acquisitions[position]) is None:
            groups.setdefault((*key, _protocol_of(acquisitions[position])), []).append(position)
    dropped: set[int] = set()
    for members in groups.values():
        if len(members) < 2:
            continue

        def preference(position: int) -> tuple:
            acq = acquisitions[position]
            return ("ND" in image_types(acq), acq.get("series_number") or 0, position)

        kept, *others = sorted(members, key=preference)
        for position in others:
            dropped.add(position)
            result._leave(
                Unmatched(acquisitions[position], _same_acquisition(acquisitions[position], acquisitions[kept]))
            )
    return [position for position in free if position not in dropped]


def _same_acquisition(acq: Acquisition, kept: Acquisition) -> str:
    """Why `acq` is another image series of the acquisition `kept` holds, in the header's own terms."""
    ev = evidence()
    mine, theirs = image_types(acq), image_types(kept)
    told = [f"{t}: {ev.reconstructions[t]}" for t in sorted(mine - theirs) if t in ev.reconstructions]
    told += [f"not {t}: {ev.reconstructions[t]}" for t in sorted(theirs - mine) if t in ev.reconstructions]
    echoes, kept_echoes = acq.get("echo_times_ms") or [], kept.get("echo_times_ms") or []
    if echoes and kept_echoes and set(echoes) != set(kept_echoes):
        told.append(f"echo time {'/'.join(f'{e:g}' for e in echoes)} ms")
    what = f"; ImageType {', '.join(told)}" if told else ""
    return (
        f"another image series of the acquisition {kept.name!r} (same acquisition time "
        f"{acq.get('acquisition_time')}{what}), not a separate acquisition"
    )


def stations_in(text: str) -> set[str]:
    """The spinal stations a series name states (matching-evidence.yaml `station_names`)."""
    return {station for station, pattern in evidence().stations if pattern.search(text)}


def _station_taken_twice(chosen, free, columns, acquisitions, table) -> set[tuple[int, str]]:
    """(acquisition, sequence) pairs where a sequence of several stations took two series naming the same one
    station: the weaker (then later) of the two is that station again, not another station."""
    by_seq: dict[str, list[int]] = {}
    for row, col in enumerate(chosen):
        if col is not None:
            by_seq.setdefault(columns[col][0], []).append(free[row])
    out: set[tuple[int, str]] = set()
    for seq_id, positions in by_seq.items():
        if len(positions) < 2:
            continue
        held: dict[str, int] = {}
        for position in sorted(positions, key=lambda q: (-table[(q, seq_id)][0], q)):
            named = stations_in(words_of(acquisitions[position]))
            if len(named) != 1:
                continue
            (station,) = named
            if station in held:
                out.add((position, seq_id))
            else:
                held[station] = position
    return out


def _same_protocol(a: Acquisition, b: Acquisition) -> bool:
    """Two series of the same protocol: the same name once series numbers and repeat marks are set aside, and
    the same family (a site repeating a motion-corrupted MPRAGE). Two BIDS files whose names differ in more than
    their subject, session and run entities (`flip-1_mt-on_MTS` and `flip-1_mt-off_MTS`: Philips stores both under
    one series description) are two acquisitions by the dataset's own statement, never repeats."""
    bids_a, bids_b = _bids_key(a), _bids_key(b)
    if bids_a is not None and bids_b is not None and bids_a != bids_b:
        return False
    return _protocol_name(a) == _protocol_name(b) and a.get("sequence_family") == b.get("sequence_family")


def _bids_key(acq: Acquisition) -> str | None:
    """A BIDS file name without its subject, session and run entities; None for a name that is not BIDS."""
    if not re.match(r"^sub-[A-Za-z0-9]+_", acq.name):
        return None
    return "_".join(p for p in acq.name.split("_") if not re.match(r"^(?:sub|ses|run)-", p))


def _protocol_name(acq: Acquisition) -> str:
    """The series' own name without its series number, BIDS run and repeat marks ("5 T1 MPRAGE (2)" → "t1 mprage").

    The file or series name, not the description alone: BIDS files of MT-on and MT-off scans may share one
    description ("Axi_3D_FFE_MTC") while their names say which is which."""
    text = re.sub(r"(?:^|_)run-\d+(?=_|$)", "", acq.name).lower()
    text = re.sub(r"^\s*\d+\s+", "", text)
    text = re.sub(r"(?:[_\s-]*(?:\(\d+\)|rpt|repeat|repeated|bis|run-?\d+|_\d+))+\s*$", "", text)
    return re.sub(r"[\s_-]+", " ", text).strip()


def _repeats_out_of_optional_slots(result: Matching, spec: Spec) -> None:
    """A later series of the same protocol as a matched one is its repeat: it does not fill an optional slot of
    another sequence (a second DWI is not the DTI) unless its contrast phase made it that slot's (pre/post): the
    pre- and post-contrast 3D T1 are one protocol run twice (OFSEP: "same parameters"), each in its own slot."""
    placed = sorted((m for ms in result.matches.values() for m in ms), key=lambda m: m.position)
    for m in placed:
        seq = spec.sequences[m.sequence]
        if m.forced or seq.contrast == "post":
            continue
        original = next(
            (
                o
                for o in placed
                if o.position < m.position
                and o.sequence != m.sequence
                and not o.forced
                # The same protocol before and after an injection is the pre/post pair, not a repeat
                and spec.sequences[o.sequence].contrast != "post"
                and _same_protocol(o.acquisition, m.acquisition)
            ),
            None,
        )
        if original is None:
            continue
        result.matches[m.sequence].remove(m)
        if not result.matches[m.sequence]:
            del result.matches[m.sequence]
        result._leave(
            Unmatched(
                m.acquisition,
                f"repeat of {original.sequence} ({original.acquisition.name!r}), not taken for {m.sequence}",
                m.sequence,
                m.score,
                original.sequence,
            )
        )


def _why_unmatched(acq, position, sequences, table, result: Matching, threshold: float) -> Unmatched:
    ranked = sorted(((table[(position, s)], s) for s in sequences), key=lambda t: t[0][0], reverse=True)
    fitting = [(v, s) for v, s in ranked if v[2] is None and v[0] >= threshold]
    if fitting:
        (value, _, _), seq_id = fitting[0]
        holder = result.first(seq_id)
        # A repeat is the same protocol acquired again; another protocol of the same family that fits the slot
        # (a T1 VIBE beside the MPRAGE, a second TSE) is an alternative the slot's holder outscored, not a repeat.
        if holder is not None and _same_protocol(holder.acquisition, acq):
            return Unmatched(
                acq,
                f"repeat of {seq_id} ({holder.acquisition.name!r}, score {holder.score:g}; this one {value:g})",
                seq_id,
                value,
                seq_id,
            )
        who = f"{holder.acquisition.name!r} (score {holder.score:g})" if holder else "another series"
        return Unmatched(acq, f"fits {seq_id} (score {value:g}), taken by {who}", seq_id, value)
    reason = not_a_sequence_because(acq)
    if reason and all(v[2] for v, _ in ranked):
        return Unmatched(acq, reason)
    if not ranked:
        return Unmatched(acq, "no spec sequence to match")
    (value, _, veto), seq_id = ranked[0]
    if veto:
        kind = ""
        if acq.get("sequence_family") == "other" and all(v[2] for v, _ in ranked):
            # No slot is of its kind: say what kind the header shows (an echo-planar series without diffusion
            # weighting is BOLD fMRI or perfusion), before the nearest slot's veto.
            found = re.search(r"inferred, (.*)$", acq.provenance.get("sequence_family", ""))
            kind = f"no protocol sequence is of its kind ({found.group(1) if found else 'family other'}); "
        return Unmatched(acq, f"{kind}closest: {seq_id} (score {value:g}), vetoed: {veto}", seq_id, value)
    return Unmatched(acq, f"closest: {seq_id} (score {value:g}, below {threshold:g})", seq_id, value)


def assign(weights: list[list[float | None]]) -> list[int | None]:
    """Maximum-weight assignment of rows to columns (None = that pair is not allowed); a row may stay unassigned.

    The Hungarian algorithm (Kuhn-Munkres, shortest augmenting paths, O(n²m)) on a square matrix padded with one
    "leave unassigned" column per row; exact, and fast for the few dozen series of an exam."""
    n = len(weights)
    if n == 0:
        return []
    m = len(weights[0]) if weights else 0
    big = 1e6
    width = m + n
    # Costs: -weight for an allowed pair, 0 for "unassigned", big for a forbidden pair.
    cost = [[(-w if w is not None else big) for w in row] + [0.0] * n for row in weights]
    u, v = [0.0] * (n + 1), [0.0] * (width + 1)
    owner, way = [0] * (width + 1), [0] * (width + 1)
    for i in range(1, n + 1):
        owner[0] = i
        j0 = 0
        low = [float("inf")] * (width + 1)
        used = [False] * (width + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = owner[j0], float("inf"), 0
            for j in range(1, width + 1):
                if not used[j]:
                    current = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if current < low[j]:
                        low[j], way[j] = current, j0
                    if low[j] < delta:
                        delta, j1 = low[j], j
            for j in range(width + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    low[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    out: list[int | None] = [None] * n
    for j in range(1, m + 1):
        i = owner[j]
        if i and weights[i - 1][j - 1] is not None:
            out[i - 1] = j - 1
    return out


def _forced_target(acq: Acquisition, forced: dict[str, str]) -> str | None:
    number = acq.get("series_number")
    for key in (acq.name, acq.get("series_description"), str(number) if number is not None else None):
        if key is not None and key in forced:
            return forced[key]
    return None


def explain(
    acq: Acquisition, spec: Spec, vendor: str | None = None, field_t: float | None = None
) -> list[dict[str, Any]]:
    """Every slot's score and veto for one acquisition (for tests and `--format json` debugging)."""
    phase = contrast_phases([acq])[0]
    out = []
    for seq_id, seq in spec.sequences.items():
        value, reasons, veto = score(acq, seq, vendor, field_t, phase)
        out.append({"sequence": seq_id, "score": value, "reasons": reasons, "veto": veto})
    return sorted(out, key=lambda d: (d["veto"] is not None, -d["score"]))
