"""The view model of every rendered document: one spec sequence seen through one vendor's console.

Templates only lay out what this module computes, so the exam card, the vendor parameter sheet and the checklist
can never disagree about a value, a unit or a source. All unit conversion is delegated to `units`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from . import units
from .params import Parameter, registry
from .rules import SYMBOLS, Constraint
from .spec import Sequence, Spec, Target, Variant
from .vendors import Field, Vendor


@dataclass
class Row:
    """One parameter line: vendor label and unit, the value to set, and the requirement in vendor terms."""

    param: str
    canonical_label: str
    label: str
    unit: str
    key: str | None
    value: str
    basis: str | None
    source: str | None
    requirement: str
    requirement_source: str | None
    severity: str | None
    canonical_value: Any = None
    # What the sourced suggestion says of this parameter when it gives no value: the source's value and the rule
    # it breaks (withheld), or that the source file does not state it. Empty when the suggestion gives the value.
    note: str = ""

    @property
    def has_value(self) -> bool:
        return self.value != ""


@dataclass
class CardView:
    name: str
    rows: list[Row]


@dataclass
class SequenceView:
    id: str
    label: str
    required: bool
    group_label: str | None
    products: list[str]
    product: str | None
    suggestion_source: str | None
    suggestion_note: str | None
    contrast: str
    cards: list[CardView]
    requirements: list[Row]
    stations: tuple[int, int] | None
    derived_required: tuple[str, ...]
    voxel: str
    diffusion: bool = False  # an EPI diffusion sequence: its checklist always lists the b-values
    level: str = ""  # what the printed documents say: the spec's own word, and the group a member counts toward
    group_required: bool = False  # a member of a required either-or group ("at least 2 of")
    # Where the console files this step (Siemens "\\\\USER\\...\\step"): the one path card and sheet print.
    protocol_path: str = ""
    # The step's name at the console (the sequence's name and the vendor's sequence): the GE task's name.
    step_name: str = ""
    # The sequence this one acquires again (spec `same_as`): its label, and its step number on this sheet.
    same_as: str | None = None
    same_as_label: str | None = None
    same_as_number: int | None = None
    # A sequence planned in stations: the source's stations (header row, then one row per station), and what the
    # sources say (or do not say) about the plan: FOV per station, overlap.
    station_table: list[list[str]] = field(default_factory=list)
    station_plan: str = ""
    station_fov: list[str] = field(default_factory=list)  # per station, "FOV 22.0 cm", where a source lists them

    @property
    def rows(self) -> list[Row]:
        return [row for card in self.cards for row in card.rows]

    @property
    def checklist_rows(self) -> list[Row]:
        """What an operator ticks: every requirement, then each sourced suggestion for this console.

        Derived starting points (basis `nominal`) stay on the exam card: they are not something to verify.
        """
        constrained = {r.param for r in self.requirements}
        rows = self.requirements + [r for r in self.rows if r.basis == "suggested" and r.param not in constrained]
        # A diffusion sequence always shows its b-values, to write down from the console (no source fixes them
        # for the OFSEP DWI: the blank stays without a target).
        if self.diffusion and "b_values" not in {r.param for r in rows}:
            rows += [r for r in self.rows if r.param == "b_values"][:1]
        return rows


@dataclass
class Step:
    kind: str  # "sequence" | "gadolinium"
    sequence: SequenceView | None = None
    # For the injection step, in this exam's words (the spec's `gadolinium.steps.<exam>`): what to do now, when,
    # and the box the operator fills. A spinal exam after a brain exam must not invite a second dose.
    instruction: str | None = None
    when: str | None = None
    record: str | None = None


@dataclass
class Sheet:
    spec: Spec
    vendor: Vendor
    field_t: float
    variant: Variant
    lang: str
    steps: list[Step]
    sources: list[dict[str, Any]] = field(default_factory=list)
    # The only ordering the spec itself states (injection timing, exam order); the rest of `steps` is a suggestion.
    order_rules: list[str] = field(default_factory=list)
    # The variant's sourced instructions (PML surveillance: what a new lesion calls for), in this language.
    notes: list[dict[str, Any]] = field(default_factory=list)
    dummy_run: list[str] = field(default_factory=list)  # export steps, in this language (spec `dummy_run`)
    dummy_run_source: str | None = None
    console_title: str = ""  # the vendor printout's title line, where it has one ("SIEMENS MAGNETOM 3 T")
    injection_path: str = ""  # the program's pause step for the injection, where the console files one

    @property
    def sequences(self) -> list[SequenceView]:
        return [s.sequence for s in self.steps if s.sequence is not None]

    @property
    def citations(self) -> dict[str, str]:
        """How a printed card or checklist cites a source: its number in the document's list of sources ("[2]"),
        not the spec's file id (people read the list; the machine sheets keep the ids)."""
        return {s["id"]: f"[{n}]" for n, s in enumerate(self.sources, start=1)}


