"""Compliance of an exam (export or dummy run) with a spec: one report model that every format renders.

The verdict order is a contract with the physicist: `fail` (an error-severity rule broken, or a required sequence
missing) outranks `unknown` (the input cannot tell a value an error rule needs: never counted as a pass), which
outranks `warn`, which outranks `pass`. Only `pass` and `warn` are compliant (exit 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import units
from .acquisition import Acquisition, Inspection
from .drift import Drift, drift, has_preset
from .exams import prepare
from .match import (
    DUMMY_RUN_FORMATS,
    Match,
    Matching,
    Phase,
    Unmatched,
    acquisition_order,
    contrast_phases,
    input_is_ordered,
    is_injection_step,
    match,
    mentions,
    not_a_sequence,
    planes_in,
)
from .regions import refined
from .rules import Constraint, from_mapping
from .spec import Spec, Variant
from .vendors import all_vendors

RANK = {"pass": 0, "not-applicable": 0, "warn": 1, "unknown": 2, "fail": 3, "missing": 3}


@dataclass
class CheckResult:
    param: str
    rule: str  # the JSON contract's form ('<= 1.0'); rule_words is what people read ('≤ 1.0 mm')
    observed: Any
    status: str
    severity: str
    source: str
    note: str = ""
    vendor_label: str = ""
    vendor_value: str = ""
    provenance: str = ""
    rule_words: str = ""


@dataclass
class SequenceResult:
    id: str
    label: str
    exam: str
    required: bool
    status: str
    matched: list[Match] = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    repeats: list[Acquisition] = field(default_factory=list)  # later series of the same protocol, not judged


@dataclass
class SessionResult:
    rule: str
    status: str
    detail: str
    source: str = ""


@dataclass
class Report:
    spec: Spec
    variants: list[Variant]
    sources: list[str]
    formats: list[str]
    scanner: dict[str, Any]
    vendor: str | None
    field_t: float | None
    inferred: dict[str, str]
    sequences: list[SequenceResult]
    session: list[SessionResult]
    unmatched: list[tuple[Acquisition, str]]
    maps: list[Acquisition]
    warnings: list[str]
    lang: str = "en"
    unmatched_details: list[Unmatched] = field(default_factory=list)  # why, and the closest slot with its score
    drift: Drift | None = None  # with a site preset: what changed since the site was validated
    exam: dict[str, Any] | None = None  # which exam of the input this report judges (exams.Exam.to_json)

    @property
    def status(self) -> str:
        worst = "pass"
        for item in [*self.sequences, *self.session]:
            if RANK[item.status] > RANK[worst]:
                worst = "fail" if item.status == "missing" else item.status
        return worst

    @property
    def compliant(self) -> bool:
        return self.status in ("pass", "warn")

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.sequences:
            out[s.status] = out.get(s.status, 0) + 1
        return out


def _worst(statuses: list[str]) -> str:
    return max(statuses, key=lambda s: RANK[s], default="pass")


def scanner_of(inspections: list[Inspection]) -> dict[str, Any]:
    """One exam's scanner from several inputs: the first value each input states."""
    scanner: dict[str, Any] = {}
    for inspection in inspections:
        for key, value in inspection.scanner.items():
            scanner.setdefault(key, value)
    return scanner


def field_class(value: float | None) -> float | None:
    """The nominal field a header's value stands for (units.nominal_field_t, the one table the readers use too):
    Siemens states 1.494 T for its 1.5 T and 2.89 T for its 3 T systems. Only a value near a class is that class;
    a 0.55 T or 1.0 T system is not judged as a 1.5 T one."""
    return None if value is None else units.nominal_field_t(float(value))


