"""The protocol spec as objects: sequences with their requirements, derived nominal values and suggestions.

`load_spec` validates before it builds, so everything downstream can trust the shape. A sequence's *target* for
a vendor and field strength is what a console should be set to, each value tagged with its basis:
`suggested` (a public vendor export), `nominal` (arithmetic on a requirement) or `requirement` (the limit itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import SpecError
from .rules import Constraint, from_mapping
from .validate import problems_for


@dataclass(frozen=True)
class Target:
    value: Any
    basis: str  # "suggested" | "nominal" | "requirement"
    source: str


@dataclass(frozen=True)
class Suggestion:
    vendor: str
    field_t: float
    source: str
    product: str | None
    note: dict[str, str]
    values: dict[str, Any]
    # Values of the source that break a requirement: param -> {value, breaks, rule_source}; never suggested.
    withheld: dict[str, dict[str, Any]] = field(default_factory=dict)
    # A sequence planned in stations: each station's name and own values, top to bottom, as the source lists them.
    stations: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Sequence:
    id: str
    exam: str
    label: dict[str, str]
    constraints: tuple[Constraint, ...]
    nominal: dict[str, Any]
    nominal_source: str | None
    suggested: tuple[Suggestion, ...]
    hints: tuple[str, ...] = ()
    bids: tuple[str, ...] = ()
    preset: dict[str, Any] = field(default_factory=dict)  # a site's exact values (snapshot), for drift
    preset_acquisition: str | None = None
    contrast: str = "any"
    group: str | None = None
    derived_required: tuple[str, ...] = ()
    stations: tuple[int, int] | None = None
    held_by: dict[str, Any] | None = None  # acquired inside another sequence on some consoles (see the schema)
    # The body region this sequence images (its exam's `region:`, or its own); None = the spec does not say.
    region: str | None = None
    # The sequence this one acquires again (post-contrast 3D T1 = the pre-contrast protocol): its values are that
    # sequence's, by construction (see `build`).
    same_as: str | None = None

    def admits_region(self, region: str | None) -> bool:
        """Whether an acquisition decided to be of `region` may be this sequence (None, not known, vetoes nothing).

        Besides the same region, regions.yaml lets a region admit a neighbour: the orbits are imaged in the
        head program with the head coil, so an orbit sequence admits an acquisition known only to be "brain".
        """
        from .regions import admits

        return admits(self.region, region)

    def constraints_for(self, vendor: str | None = None, field_t: float | None = None) -> list[Constraint]:
        return [c for c in self.constraints if c.applies(vendor, field_t)]

    def suggestion(self, vendor: str, field_t: float) -> Suggestion | None:
        """The most complete of this console's suggestions: TR, TE and flip angle (the contrast) count twice,
        the geometry once; the first listed wins a tie (a spec's own before the generated file's)."""
        found = [s for s in self.suggested if s.vendor == vendor and abs(s.field_t - field_t) < 0.2]
        if not found:
            return None
        return max(found, key=lambda s: (_completeness(s), -found.index(s)))

    def families(self) -> list[str]:
        for c in self.constraints:
            if c.param == "sequence_family":
                return list(c.value) if c.op == "in" else [c.value]
        return []

    def targets(self, vendor: str, field_t: float) -> dict[str, Target]:
        """What to set on the console: suggestion over nominal over an exact requirement."""
        out: dict[str, Target] = {}
        for c in self.constraints_for(vendor, field_t):
            value = _limit_value(c)
            if value is not None and c.param not in out:
                out[c.param] = Target(value, "requirement", c.source)
        sugg = self.suggestion(vendor, field_t)
        for name, value in self.nominal.items():
            if sugg is not None and name in _geometry_contradicted(self.nominal, sugg.values):
                continue
            out[name] = Target(value, "nominal", self.nominal_source or "")
        if sugg is not None:
            for name, value in sugg.values.items():
                out[name] = Target(value, "suggested", sugg.source)
        voxel = _voxel_from(out)
        if voxel is not None:
            out["voxel_size_mm"] = Target(voxel, "nominal", self.nominal_source or "")
        return out


GEOMETRY = ("voxel_size_mm", "fov_mm", "matrix", "slices")
IN_PLANE = ("voxel_size_mm", "fov_mm", "matrix")  # one set: any of them fixes the others; a slice count fixes none
CONTRAST = ("repetition_time_ms", "echo_time_ms", "flip_angle_deg")


def _completeness(s: Suggestion) -> int:
    return sum(2 for p in CONTRAST if p in s.values) + sum(
        1 for p in (*GEOMETRY, "slice_thickness_mm") if p in s.values
    )


def _geometry_contradicted(nominal: dict[str, Any], suggested: dict[str, Any]) -> set[str]:
    """Derived geometry a real scan's values would contradict: FOV, matrix and voxel are one set, so a card never
    pairs a derived 256 mm / 256 matrix with a scan's own FOV, nor a 1 mm derived voxel with its 3 mm slices."""
    if any(name in suggested for name in IN_PLANE):
        return {name for name in GEOMETRY if name not in suggested}
    # A scan's slice count alone (a sidecar's SliceTiming) says nothing of its FOV, matrix or voxel: the derived
    # in-plane geometry stays; only a derived slice count gives way to the scan's.
    voxel, thickness = nominal.get("voxel_size_mm"), suggested.get("slice_thickness_mm")
    if (
        isinstance(voxel, list | tuple)
        and len(voxel) == 3
        and thickness is not None
        and abs(voxel[2] - thickness) > 0.01
    ):
        return {"voxel_size_mm"}
    return set()


