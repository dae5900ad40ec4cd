"""Which acquisition is which spec sequence: one-to-one, scored, every match with its reasons.

A physicist reading a report must be able to see *why* "5 3D Ax T1 MP-RAGE" was taken for the 3D T1, so a
match is a score built from named pieces of evidence, strongest first: the sequence family, the series name
(vendor product names, French and English words), the contrast flag, and the identity parameters that tell
sequences of one family apart (2D/3D, orientation, inversion, diffusion directions). Parameters the spec merely
limits (slice thickness, voxel) never steer the match: a 1.2 mm T1 must still be *the* T1, so that it can fail.
Derived maps (ADC, FA) are not sequences; they are kept aside for the session rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .acquisition import Acquisition
from .spec import Sequence, Spec

THRESHOLD = 8.0
IDENTITY = (
    "acquisition_type",
    "orientation",
    "inversion_time_ms",
    "contrast_agent",
    "diffusion_directions",
    "b_values",
)
MAPS = {"ADC", "FA"}  # series of computed maps, never acquisitions of a sequence
LOCALIZER = re.compile(r"locali[sz]er|scout|survey|3.?plane|aahead|calibration|\bcal\b|b1.?map|\bref\b", re.I)
POST = re.compile(r"(?:\bgd\b|gado|\+\s*c\b|\bpost\b|\bce\b|contrast|inject|apr[eè]s)", re.I)
EXAM_WORDS = {
    "spine": re.compile(r"spine|cord|moelle|medul|m[ée]dullaire|rachis|cervical|dorsal|thora|c.?spine|\bcsp\b", re.I),
    "brain": re.compile(r"brain|cerveau|c[ée]r[ée]br|cr[aâ]ne|\bhead\b|enc[ée]ph", re.I),
}


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
class Matching:
    matches: dict[str, list[Match]] = field(default_factory=dict)
    unmatched: list[tuple[Acquisition, str]] = field(default_factory=list)
    maps: list[Acquisition] = field(default_factory=list)

    def first(self, seq_id: str) -> Match | None:
        found = self.matches.get(seq_id)
        return found[0] if found else None


def is_map(acq: Acquisition, originals: bool = True) -> bool:
    """A series computed from another: ADC and FA maps always; trace-weighted images when the exam holds the
    diffusion series they were computed from (without it, the trace images are the DWI a site kept)."""
    derived = set(acq.get("derived") or [])
    return bool(derived & MAPS) or (bool(derived) and originals)


def _name(acq: Acquisition) -> str:
    return f"{acq.name} {acq.get('series_description') or ''}"


BIDS_NAME = re.compile(r"^sub-[a-zA-Z0-9]+_(?:ses-[a-zA-Z0-9]+_)?(.+?)(?:_run-\d+)?$")


def bids_tail(name: str) -> str | None:
    """What a BIDS file name says the series is, without subject, session and run: 'flip-1_mt-on_MTS'.

    The suffix and entities are the dataset curator's statement (BIDS specification), as strong as a series name."""
    match = BIDS_NAME.match(name)
    if not match:
        return None
    return re.sub(r"(?:^|_)run-\d+(?=_)", "", match.group(1)).lstrip("_")


def _hint_hits(seq: Sequence, name: str) -> list[str]:
    hits = []
    for hint in seq.hints:
        pattern = r"(?<![A-Za-z0-9])" + re.escape(hint) + r"(?![A-Za-z])"
        if re.search(pattern, name, re.I):
            hits.append(hint)
    return hits