def vendor_view(vendor: str | None, param: str, observed: Any, context: dict) -> tuple[str, str]:
    """The vendor's own label for a parameter and the observed value in the vendor's unit, where it has one."""
    if vendor not in all_vendors() or observed is None:
        return "", ""
    fields = all_vendors()[vendor].fields_for(param)
    if not fields:
        return "", ""
    # As the console shows it for this scan: a Philips EPI's bandwidth is "BW in EPI freq. dir. (Hz)", not a
    # water-fat shift (the label variant's own unit and conversion).
    family = context.get("sequence_family")
    f = fields[0].resolved(context.get("acquisition_type"), (family,) if family else ())
    try:
        shown = units.display(
            units.to_vendor(observed, f.convert, context), f.convert, f.decimals, all_vendors()[vendor].words.get(param)
        )
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        shown = ""
    if shown and f.unit and f"({f.unit})" not in f.label:  # "TR (ms)" says its unit already
        shown = f"{shown} {f.unit}"
    return f.label, shown


EXPORT_CANNOT_KNOW = {
    # A protocol export is the program, not an exam: nobody was injected. Its contrast state is the console's
    # (or the dummy run's) to show, unless the program itself states it (GE CONTRAST, a Philips contrast step).
    "contrast_agent": "a protocol export does not record the injection; verify at the console",
}


def evaluate(
    seq_id: str,
    spec: Spec,
    m: Match,
    vendor: str | None,
    field_t: float | None,
    export: bool = False,
    phase: Phase | None = None,
) -> list[CheckResult]:
    """Each constraint of the sequence on the matched acquisition. From a protocol export, a value that only an
    exam can show (the injection) is `not-applicable` with what to verify, never a failure of the export.

    `phase`: the acquisition's contrast phase as matching read it. A dummy run's series whose header leaves the
    contrast unsaid (no Contrast/Bolus module, or its Type 2 agent empty: only an implied "no") is judged on that
    phase (a name saying post-contrast, a BIDS ce- entity), the evidence that placed it in its slot."""
    seq = spec.sequences[seq_id]
    acq = m.acquisition
    context = dict(acq.params)
    context.setdefault("field_strength_t", field_t)
    results = []
    for c in seq.constraints_for(vendor, field_t):
        observed = acq.get(c.param)
        provenance = acq.provenance.get(c.param, "")
        implied = observed is None or provenance.startswith("implied")
        if c.param == "contrast_agent" and implied and not export and phase is not None and phase.state:
            observed, provenance = phase.state == "post", f"contrast phase: {phase.why} ({provenance or 'no flag'})"
        if c.param == "orientation" and observed is None:
            # An input that states no plane at all (a GE Protocol Exchange report printed without its plane rows):
            # the series name stating exactly one plane ("SAG T2 TOP", "Ax T2 FRFSE") is what it says of its plane,
            # the same statement matching weighs (`_named_plane`), shown with where it comes from.
            stated = planes_in(acq.name)
            if len(stated) == 1:
                (observed,) = stated
                provenance = f"the series name {acq.name!r} states {observed} (the input states no plane)"
        verdict = c.evaluate(observed)
        note = c.note.get("en", "")
        if c.param == "orientation" and observed == "oblique" and verdict == "fail":
            # A GE program's PLANE "OBLIQUE" (or a plane tilted off every axis) does not say which plane it is
            # tilted from: as in matching, it does not contradict a plane; it cannot confirm one either.
            verdict, note = "unknown", "an oblique plane: the input does not say which plane it is tilted from"
        if verdict == "unknown" and export and c.param in EXPORT_CANNOT_KNOW:
            status, note = "not-applicable", EXPORT_CANNOT_KNOW[c.param]
        elif verdict == "fail":
            status = "fail" if c.severity == "error" else "warn"
        elif verdict == "unknown":
            status = "unknown"
        else:
            status = "pass"
        label, shown = vendor_view(acq.get("manufacturer") or vendor, c.param, observed, context)
        results.append(
            CheckResult(
                param=c.param,
                rule=c.rule_text,
                rule_words=c.rule_words,
                observed=observed,
                status=status,
                severity=c.severity,
                source=c.source,
                note=note,
                vendor_label=label,
                vendor_value=shown,
                provenance=provenance,
            )
        )
    return results