def _voxel_from(targets: dict[str, Target]) -> list[float] | None:
    """Without a voxel target, FOV / matrix and the slice thickness give it (arithmetic, so `nominal`)."""
    if "voxel_size_mm" in targets:
        return None
    fov, matrix, thick = (targets.get(k) for k in ("fov_mm", "matrix", "slice_thickness_mm"))
    if not (fov and matrix and thick):
        return None
    try:
        return [round(fov.value[0] / matrix.value[0], 3), round(fov.value[1] / matrix.value[1], 3), thick.value]
    except (TypeError, IndexError, ZeroDivisionError):
        return None


def _limit_value(c: Constraint) -> Any:
    """Only an exact requirement names a setting; an inequality is a limit (TI >= 1 ms means 'has an
    inversion', not 'set TI to 1'), so it supplies no value: the derived nominal values do."""
    if c.op == "eq":
        return list(c.value) if isinstance(c.value, tuple) else c.value
    if c.op == "in":
        return c.value[0]
    return None


@dataclass(frozen=True)
class Variant:
    exam: str
    id: str
    label: dict[str, str]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    order: tuple[str, ...]
    names: tuple[str, ...] = ()  # words a program name uses for this variant, besides its id
    notes: tuple[dict[str, Any], ...] = ()  # sourced instructions printed with the variant (e.g. a new PML lesion)

    @property
    def key(self) -> str:
        return f"{self.exam}-{self.id}"


@dataclass(frozen=True)
class Exam:
    id: str
    label: dict[str, str]
    variants: dict[str, Variant]
    coverage: dict[str, Any] = field(default_factory=dict)
    region: str | None = None  # the body region its sequences image ("brain", "spine", "orbits", "whole-body")


@dataclass(frozen=True)
class Spec:
    id: str
    version: str
    title: dict[str, str]
    summary: dict[str, str]
    vendors: tuple[str, ...]
    field_strengths_t: tuple[float, ...]
    sources: dict[str, dict[str, Any]]
    exams: dict[str, Exam]
    sequences: dict[str, Sequence]
    groups: dict[str, dict[str, Any]]
    gadolinium: dict[str, Any]
    timing: tuple[dict[str, Any], ...]
    situations: dict[str, dict[str, Any]]
    acquisition: dict[str, Any]
    path: Path | None = None
    files: tuple[Path, ...] = ()
    preset: dict[str, Any] = field(
        default_factory=dict
    )  # a site preset's provenance (source, scanner)  # the spec file and every file it extends, base first
    session_rules: tuple[dict[str, Any], ...] = ()
    levels: dict[str, dict[str, str]] = field(default_factory=dict)  # the spec's words for required / optional
    considerations: tuple[dict[str, Any], ...] = ()  # sourced points to weigh (not rules, never advice)
    dummy_run: dict[str, Any] = field(default_factory=dict)  # the export steps a checklist ends with

    def variants(self) -> list[Variant]:
        return [v for exam in self.exams.values() for v in exam.variants.values()]

    def variant(self, exam: str, variant: str) -> Variant:
        return self.exams[exam].variants[variant]

    def timing_source(self, exam: str) -> str:
        """The source of the spec's rhythm for an exam (for a due date a plan prints)."""
        for rule in self.timing:
            if rule.get("exam") == exam:
                return str(rule.get("source", ""))
        return ""

    def group_of(self, seq_id: str) -> dict[str, Any] | None:
        for group in self.groups.values():
            if seq_id in group.get("members", []):
                return group
        return None


