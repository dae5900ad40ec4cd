"""The body-region vocabulary (protocol_spec/model/regions.yaml) as lookups: which region a word, a DICOM body part or a
coil name is evidence of, and which acquisition regions a spec sequence's region admits.

The vocabulary is data so that a site's or a language's words are added without code; this module only knows
how to compare them (accent- and case-insensitive, whole words, phrases as word sequences).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from .resources import spec_dir
from .yamlload import load_yaml

REGIONS = ("brain", "spine", "lumbar", "orbits", "whole-body", "other")


@dataclass(frozen=True)
class Region:
    name: str
    words: tuple[tuple[str, ...], ...]
    body_parts: frozenset[str]
    codes: frozenset[str]
    coils: tuple[tuple[str, ...], ...]
    admits: frozenset[str]
    generic: frozenset[tuple[str, ...]] = frozenset()  # words naming the region as a whole, which a part refines
    generic_codes: frozenset[str] = frozenset()  # body parts and codes naming the region as a whole
    refines: str | None = None  # the region this one is a part of (the lumbar spine of the spine)


def tokens(text: str) -> tuple[str, ...]:
    """Lower-case, accent-free words of `text` (`_`, `-`, `\\`, digits-letters boundaries and a lower-case letter
    run followed by a capital separate words: Siemens writes coils in CamelCase, "HeadMatrix", "NeckMatrix";
    "dStream" stays one word)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    plain = re.sub(r"(?<=[a-z]{2})(?=[A-Z])", " ", plain).lower()
    plain = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", plain)
    return tuple(t for t in re.split(r"[^a-z0-9]+", plain) if t)