def _choose_variants(
    spec: Spec, matching: Matching, forced: str | None, acquisitions: list[Acquisition] | None = None
) -> tuple[list[Variant], dict[str, str]]:
    """The variant of each exam found, failing safe: the fullest variant that holds every sequence found, unless a
    program names a smaller one (and nothing found contradicts it). A standard exam missing its 3D T1 is the
    standard exam with a missing sequence, never a pass of the reduced one."""
    present = [e for e in spec.exams if any(spec.sequences[s].exam == e for s in matching.matches)]
    if not present:  # nothing matched: the exam of the regions the input was placed in, else the spec's first
        placed = {a.region for a in acquisitions or [] if a.region}
        placed |= {r for r in (refined(p) for p in placed) if r}  # a lumbar exam is listed as the spine exam
        present = [e for e, exam in spec.exams.items() if exam.region in placed] or [next(iter(spec.exams))]
    names = sorted({a.program for a in acquisitions or [] if a.program})
    chosen, why = [], {}
    for exam_id in present:
        exam = spec.exams[exam_id]
        if forced:
            if forced not in exam.variants:
                known = ", ".join(exam.variants)
                variant = exam.variants.get("standard") or next(iter(exam.variants.values()))
                why[exam_id] = f"{exam_id} has no variant {forced!r} ({known}); {variant.id} used"
            else:
                variant = exam.variants[forced]
                why[exam_id] = f"{variant.id} (--variant)"
            chosen.append(variant)
            continue
        found = {s for s in matching.matches if spec.sequences[s].exam == exam_id}
        variants = list(exam.variants.values())
        holding = [v for v in variants if found <= {*v.required, *v.optional}] or variants
        fullest = max(holding, key=lambda v: (len(v.required), len(v.optional)))
        named = [v for v in variants if any(mentions(n, w) for n in names for w in (v.id, *v.names))]
        named_ok = [v for v in named if v in holding]
        if len(named_ok) == 1:
            variant = named_ok[0]
            why[exam_id] = f"{variant.id} (inferred: the program is named so; force with --variant)"
        else:
            variant = fullest
            others = [v.id for v in variants if v is not variant]
            text = f"{variant.id} (inferred: the fullest variant holding the sequences found"
            if not found:
                text = f"{variant.id} (no sequence of this exam found: the fullest variant is listed"
            if named and not named_ok:
                extra = sorted(found - {*named[0].required, *named[0].optional})
                text += f"; the program names {named[0].id}, but {', '.join(extra)} is not part of it"
            elif others:
                text += f"; {', '.join(others)} only when a program is named so"
            why[exam_id] = text + "; force with --variant)"
        chosen.append(variant)
    return chosen, why


def outside_the_spec(spec: Spec, acquisitions: list[Acquisition]) -> str | None:
    """Why nothing of this input can be judged against the spec: every series that is a sequence was placed in a
    region no sequence of the spec images (a prostate or knee program against OFSEP's brain and cord), or None.

    Said only when every such series is placed: a series of unknown region may be a brain or spinal one."""
    series = [a for a in acquisitions if not not_a_sequence(a)]
    if not series or any(a.region is None for a in series):
        return None
    sequences = list(spec.sequences.values())
    if any(seq.admits_region(a.region) for a in series for seq in sequences):
        return None
    by_region: dict[str, list[Acquisition]] = {}
    for acq in series:
        by_region.setdefault(acq.region, []).append(acq)
    parts = []
    for region, placed in sorted(by_region.items()):
        why = next((r for a in placed for r in a.region_reasons), "")
        whole = refined(region)
        part = f", a part of the {whole} that no sequence of {spec.id} images alone" if whole else ""
        parts.append(f"{len(placed)} of region {region}{part}" + (f" ({why})" if why else ""))
    others = len(acquisitions) - len(series)
    if others:
        parts.append(f"{others} localizer(s) or calibration")
    regions = ", ".join(sorted({s.region for s in sequences if s.region}))
    exams = " or ".join(e.label.get("en", e.id) for e in spec.exams.values())
    return (
        f"no acquisition of a region {spec.id} images ({regions}): {'; '.join(parts)}. This exam is no "
        f"{exams}: nothing in it is judged against {spec.id}; check the {exams} export or study instead"
    )