def _plain(value: Any) -> Any:
    """Located containers -> plain dicts and lists (the model should not carry parse metadata)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _exam_listing(exams: dict[str, Any]) -> dict[str, str]:
    """{sequence id: the exam whose variants list it}: a sequence without `exam:` belongs to the exam that asks
    for it (spine-generic's `sg.t1w` is of exam `spine`), not to an exam named after its id's prefix."""
    out: dict[str, str] = {}
    for exam_id, raw in exams.items():
        for variant in ((raw or {}).get("variants") or {}).values():
            for seq_id in [*(variant or {}).get("required", []), *(variant or {}).get("optional", [])]:
                out.setdefault(seq_id, exam_id)
    return out


def build(doc: Any, path: Path | None = None) -> Spec:
    doc = _plain(doc)
    rule_sets = doc.get("rule_sets") or {}
    exam_regions = {exam_id: (raw or {}).get("region") for exam_id, raw in (doc.get("exams") or {}).items()}
    listed_in = _exam_listing(doc.get("exams") or {})
    sequences = {}
    for seq_id, raw in doc["sequences"].items():
        exam_id = raw.get("exam") or listed_in.get(seq_id) or seq_id.split(".", 1)[0]
        constraints = [from_mapping(r) for name in raw.get("apply", []) for r in rule_sets[name]]
        constraints += [from_mapping(r) for r in raw.get("constraints", [])]
        nominal = raw.get("nominal") or {}
        sequences[seq_id] = Sequence(
            id=seq_id,
            exam=exam_id,
            label=raw["label"],
            constraints=tuple(constraints),
            nominal=dict(nominal.get("values") or {}),
            nominal_source=nominal.get("source"),
            suggested=tuple(
                Suggestion(
                    s["vendor"],
                    float(s["field_t"]),
                    s["source"],
                    s.get("product"),
                    s.get("note") or {},
                    dict(s["values"]),
                    dict(s.get("withheld") or {}),
                    tuple(s.get("stations") or ()),
                )
                for s in raw.get("suggested", [])
            ),
            hints=tuple(raw.get("hints", [])),
            bids=tuple(raw.get("bids", [])),
            preset=dict((raw.get("preset") or {}).get("values") or {}),
            preset_acquisition=(raw.get("preset") or {}).get("acquisition"),
            contrast=raw.get("contrast", "any"),
            group=raw.get("group"),
            derived_required=tuple(raw.get("derived_required", [])),
            stations=tuple(raw["stations"]) if "stations" in raw else None,
            held_by=raw.get("held_by"),
            region=raw.get("region") or exam_regions.get(exam_id),
            same_as=raw.get("same_as"),
        )
    for seq_id, seq in list(sequences.items()):
        # One protocol acquired twice: the repeat takes its protocol's derived and suggested values (validate
        # refuses a `same_as` sequence with values of its own, so nothing is overwritten).
        if seq.same_as and seq.same_as in sequences:
            base = sequences[seq.same_as]
            sequences[seq_id] = replace(
                seq, nominal=dict(base.nominal), nominal_source=base.nominal_source, suggested=base.suggested
            )
    exams = {}
    for exam_id, raw in doc["exams"].items():
        variants = {
            vid: Variant(
                exam_id,
                vid,
                v["label"],
                tuple(v["required"]),
                tuple(v.get("optional", [])),
                tuple(v.get("order") or (list(v["required"]) + list(v.get("optional", [])))),
                names=tuple(v.get("names", [])),
                notes=tuple(v.get("notes") or ()),
            )
            for vid, v in raw.get("variants", {}).items()
        }
        exams[exam_id] = Exam(exam_id, raw["label"], variants, raw.get("coverage") or {}, raw.get("region"))
    return Spec(
        id=doc["id"],
        version=str(doc["version"]),
        title=doc["title"],
        summary=doc.get("summary") or doc["title"],
        vendors=tuple(doc["vendors"]),
        field_strengths_t=tuple(float(f) for f in doc["field_strengths_t"]),
        sources=doc["sources"],
        exams=exams,
        sequences=sequences,
        groups=doc.get("groups") or {},
        gadolinium=doc.get("gadolinium") or {},
        timing=tuple(doc.get("timing") or ()),
        situations=doc.get("situations") or {},
        acquisition=doc.get("acquisition") or {},
        path=path,
        session_rules=tuple(doc.get("session_rules") or ()),
        levels=dict(doc.get("levels") or {}),
        considerations=tuple(doc.get("considerations") or ()),
        dummy_run=dict(doc.get("dummy_run") or {}),
        preset=dict(doc.get("preset") or {}),
    )


def load_spec(ref: str | Path = "ofsep-2020") -> Spec:
    """Load, validate and build a spec (bundled name or path); raises SpecError listing every problem."""
    chain, doc, problems = problems_for(ref)
    if problems:
        raise SpecError(problems)
    spec = build(doc, chain[-1].path)
    return replace(spec, files=tuple(f.path for f in chain))