def field_text(field_t: float, lang: str = "en") -> str:
    text = units.format_number(field_t, None)
    return f"{text.replace('.', ',') if lang == 'fr' else text} T"


def field_dir(field_t: float) -> str:
    return f"{units.format_number(field_t, None)}T"


def _words(vendor: Vendor, param: str) -> dict[str, str]:
    return vendor.words.get(param, {})


def _display_value(value: Any, f: Field, vendor: Vendor, ctx: dict[str, Any]) -> str:
    converted = units.to_vendor(value, f.convert, ctx)
    return units.display(converted, f.convert, f.decimals, _words(vendor, f.param))


def _canonical_text(param: Parameter, value: Any, lang: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        text = " × ".join(units.format_number(v, None) if isinstance(v, int | float) else str(v) for v in value)
    elif isinstance(value, int | float):
        text = units.format_number(value, None)
    else:
        text = str(value)
    return f"{text} {param.unit}" if param.unit else text


def requirement_text(
    rule: Constraint, param: Parameter, f: Field | None, vendor: Vendor, ctx: dict[str, Any], lang: str
) -> str:
    """The rule in the vendor's unit and words where it can be stated so, else in canonical terms."""
    words = _words(vendor, rule.param)
    unit = (f.unit if f else param.unit) or ""
    axes = ""
    if rule.axes is not None and param.is_list:
        axes = " (x, y)" if list(rule.axes) == [0, 1] else f" (axes {list(rule.axes)})"
    if rule.op in ("le", "ge", "between"):
        bounds = list(rule.value) if rule.op == "between" else [rule.value]
        converted = []
        op = rule.op
        for bound in bounds:
            result = units.bound_to_vendor(bound, rule.op, f.convert if f else None, ctx) if f else (rule.op, bound)
            if result is None:
                return f"{SYMBOLS[rule.op]} {_canonical_text(param, rule.value, lang)}{axes} (canonical)"
            op, value = result
            converted.append(units.display(value, None, f.decimals if f else None))
        if rule.op == "between":
            return f"{converted[0]} – {converted[1]} {unit}".strip() + axes
        return f"{SYMBOLS[op]} {converted[0]} {unit}".rstrip() + axes
    values = list(rule.value) if rule.op == "in" else [rule.value]
    if rule.param == "sequence_family":
        names = [p for fam in values for p in vendor.products(fam)] or values
        return " / ".join(names)
    shown = []
    for v in values:
        if isinstance(v, bool):
            shown.append(words.get("true" if v else "false", str(v).lower()))
        elif isinstance(v, str):
            shown.append(words.get(v, v))
        elif f is not None:
            shown.append(_display_value(v, f, vendor, ctx) or _canonical_text(param, v, lang))
        else:
            shown.append(_canonical_text(param, v, lang))
    symbol = "=" if rule.op == "eq" else "∈"
    text = f"{symbol} {' / '.join(shown)}" if len(shown) > 1 or rule.op == "eq" else shown[0]
    if f is not None and f.unit and rule.op == "eq" and not isinstance(values[0], str | bool):
        text += f" {f.unit}"
    return text


def sequence_view(
    spec: Spec, seq: Sequence, vendor: Vendor, field_t: float, variant: Variant, lang: str
) -> SequenceView:
    params = registry()
    targets: dict[str, Target] = seq.targets(vendor.id, field_t)
    ctx: dict[str, Any] = {name: t.value for name, t in targets.items()}
    ctx["field_strength_t"] = field_t
    rules = seq.constraints_for(vendor.id, field_t)

    def req_for(param: str, f: Field | None) -> tuple[str, Constraint | None]:
        texts, first = [], None
        for rule in rules:
            if rule.param == param:
                texts.append(requirement_text(rule, params[param], f, vendor, ctx, lang))
                first = first or rule
        return "; ".join(texts), first

    dimension = targets.get("acquisition_type")
    dimension_value = str(dimension.value) if dimension else None
    # The family the card sets (its target) names the label; without one, any family the spec allows.
    family = targets.get("sequence_family")
    families = (str(family.value),) if family else tuple(seq.families())

    def label_of(f: Field) -> str:
        return f.label_for(dimension_value, families)

    sugg = seq.suggestion(vendor.id, field_t)
    t = _strings(lang)

    def note_for(param: str, f: Field, target: Target | None) -> str:
        if sugg is None or (target is not None and target.basis == "suggested"):
            return ""
        held = sugg.withheld.get(param)
        if held is not None:
            shown = held["value"]
            if isinstance(shown, int | float | list) and not isinstance(shown, bool):
                shown = f"{_display_value(shown, f, vendor, ctx) or shown} {f.unit or ''}".strip()
            return t["source_breaks"].format(value=shown, rule=held["breaks"])
        if param in KEY_PARAMS:
            return t["source_silent"]
        return ""

    cards = []
    for card in vendor.cards:
        rows = []
        for f in (f.resolved(dimension_value, families) for f in card.fields):
            target = targets.get(f.param)
            value = _display_value(target.value, f, vendor, ctx) if target else ""
            req, rule = req_for(f.param, f)
            rows.append(
                Row(
                    param=f.param,
                    canonical_label=params[f.param].label.get(lang, f.param),
                    label=label_of(f),
                    unit=f.unit or "",
                    key=f.key,
                    value=value,
                    basis=target.basis if (target and value) else None,
                    source=target.source if (target and value) else None,
                    requirement=req,
                    requirement_source=rule.source if rule else None,
                    severity=rule.severity if rule else None,
                    canonical_value=target.value if target else None,
                    note=note_for(f.param, f, target),
                )
            )
        cards.append(CardView(card.name, rows))
    family = targets.get("sequence_family")
    product = (
        sugg.product
        if (sugg and sugg.product)
        else ((vendor.products(str(family.value)) or (None,))[0] if family else None)
    )

    requirements = []
    for rule in rules:
        fields = vendor.fields_for(rule.param)
        f = fields[0] if fields else None
        target = targets.get(rule.param)
        label = label_of(f) if f else params[rule.param].label.get(lang, rule.param)
        value = (
            _display_value(target.value, f, vendor, ctx)
            if (target and f)
            else (_canonical_text(params[rule.param], target.value, lang) if target else "")
        )
        if rule.param == "sequence_family" and target:
            value = product or str(target.value)
        elif isinstance(value, str) and f is None and isinstance(target.value if target else None, bool):
            value = _words(vendor, rule.param).get(value, value)
        note = rule.note.get(lang) or rule.note.get("en") or ""
        requirements.append(
            Row(
                param=rule.param,
                canonical_label=params[rule.param].label.get(lang, rule.param),
                label=label,
                unit=(f.unit if f else params[rule.param].unit) or "",
                key=f.key if f else None,
                value=value,
                basis=target.basis if target else None,
                source=target.source if target else None,
                requirement=requirement_text(rule, params[rule.param], f, vendor, ctx, lang)
                + (f" — {note}" if note else ""),
                requirement_source=rule.source,
                severity=rule.severity,
                canonical_value=target.value if target else None,
            )
        )

    group = spec.group_of(seq.id)
    products = [p for fam in seq.families() for p in vendor.products(fam)]
    voxel = targets.get("voxel_size_mm")
    required = seq.id in variant.required
    listed = {*variant.required, *variant.optional}
    group_required = bool(
        group and group.get("required") and not required and any(m in listed for m in group.get("members", []))
    )
    level = level_text(spec, lang, required, group if group_required else None)
    step_name = _step_name(seq.label.get(lang) or seq.label["en"], product)
    return SequenceView(
        id=seq.id,
        label=seq.label.get(lang) or seq.label["en"],
        required=seq.id in variant.required,
        group_label=(group["label"].get(lang) or group["label"]["en"]) if group else None,
        products=products,
        product=product,
        suggestion_source=sugg.source if sugg else None,
        suggestion_note=(sugg.note.get(lang) or sugg.note.get("en")) if (sugg and sugg.note) else None,
        contrast=seq.contrast,
        cards=cards,
        requirements=requirements,
        stations=seq.stations,
        derived_required=seq.derived_required,
        voxel=units.display(voxel.value, "voxel_text", 1) if voxel else "",
        level=level,
        group_required=group_required,
        diffusion="epi_dwi" in seq.families(),
        same_as=seq.same_as,
        same_as_label=_text(spec.sequences[seq.same_as].label, lang) if seq.same_as in spec.sequences else None,
        station_table=_station_table(sugg, vendor, ctx, lang) if (sugg and seq.stations) else [],
        station_plan=_station_plan(seq, sugg, t) if seq.stations else "",
        station_fov=_station_fov(sugg, vendor, ctx) if (sugg and seq.stations) else [],
        protocol_path=protocol_path(spec, vendor, variant, step_name, lang),
        step_name=step_name,
    )


def _step_name(label: str, product: str | None) -> str:
    """The step's name at the console: the sequence's name and the vendor's sequence, as sites name their steps
    ("t1_mprage_sag"): a reader of the print (ours included) tells the sequence from the name, as from any site's."""
    return f"{label} {product}" if product else label


def protocol_path(spec: Spec, vendor: Vendor, variant: Variant, step: str, lang: str) -> str:
    """The console's path of one step, from the vendor's pattern (`document.protocol_path`); "" without one.

    The parts are the user-facing names (spec, exam, variant, sequence), each on one line and without the
    path separator, so the step the console shows is the sequence's own name.
    """
    pattern = vendor.document.get("protocol_path")
    if not pattern:
        return ""

    def part(text: str | None) -> str:
        return " ".join(str(text or "").replace("\\", "/").split())

    exam = spec.exams[variant.exam]
    return str(pattern).format(
        spec=part(spec.id.upper()),
        exam=part(_text(exam.label, lang)),
        variant=part(_text(variant.label, lang)),
        step=part(step),
    )


# The parameters a console cannot do without: a sourced card says so when its source does not state one.
KEY_PARAMS = (
    "repetition_time_ms",
    "echo_time_ms",
    "flip_angle_deg",
    "fov_mm",
    "matrix",
    "slice_thickness_mm",
    "slices",
)
STATION_COLUMNS = ("fov_mm", "matrix", "slices", "repetition_time_ms", "echo_time_ms", "parallel_factor", "averages")


def _strings(lang: str) -> Any:
    from .render import words  # the interface strings live with the templates

    return words(lang)


def _station_table(sugg: Any, vendor: Vendor, ctx: dict[str, Any], lang: str) -> list[list[str]]:
    """The source's stations in this vendor's labels and units: a header row, then one row per station."""
    if not sugg.stations:
        return []
    columns = [p for p in STATION_COLUMNS if any(p in st["values"] for st in sugg.stations)]
    fields = {p: (vendor.fields_for(p) or [None])[0] for p in columns}
    params = registry()
    header = [_strings(lang)["station_word"]]
    for p in columns:
        f = fields[p]
        label = f.label if f else params[p].label.get(lang, p)
        unit = (f.unit if f else params[p].unit) or ""
        header.append(f"{label} [{unit}]" if unit else label)
    rows = [header]
    for number, st in enumerate(sugg.stations, start=1):
        row = [f"{number}. {st['name']}"]
        for p in columns:
            value = st["values"].get(p)
            f = fields[p]
            station_ctx = {**ctx, **st["values"]}
            if value is None:
                row.append("—")
            elif f is not None:
                row.append(_display_value(value, f, vendor, station_ctx))
            else:
                row.append(_canonical_text(params[p], value, lang))
        rows.append(row)
    return rows


def _station_fov(sugg: Any, vendor: Vendor, ctx: dict[str, Any]) -> list[str]:
    """Each listed station's FOV in this console's label and unit, for the checklist's station ticks."""
    fields = vendor.fields_for("fov_mm")
    f = fields[0] if fields else None
    out = []
    for st in sugg.stations:
        fov = st["values"].get("fov_mm")
        if fov is None:
            out.append("")
        elif f is not None:
            out.append(f"{f.label} {_display_value(fov, f, vendor, {**ctx, **st['values']})} {f.unit or ''}".strip())
        else:
            out.append(f"FOV {_canonical_text(registry()['fov_mm'], fov, 'en')}")
    return out


def _station_plan(seq: Sequence, sugg: Any, t: Any) -> str:
    """What the sources say about planning the stations: FOV per station only where a source lists them."""
    low, high = seq.stations or (2, 3)
    if sugg is not None and len(sugg.stations) == 1:
        return t["stations_one_from_source"].format(low, high)
    if sugg is not None and sugg.stations:
        return t["stations_from_source"].format(low, high, n=len(sugg.stations))
    return t["stations_unsourced"].format(low, high)


def level_text(spec: Spec, lang: str, required: bool, group: dict[str, Any] | None) -> str:
    """ "Recommended" (OFSEP's word) / "Required" / "Optional"; a member of a required group says which group."""
    from .render import words  # the interface strings live with the templates

    t = words(lang)
    if required:
        return level_word(spec, "required", lang) or t["required"]
    if group is not None:
        word = level_word(spec, "required", lang) or t["required"]
        return f"{word} — {_text(group['label'], lang)}"
    return level_word(spec, "optional", lang) or t["optional"]


def _text(value: Any, lang: str) -> str | None:
    if isinstance(value, dict):
        return value.get(lang) or value.get("en") or None
    return value or None


def gadolinium_step(spec: Spec, exam: str, lang: str) -> Step:
    """The injection step as this exam states it; without an exam-specific text, the spec's general `when`."""
    gado = spec.gadolinium
    own = (gado.get("steps") or {}).get(exam) or {}
    return Step(
        "gadolinium",
        instruction=_text(own.get("instruction"), lang),
        when=_text(own["when"], lang) if "when" in own else _text(gado.get("when"), lang),
        record=_text(own.get("record"), lang),
    )


def level_word(spec: Spec, level: str, lang: str) -> str | None:
    """The spec's own word for a required/optional sequence (OFSEP says "Recommandées"), or None for the default."""
    return _text((spec.levels or {}).get(level), lang)


def _after_injection(view: SequenceView, vendor: Vendor, spec: Spec) -> None:
    """A series the order places after the injection step is acquired with contrast. Where a console files that per
    series (GE's CONTRAST), the card and sheet say so, derived from the spec's order and injection timing: a GE
    protocol whose 3D FLAIR says "No" while the post-contrast T1 says "Yes" is one injected after the FLAIR."""
    for card in view.cards:
        for i, row in enumerate(card.rows):
            if row.param != "contrast_agent" or row.value:
                continue
            f = next(iter(vendor.fields_for("contrast_agent")), None)
            if f is None:
                continue
            card.rows[i] = replace(
                row,
                value=_display_value(True, f, vendor, {}),
                basis="nominal",
                source=f"{spec.gadolinium.get('source')}-derived",
                canonical_value=True,
            )


def sheet(spec: Spec, vendor: Vendor, field_t: float, variant: Variant, lang: str) -> Sheet:
    steps = []
    for item in variant.order:
        if item == "gadolinium":
            steps.append(gadolinium_step(spec, variant.exam, lang))
        else:
            steps.append(Step("sequence", sequence_view(spec, spec.sequences[item], vendor, field_t, variant, lang)))
    injected = False
    for s in steps:
        injected = injected or s.kind == "gadolinium"
        if injected and s.sequence:
            _after_injection(s.sequence, vendor, spec)
    numbers = {s.sequence.id: n for n, s in enumerate(steps, start=1) if s.sequence}  # as the documents number them
    for s in steps:
        if s.sequence and s.sequence.same_as:
            s.sequence.same_as_number = numbers.get(s.sequence.same_as)
    used = set()
    for s in steps:
        if s.sequence:
            used |= {r.source for r in s.sequence.rows + s.sequence.requirements if r.source}
            used |= {r.requirement_source for r in s.sequence.requirements if r.requirement_source}
    order_rules = [s.when for s in steps if s.kind == "gadolinium" and s.when]
    order_rules += [
        text
        for rule in spec.session_rules
        if "order" in rule and variant.exam in rule["order"] and (text := _text(rule.get("note"), lang))
    ]
    used |= {spec.gadolinium.get("source")} if any(s.kind == "gadolinium" for s in steps) else set()
    sources = [{"id": sid, **spec.sources[sid]} for sid in spec.sources if sid in used]
    notes = [
        {"text": _text(n["label"], lang), "sources": [n["source"]] if "source" in n else list(n.get("sources", []))}
        for n in variant.notes
    ]
    for note in notes:
        used |= set(note["sources"])
    sources = [{"id": sid, **spec.sources[sid]} for sid in spec.sources if sid in used]
    dummy = spec.dummy_run
    if dummy:
        used.add(dummy["source"])
    sources = [{"id": sid, **spec.sources[sid]} for sid in spec.sources if sid in used]
    return Sheet(
        spec,
        vendor,
        field_t,
        variant,
        lang,
        steps,
        sources,
        order_rules,
        notes,
        [_text(step, lang) or "" for step in dummy.get("steps", [])],
        dummy.get("source"),
        str(vendor.document.get("title") or "").format(field=field_text(field_t, "en")),
        protocol_path(spec, vendor, variant, str(vendor.document.get("injection_step") or ""), lang),
    )