def check(
    inspections: list[Inspection],
    spec: Spec,
    variant: str | None = None,
    field_t: float | None = None,
    forced: dict[str, str] | None = None,
) -> Report:
    inspections = prepare(inspections)  # the exam step: sidecars folded into their series, regions placed
    acquisitions = [a for i in inspections for a in i.acquisitions]
    scanner = scanner_of(inspections)
    vendor = scanner.get("manufacturer")
    inferred: dict[str, str] = {}
    if field_t is None:
        field_t = field_class(scanner.get("field_strength_t"))
        inferred["field"] = f"{field_t:g} T (from the input)" if field_t else "unknown (not in the input; --field)"
    else:
        inferred["field"] = f"{field_t:g} T (--field)"
    all_sequences = list(spec.sequences)
    order, _ = acquisition_order(acquisitions, input_is_ordered([i.format for i in inspections]))
    matching = match(acquisitions, spec, all_sequences, vendor, field_t, forced, order)
    phases = contrast_phases(acquisitions, order)
    variants, why = _choose_variants(spec, matching, variant, acquisitions)
    for exam_id, text in why.items():
        inferred[f"variant {exam_id}"] = text
    outside = outside_the_spec(spec, acquisitions) if not matching.matches else None
    if outside:
        inferred["regions"] = outside
    listed: list[str] = []
    for v in variants:
        listed += [s for s in v.order if s in spec.sequences and s not in listed]
        listed += [s for s in (*v.required, *v.optional) if s not in listed]
    listed += [s for s in matching.matches if s not in listed]
    required = {s for v in variants for s in v.required}
    exported = {id(a) for i in inspections if i.format not in DUMMY_RUN_FORMATS for a in i.acquisitions}
    results = []
    for seq_id in listed:
        seq = spec.sequences[seq_id]
        matches = matching.matches.get(seq_id, [])
        if not matches:
            holder = held_by(spec, seq_id, matching, vendor)
            if holder is not None and seq_id in required:
                note = seq.held_by["note"].get("en", "")
                check_ = CheckResult(
                    "sequence",
                    "acquired inside another sequence",
                    holder.acquisition.name,
                    "warn",
                    "warning",
                    seq.held_by["source"],
                    note,
                )
                results.append(
                    SequenceResult(seq_id, seq.label.get("en", seq_id), seq.exam, True, "warn", [], [check_])
                )
                continue
            status = "missing" if seq_id in required else "not-applicable"
            results.append(SequenceResult(seq_id, seq.label.get("en", seq_id), seq.exam, seq_id in required, status))
            continue
        checks = [
            c
            for m in matches
            for c in evaluate(
                seq_id, spec, m, vendor, field_t, id(m.acquisition) in exported, phases[m.position] if phases else None
            )
        ]
        # An unknown that only a warning or info rule needs leaves the sequence's verdict alone (it is shown).
        status = _worst([c.status for c in checks if not (c.status == "unknown" and c.severity != "error")])
        result = SequenceResult(
            seq_id, seq.label.get("en", seq_id), seq.exam, seq_id in required, status, matches, checks
        )
        result.repeats = list(matching.repeats.get(seq_id, []))
        results.append(result)
    formats = [i.format for i in inspections]
    session = session_rules(spec, variants, matching, acquisitions, formats, scanner.get("field_strength_t"))
    warnings = [w for i in inspections for w in i.warnings]
    report = Report(
        spec=spec,
        variants=variants,
        sources=[i.source for i in inspections],
        formats=formats,
        scanner=scanner,
        vendor=vendor,
        field_t=field_t,
        inferred=inferred,
        sequences=results,
        session=session,
        unmatched=matching.unmatched,
        maps=matching.maps,
        warnings=warnings,
        unmatched_details=matching.details,
    )
    if has_preset(spec):
        firsts = {seq_id: found[0].acquisition for seq_id, found in matching.matches.items() if found}
        report.drift = drift(spec, firsts, scanner)
    return report