def score(acq: Acquisition, seq: Sequence, vendor: str | None, field_t: float | None) -> tuple[float, list[str]]:
    """How well one acquisition fits one sequence, and the evidence, strongest first."""
    name = _name(acq)
    if acq.name == seq.id:
        return 100.0, [f"named {seq.id!r} (a sheet of this spec)"]
    total, reasons = 0.0, []
    tail = bids_tail(acq.name)
    if tail and tail in seq.bids:
        total += 15
        reasons.append(f"BIDS name …_{tail}")
    family = acq.get("sequence_family")
    families = seq.families()
    if family and families:
        if family in families:
            total += 10
            reasons.append(f"family {family}")
        else:
            total -= 20
            reasons.append(f"family {family}, not {'/'.join(families)}")
    hits = _hint_hits(seq, name)
    if hits:
        total += 5 + (len(hits) - 1)
        reasons.append("name has " + ", ".join(repr(h) for h in hits))
    derived = set(acq.get("derived") or [])
    if derived & {"TRACEW", "TRACE"}:
        bonus = 5 if "epi_dwi" in families and seq.derived_required else -5
        total += bonus
        reasons.append("trace-weighted images" + ("" if bonus > 0 else " (not a tensor series)"))
    agent = acq.get("contrast_agent")
    post_name = bool(POST.search(name))
    if seq.contrast in ("pre", "post"):
        want = seq.contrast == "post"
        if agent is not None:
            total += 6 if agent == want else -6
            reasons.append(f"contrast flag {'on' if agent else 'off'}")
        elif post_name:
            total += 4 if want else -4
            reasons.append("post-contrast name")
    for word_exam, pattern in EXAM_WORDS.items():
        if pattern.search(name):
            total += 4 if seq.exam == word_exam else -4
            reasons.append(f"{word_exam} in name")
    for constraint in seq.constraints_for(vendor, field_t):
        identity = constraint.param in IDENTITY and constraint.param != "contrast_agent"
        if identity and constraint.evaluate(acq.get(constraint.param)) == "fail":
            total -= 3
            reasons.append(f"{constraint.param} {acq.get(constraint.param)} (wants {constraint.rule_text})")
    return total, reasons


def match(
    acquisitions: list[Acquisition],
    spec: Spec,
    sequences: list[str],
    vendor: str | None = None,
    field_t: float | None = None,
    forced: dict[str, str] | None = None,
) -> Matching:
    """Assign acquisitions to `sequences` one-to-one (a sequence of several stations takes up to its maximum)."""
    result = Matching()
    forced = forced or {}
    free: list[tuple[int, Acquisition]] = []
    taken: dict[str, int] = {}
    originals = any(a.get("sequence_family") == "epi_dwi" and not a.get("derived") for a in acquisitions)
    for position, acq in enumerate(acquisitions):
        target = _forced_target(acq, forced)
        if target is not None:
            if target in spec.sequences:
                m = Match(target, acq, position, 100.0, [f"--map {acq.name!r}={target}"], forced=True)
                result.matches.setdefault(target, []).append(m)
                taken[target] = taken.get(target, 0) + 1
            else:
                result.unmatched.append((acq, "--map: left out"))
            continue
        if is_map(acq, originals):
            result.maps.append(acq)
            continue
        if LOCALIZER.search(_name(acq)):
            result.unmatched.append((acq, "localizer or calibration"))
            continue
        free.append((position, acq))
    candidates = []
    for position, acq in free:
        for seq_id in sequences:
            seq = spec.sequences[seq_id]
            value, reasons = score(acq, seq, vendor, field_t)
            if value >= THRESHOLD:
                # Ties: a post-contrast sequence takes the later acquisition, any other the earlier one.
                order = position if seq.contrast == "post" else -position
                candidates.append((value, order, position, seq_id, reasons))
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    used: set[int] = set()
    for value, _, position, seq_id, reasons in candidates:
        seq = spec.sequences[seq_id]
        room = seq.stations[1] if seq.stations else 1
        if position in used or taken.get(seq_id, 0) >= room:
            continue
        used.add(position)
        taken[seq_id] = taken.get(seq_id, 0) + 1
        acq = acquisitions[position]
        result.matches.setdefault(seq_id, []).append(Match(seq_id, acq, position, value, reasons))
    for position, acq in free:
        if position not in used:
            best = max(
                (score(acq, spec.sequences[s], vendor, field_t) + (s,) for s in sequences),
                default=None,
                key=lambda t: t[0],
            )
            why = "no spec sequence fits"
            if best is not None and best[0] >= THRESHOLD:
                why = f"fits {best[2]} (score {best[0]:g}), which a better match took"
            elif best is not None and best[0] > 0:
                why = f"closest: {best[2]} (score {best[0]:g}, below {THRESHOLD:g})"
            result.unmatched.append((acq, why))
    for matches in result.matches.values():
        matches.sort(key=lambda m: m.position)
    return result


def _forced_target(acq: Acquisition, forced: dict[str, str]) -> str | None:
    number = acq.get("series_number")
    for key in (acq.name, acq.get("series_description"), str(number) if number is not None else None):
        if key is not None and key in forced:
            return forced[key]
    return None