def _longest_first(phrases: set[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """Longest phrase first, then alphabetically: the word a reason names is the same on every run (a set's
    order changes with the interpreter's string hashing)."""
    return tuple(sorted(phrases - {()}, key=lambda p: (-len(p), p)))


@cache
def vocabulary() -> dict[str, Region]:
    data = load_yaml(spec_dir() / "model" / "regions.yaml")
    out = {}
    for name, entry in data["regions"].items():
        out[name] = Region(
            name=name,
            words=_longest_first({tokens(str(w)) for w in entry.get("words", [])}),
            body_parts=frozenset(str(b).upper() for b in entry.get("body_parts", [])),
            codes=frozenset(str(c).upper() for c in entry.get("codes", [])),
            coils=_longest_first({tokens(str(c)) for c in entry.get("coils", [])}),
            admits=frozenset(entry.get("admits", [])),
            generic=frozenset(tokens(str(w)) for w in entry.get("generic", [])) - {()},
            generic_codes=frozenset(str(c).upper() for c in entry.get("generic_codes", [])),
            refines=entry.get("refines"),
        )
    return out


@cache
def head_fov_max_mm() -> float:
    data = load_yaml(spec_dir() / "model" / "regions.yaml")
    return float((data.get("orientation_evidence") or {}).get("head_fov_max_mm", 300))


@cache
def coverage_limits() -> tuple[float, float]:
    """(brain_min_width_mm, spine_max_width_mm) from regions.yaml's coverage_evidence."""
    data = load_yaml(spec_dir() / "model" / "regions.yaml")
    entry = data.get("coverage_evidence") or {}
    return float(entry.get("brain_min_width_mm", 100)), float(entry.get("spine_max_width_mm", 130))


def stack_coverage_mm(acq: Any) -> float | None:
    """What a sagittal or coronal stack covers across its slices (mm): slices × (thickness + gap).

    None when the input does not state the slices, the thickness or the plane, or states one slice only (a GE 3D
    slab whose locations per slab are not in the export): absent, never guessed."""
    if acq.get("orientation") not in ("sagittal", "coronal"):
        return None
    slices, thickness = acq.get("slices"), acq.get("slice_thickness_mm")
    if not slices or slices < 2 or not thickness:
        return None
    gap = acq.get("slice_gap_mm") or 0.0
    return float(slices) * (float(thickness) + max(float(gap), 0.0))


@cache
def _whole_head_fov_mm() -> float:
    data = load_yaml(spec_dir() / "model" / "regions.yaml")
    return float((data.get("coverage_evidence") or {}).get("whole_head_fov_mm", 170))


def whole_head(acq: Any) -> str | None:
    """Why a 3D slab images the whole head (its in-plane field covers a whole brain section), or None."""
    fov = acq.get("fov_mm")
    if acq.get("acquisition_type") != "3D" or not fov or len(fov) < 2:
        return None
    if min(float(v) for v in fov[:2]) < _whole_head_fov_mm():
        return None
    return f"3D field of view {' × '.join(f'{float(v):g}' for v in fov[:2])} mm covers the whole head"


def geometry_excludes(acq: Any) -> dict[str, str]:
    """{region: why} for the regions the slice stack itself rules out (regions.yaml, coverage_evidence)."""
    covered = stack_coverage_mm(acq)
    if covered is None:
        return {}
    brain_min, spine_max = coverage_limits()
    plane = acq.get("orientation")
    across = "left-right" if plane == "sagittal" else "antero-posterior"
    out = {}
    if covered < brain_min:
        out["brain"] = f"{plane} stack covers {covered:g} mm {across}, less than a brain ({brain_min:g} mm)"
    if plane == "sagittal" and covered > spine_max:
        out["spine"] = f"sagittal stack covers {covered:g} mm left-right, wider than a spine ({spine_max:g} mm)"
    return out


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


def regions_named(text: str | None) -> dict[str, str]:
    """{region: the word found} for every region a free text (program path, study or series name) names."""
    return dict(_named(text)) if text else {}


@lru_cache(maxsize=8192)
def _named(text: str) -> tuple[tuple[str, str], ...]:
    # Cached by text: matching asks the same few series names and program paths once per slot and candidate.
    words = tokens(text)
    present = frozenset(words)
    found: list[tuple[str, str]] = []
    own: dict[str, bool] = {}  # region: whether a word of its own (not only a generic one) is present
    for region in vocabulary().values():
        hits = [p for p in region.words if p[0] in present and _contains(words, p)]
        if hits:
            found.append((region.name, " ".join(hits[0])))
            own[region.name] = any(p not in region.generic for p in hits)
    # A part named beside its whole: with only the whole's generic words ("Lumbar Spine", "adult_spine_… Lumbar")
    # the text names the part; with the whole's own words too (the cord's "moelle", "whole spine", "cervical")
    # it names the whole, of which the part is one station.
    dropped = set()
    for name, _ in found:
        parent = vocabulary()[name].refines
        if parent and parent in own:
            dropped.add(name if own[parent] else parent)
    return tuple((r, w) for r, w in found if r not in dropped)


def region_of_body_part(code: str | None) -> str | None:
    """The region a DICOM Body Part Examined term names (None if the term is not in the vocabulary)."""
    if not code:
        return None
    key = re.sub(r"[^A-Z]", "", code.upper())
    for region in vocabulary().values():
        if key in region.body_parts:
            return region.name
    return None


def region_of_code(code: str | None) -> str | None:
    """The region a Body Part Examined term or an anatomic region code (SNOMED CT / SRT) names, if any."""
    if not code:
        return None
    key = str(code).strip().upper()
    for region in vocabulary().values():
        if key in region.codes:
            return region.name
    return region_of_body_part(key)


@cache
def weak_terms() -> frozenset[str]:
    data = load_yaml(spec_dir() / "model" / "regions.yaml")
    return frozenset(str(t).upper() for t in data.get("weak_terms", []))


@cache
def _neutral_coils() -> tuple[tuple[str, ...], ...]:
    data = load_yaml(spec_dir() / "model" / "regions.yaml")
    return _longest_first({tokens(str(c)) for c in data.get("neutral_coils", [])})


def _without(words: tuple[str, ...], phrases: tuple[tuple[str, ...], ...]) -> tuple[str, ...]:
    out = list(words)
    for phrase in phrases:
        n, i = len(phrase), 0
        while i + n <= len(out):
            if tuple(out[i : i + n]) == phrase:
                out[i : i + n] = ["|"]
            else:
                i += 1
    return tuple(out)


def regions_of_coil(text: str | None) -> dict[str, str]:
    """{region: coil word} a coil name is evidence of (a head-and-neck coil is evidence of neither)."""
    return dict(_of_coil(text)) if text else {}


@lru_cache(maxsize=1024)
def _of_coil(text: str) -> tuple[tuple[str, str], ...]:
    words = _without(tokens(text), _neutral_coils())
    present = frozenset(words)
    found: list[tuple[str, str]] = []
    for region in vocabulary().values():
        for phrase in region.coils:
            if phrase[0] in present and _contains(words, phrase):
                found.append((region.name, " ".join(phrase)))
                break
    return tuple(found)


def refined(region: str | None) -> str | None:
    """The region `region` is a part of (regions.yaml `refines`: the lumbar spine of the spine), or None."""
    entry = vocabulary().get(region) if region else None
    return entry.refines if entry else None


def admits(sequence_region: str | None, acquisition_region: str | None) -> bool:
    """Whether a spec sequence of `sequence_region` may be an acquisition decided to be of `acquisition_region`.

    Unknown on either side vetoes nothing; otherwise the same region, or one the sequence's region admits.
    """
    if sequence_region is None or acquisition_region is None:
        return True
    if sequence_region == acquisition_region:
        return True
    region = vocabulary().get(sequence_region)
    return region is not None and acquisition_region in region.admits