def session_rules(
    spec: Spec,
    variants: list[Variant],
    matching: Matching,
    acquisitions: list[Acquisition],
    formats: list[str],
    field_strength_t: float | None = None,
) -> list[SessionResult]:
    """Rules over the whole exam: field, presence, injection order, derived maps, cord coverage, brain before spine."""
    out: list[SessionResult] = []
    dummy_run = bool(formats) and all(f in DUMMY_RUN_FORMATS for f in formats)
    source = spec.gadolinium.get("source", "")
    key, basis = acquisition_order(acquisitions, input_is_ordered(formats))

    for raw in (spec.acquisition.get("field_strength") or [])[:1]:
        if field_strength_t is not None:
            rule = from_mapping(raw)
            verdict = rule.evaluate(field_strength_t)
            out.append(
                SessionResult(f"field strength {rule.rule_words}", verdict, f"{field_strength_t:g} T", rule.source)
            )

    vendor = next((a.get("manufacturer") for a in acquisitions if a.get("manufacturer")), None)
    missing = [
        s
        for v in variants
        for s in v.required
        if s not in matching.matches and held_by(spec, s, matching, vendor) is None
    ]
    out.append(
        SessionResult(
            "every required sequence present",
            "fail" if missing else "pass",
            ("missing: " + ", ".join(missing)) if missing else ", ".join(v.key for v in variants),
            source,
        )
    )
    for group_id, group in spec.groups.items():
        members = [s for s in group.get("members", []) if any(s in (*v.required, *v.optional) for v in variants)]
        if members and group.get("required"):
            found = [s for s in members if s in matching.matches]
            need = int(group.get("at_least", 1))
            rule = f"one of {group_id}" if need == 1 else f"at least {need} of {group_id}"
            out.append(
                SessionResult(rule, "pass" if len(found) >= need else "fail", ", ".join(found) or "none found", source)
            )

    flair_id = spec.gadolinium.get("inject_before")
    flair = matching.first(flair_id) if flair_id else None
    post_ids = [s for s in spec.gadolinium.get("post_contrast", []) if s in matching.matches]
    phases = contrast_phases(acquisitions, key)
    flagged = [
        pos
        for pos, a in enumerate(acquisitions)
        if (a.get("contrast_agent") is True or phases[pos].state == "post" or is_injection_step(a))
        and not a.context.get("unordered")  # listed where the input states no place (an .exar1 step off its chain)
    ]
    injection = (min(flagged, key=key) if key else flagged[0]) if flagged else None
    # The OFSEP sheet says the injection is "ideally" before the 3D FLAIR: a broken order is what the spec's
    # `inject_before_severity` says (a warning there), not a failure. No rule places the post-contrast T1 after
    # the FLAIR: no source states one.
    broken = _status_for(spec.gadolinium.get("inject_before_severity", "error"))
    if flair_id:
        rule = f"gadolinium before {_label(spec, flair_id)}"
        if injection is None and not post_ids and not dummy_run:
            out.append(
                SessionResult(
                    rule,
                    "not-applicable",
                    "a protocol export does not record the injection; verify at the console",
                    source,
                )
            )
        elif injection is None and not post_ids:
            out.append(SessionResult(rule, "not-applicable", "no injection in this exam", source))
        elif flair is None:
            out.append(SessionResult(rule, "not-applicable", f"{_label(spec, flair_id)} not found", source))
        elif injection is None:
            out.append(SessionResult(rule, "unknown", "the input does not record when contrast was given", source))
        elif key is None:
            out.append(SessionResult(rule, "unknown", basis, source))
        elif flair.acquisition.context.get("unordered"):
            why = f"{flair.acquisition.name!r}: its place is not stated ({flair.acquisition.context['unordered']})"
            out.append(SessionResult(rule, "unknown", why, source))
        else:
            first = acquisitions[injection].name
            if key(flair.position) >= key(injection):
                out.append(
                    SessionResult(
                        rule,
                        "pass",
                        f"first contrast-enhanced acquisition {first!r}; {flair.acquisition.name!r} after it ({basis})",
                        source,
                    )
                )
            else:
                out.append(
                    SessionResult(
                        rule,
                        broken,
                        f"{flair.acquisition.name!r} acquired before the first "
                        f"contrast-enhanced acquisition {first!r} ({basis})",
                        source,
                    )
                )

    for seq_id, seq in spec.sequences.items():
        if not seq.derived_required or seq_id not in matching.matches:
            continue
        m = matching.first(seq_id)
        wanted = set(seq.derived_required)
        rule = f"{' + '.join(sorted(wanted))} map for {seq_id}"
        own = set(m.acquisition.get("derived") or [])
        maps = [a for a in matching.maps if wanted & set(a.get("derived") or [])]
        if wanted <= own:
            out.append(SessionResult(rule, "pass", f"{m.acquisition.name!r} carries it", "ofsep-2020"))
        elif maps:
            out.append(SessionResult(rule, "pass", f"{maps[0].name!r}", "ofsep-2020"))
        elif dummy_run:
            out.append(SessionResult(rule, "fail", "no such derived series in this exam", "ofsep-2020"))
        else:
            out.append(
                SessionResult(
                    rule,
                    "not-applicable",
                    "a protocol export does not carry reconstructed series; checked on a dummy run",
                    "ofsep-2020",
                )
            )

    for exam_id, exam in spec.exams.items():
        stations = exam.coverage.get("stations")
        if not stations or not any(v.exam == exam_id for v in variants):
            continue
        sagittal = [
            m
            for s, ms in matching.matches.items()
            if spec.sequences[s].exam == exam_id and spec.sequences[s].stations
            for m in ms
        ]
        per_seq: dict[str, int] = {}
        for m in sagittal:
            per_seq[m.sequence] = per_seq.get(m.sequence, 0) + 1
        rule = f"{exam_id} covered in {stations[0]}-{stations[1]} sagittal acquisitions"
        if not dummy_run:
            out.append(
                SessionResult(
                    rule,
                    "not-applicable",
                    "an export holds one protocol per station type; coverage is checked on a dummy run",
                    exam.coverage.get("source", ""),
                )
            )
        elif not per_seq:
            out.append(
                SessionResult(rule, "not-applicable", "no sagittal station found", exam.coverage.get("source", ""))
            )
        else:
            counts = ", ".join(f"{s}: {n}" for s, n in per_seq.items())
            ok = all(stations[0] <= n <= stations[1] for n in per_seq.values())
            out.append(SessionResult(rule, "pass" if ok else "fail", counts, exam.coverage.get("source", "")))

    for rule in spec.session_rules:
        if "equal" in rule:
            out.append(_equal_rule(rule, matching))
        elif "post_contrast" in rule:
            out.append(_post_contrast_rule(rule, spec, matching, injection is not None, variants))
        elif not rule.get("if_contrast") or injection is not None:
            out.append(_order_rule(rule, spec, matching, key, basis))
    return out


def held_by(spec: Spec, seq_id: str, matching: Matching, vendor: str | None) -> Match | None:
    """The acquisition that holds this sequence on this console (Philips MT-off inside the GRE-MT), if found."""
    rule = spec.sequences[seq_id].held_by
    if not rule:
        return None
    vendors = (rule.get("when") or {}).get("vendor")
    if vendors and vendor not in vendors:
        return None
    return matching.first(rule["sequence"])


def _status_for(severity: str) -> str:
    """What a broken session rule weighs: an "ideally"/"preferably" rule is a warning, never a failure."""
    return {"error": "fail", "warning": "warn"}.get(severity, "pass")


def _label(spec: Spec, item: str) -> str:
    """A sequence or exam as people name it (a report never prints an internal id alone)."""
    if item in spec.sequences:
        return spec.sequences[item].label.get("en", item)
    if item in spec.exams:
        return spec.exams[item].label.get("en", item)
    return item


def _post_contrast_rule(
    rule: dict[str, Any], spec: Spec, matching: Matching, injected: bool, variants: list[Variant]
) -> SessionResult:
    """Contrast given in a session with this exam: one of its post-contrast sequences is due."""
    wanted = rule["post_contrast"]
    name = f"gadolinium given: {' or '.join(_label(spec, s) for s in wanted)} due"
    if not any(v.exam == rule["exam"] for v in variants):
        return SessionResult(name, "not-applicable", f"no {_label(spec, rule['exam'])} in this session", rule["source"])
    found = [s for s in wanted if s in matching.matches]
    if found:
        return SessionResult(
            name, "pass", ", ".join(repr(matching.first(s).acquisition.name) for s in found), rule["source"]
        )
    if not injected:
        return SessionResult(name, "not-applicable", "no contrast-enhanced acquisition in this exam", rule["source"])
    return SessionResult(
        name,
        _status_for(rule.get("severity", "error")),
        "contrast was given but no post-contrast sequence was acquired",
        rule["source"],
    )


def _order_rule(rule: dict[str, Any], spec: Spec, matching: Matching, key: Any, basis: str) -> SessionResult:
    """Each listed exam or sequence acquired before the next (OFSEP: brain before spine, for one injection)."""
    name = " before ".join(_label(spec, item) for item in rule["order"]) + (
        " (one injection)" if rule.get("if_contrast") else ""
    )
    positions = []
    for item in rule["order"]:
        ids = [item] if item in spec.sequences else [s for s, q in spec.sequences.items() if q.exam == item]
        found = [m.position for s in ids for m in matching.matches.get(s, [])]
        if found:
            order = [key(p) for p in found] if key else [None]
            positions.append((item, min(order), max(order)))
    if len(positions) < 2:
        return SessionResult(name, "not-applicable", "fewer than two of these found", rule["source"])
    if key is None:
        return SessionResult(name, "unknown", basis, rule["source"])
    late = [(a[0], b[0]) for a, b in zip(positions, positions[1:], strict=False) if a[2] > b[1]]
    detail = f"by {basis}" + "".join(
        f"; {_label(spec, b)} acquired before the end of {_label(spec, a)}" for a, b in late
    )
    return SessionResult(name, _status_for(rule.get("severity", "error")) if late else "pass", detail, rule["source"])


def _equal_rule(rule: dict[str, Any], matching: Matching) -> SessionResult:
    """A parameter that must be the same across sequences (spine-generic: TR of MT-on and MT-off)."""
    param = rule["equal"]
    name = f"{param} equal in {' and '.join(rule['sequences'])}"
    found = [(s, matching.first(s)) for s in rule["sequences"] if matching.first(s) is not None]
    if len(found) < 2:
        return SessionResult(name, "not-applicable", "fewer than two of these sequences found", rule["source"])
    values = [(s, m.acquisition.get(param)) for s, m in found]
    detail = ", ".join(f"{s}: {v if v is not None else 'unknown'}" for s, v in values)
    if any(v is None for _, v in values):
        return SessionResult(name, "unknown", detail, rule["source"])
    first = values[0][1]
    same = all(Constraint(param, "eq", first, rule["source"]).evaluate(v) == "pass" for _, v in values[1:])
    return SessionResult(name, "pass" if same else "fail", detail, rule["source"])
