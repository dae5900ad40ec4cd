"""Spec validation: the JSON Schema first (shape), then the checks a schema cannot express (meaning).

Each problem is located at the file and line that wrote the offending value, including values a site overlay
merged onto a bundled spec. Validation reports every problem it finds, not just the first.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from .errors import Problem, SpecError
from .params import families, registry
from .resources import spec_dir
from .rules import OPERATORS, Constraint, from_mapping
from .specfile import SpecFile, merged, read_chain
from .vendors import all_vendors
from .yamlload import origin


@cache
def plausible() -> dict[str, dict[str, Any]]:
    """Plausible ranges per canonical parameter (protocol_spec/model/plausible.yaml)."""
    import yaml

    return yaml.safe_load((spec_dir() / "model" / "plausible.yaml").read_text(encoding="utf-8"))["ranges"]


@cache
def schema() -> dict[str, Any]:
    return json.loads((spec_dir() / "schema" / "spec.schema.json").read_text(encoding="utf-8"))


def _walk(doc: Any, path: Iterable[Any]) -> tuple[str, int]:
    """The origin of the deepest node on `path` that exists."""
    where = origin(doc, None) if hasattr(doc, "file") else ("?", 0)
    node = doc
    for key in path:
        try:
            where = origin(node, key)
            node = node[key]
        except (KeyError, IndexError, TypeError):
            break
    return where


def schema_problems(spec_file: SpecFile) -> list[Problem]:
    if not isinstance(spec_file.raw, dict):
        return [Problem(spec_file.display, 1, "a spec must be a YAML mapping (key: value)")]
    validator = jsonschema.Draft202012Validator(schema())
    problems = []
    for error in validator.iter_errors(spec_file.raw):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            extra = [k for k in error.instance if k not in error.schema.get("properties", {})]
            path += extra[:1]  # point at the unexpected key itself
        file, line = _walk(spec_file.raw, path)
        where = "/".join(str(p) for p in error.absolute_path) or "(top level)"
        message = _suggestion_message(error) or f"{where}: {_schema_message(error)}"
        problems.append(Problem(file if file != "?" else spec_file.display, line, message))
    return problems


SUGGESTION_KEYS = {
    "vendor": "the console's vendor (siemens, philips, ge, canon)",
    "field_t": "the field strength in tesla (field_t: 3.0)",
    "source": "the id of a `sources:` entry naming the document the values come from",
    "values": "the values, canonical parameter: value (repetition_time_ms: 5000)",
}


def _suggestion_message(error: jsonschema.ValidationError) -> str | None:
    """A malformed `suggested:` entry in words a person acts on, not the schema's: which suggestion, what is
    missing or unexpected, and what a suggestion looks like."""
    path = list(error.absolute_path)
    if "suggested" not in path:
        return None
    at = path.index("suggested")
    seq = path[at - 1] if at >= 1 else "?"
    if len(path) == at + 1:
        return f"sequence {seq}: `suggested` is a list of suggestions (- vendor: …, field_t: …, source: …, values: …)"
    number = path[at + 1]
    entry = error.instance if len(path) == at + 2 else None
    what = f"sequence {seq}, suggestion {number + 1 if isinstance(number, int) else number}"
    shape = "each has vendor, field_t, source and values (optionally product, note, withheld, stations)"
    if len(path) == at + 2:
        if error.validator == "type":
            return f"{what}: a suggestion is a mapping, not {error.instance!r}; {shape}"
        if error.validator == "required":
            found = re.match(r"'([^']+)' is a required property", error.message)
            missing = found.group(1) if found else None
            if missing in SUGGESTION_KEYS:
                return f"{what}: `{missing}` is missing — {SUGGESTION_KEYS[missing]}"
        if error.validator == "additionalProperties" and isinstance(entry, dict):
            allowed = error.schema.get("properties", {})
            extra = [k for k in entry if k not in allowed]
            if extra:
                hint = _did_you_mean(extra[0], allowed)
                return f"{what}: unknown key `{extra[0]}`{hint}; {shape}"
    field = path[at + 2] if len(path) > at + 2 else None
    if field == "values" and len(path) == at + 3 and error.validator == "type":
        return (
            f"{what}: `values` is a mapping of canonical parameters (repetition_time_ms: 5000), not {error.instance!r}"
        )
    if field == "values" and len(path) >= at + 4:
        return f"{what}: {path[at + 3]} = {error.instance!r} is not a number, a word or a list of them"
    if field in SUGGESTION_KEYS and len(path) == at + 3:
        return f"{what}: `{field}` must be {SUGGESTION_KEYS[field]}, not {error.instance!r}"
    return f"{what}: {error.message}"


def _schema_message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        return f"{error.message}; allowed keys: {', '.join(allowed)}"
    if error.validator == "anyOf" and "param" in (error.instance or {}):
        return f"a constraint needs one operator among {', '.join(OPERATORS)}"
    return error.message


class _Checker:
    """Semantic checks over a merged spec; `problems` collects what is wrong."""

    def __init__(self, doc: Any):
        self.doc = doc
        self.problems: list[Problem] = []
        self.params = registry()
        self.vendors = set(all_vendors())
        self.sources = set((doc.get("sources") or {}).keys())
        self.sequences = doc.get("sequences") or {}

    def add(self, container: Any, key: Any, message: str) -> None:
        file, line = origin(container, key)
        self.problems.append(Problem(file, line, message))

    def run(self) -> list[Problem]:
        doc = self.doc
        for i, vendor in enumerate(doc.get("vendors") or []):
            self._vendor(doc["vendors"], i, vendor)
        for name, rule_list in (doc.get("rule_sets") or {}).items():
            for i, item in enumerate(rule_list or []):
                self._constraint(rule_list, i, item, f"rule set {name!r}")
        for seq_id, seq in self.sequences.items():
            self._sequence(seq_id, seq)
        self._exams()
        self._groups()
        self._session_rules()
        self._gadolinium()
        self._situations()
        self._considerations(self.doc.get("considerations") or [], "consideration")
        dummy = self.doc.get("dummy_run")
        if isinstance(dummy, dict) and "source" in dummy:
            self._source(dummy, "source", dummy["source"])
        for block in (doc.get("acquisition") or {}).values():
            if isinstance(block, list):
                for i, item in enumerate(block):
                    self._constraint(block, i, item, "acquisition")
        return self.problems

    # -- pieces -------------------------------------------------------------------------------------------

    def _vendor(self, container: Any, key: Any, vendor: Any) -> None:
        if vendor not in self.vendors:
            self.add(container, key, f"unknown vendor {vendor!r}; known vendors: {', '.join(sorted(self.vendors))}")

    def _source(self, container: Any, key: Any, source: Any) -> None:
        if source not in self.sources:
            hint = _did_you_mean(source, self.sources)
            self.add(container, key, f"unknown source {source!r}{hint}; declare it under `sources`")

    def _param(self, container: Any, key: Any, name: Any) -> bool:
        if name in self.params:
            return True
        self.add(container, key, f"unknown canonical parameter {name!r}{_did_you_mean(name, self.params)}")
        return False

    def _value(self, container: Any, key: Any, param: str, value: Any, what: str) -> None:
        spec = self.params[param]
        if param == "sequence_family":
            for v in value if isinstance(value, list) else [value]:
                if v not in families():
                    self.add(
                        container,
                        key,
                        f"unknown sequence family {v!r}{_did_you_mean(v, families())}; "
                        f"known families: {', '.join(families())}",
                    )
            return
        if not spec.accepts(value):
            expected = spec.type if not spec.values else f"one of {', '.join(spec.values)}"
            if spec.size:
                expected += f" (a list of {spec.size})"
            hint = ""
            if isinstance(value, str) and re.match(r"^\s*-?\d+(?:[.,]\d+)?\s*\S+", value) and spec.unit:
                hint = f"; write the number alone, in {spec.unit}"
            self.add(container, key, f"{what}: {value!r} is not a valid {param} (expected {expected}){hint}")

    def _constraint(self, container: Any, key: Any, item: Any, where: str) -> Constraint | None:
        if not isinstance(item, dict) or "param" not in item or not any(op in item for op in OPERATORS):
            return None  # the schema already reported it
        ops = [op for op in OPERATORS if op in item]
        if len(ops) > 1:
            self.add(item, ops[1], f"{where}: one operator per constraint, found {', '.join(ops)}")
        if not self._param(item, "param", item["param"]):
            return None
        param = self.params[item["param"]]
        if "unit" in item and item["unit"] != param.unit:
            self.add(
                item,
                "unit",
                f"{where}: unit mismatch for {param.name}: the spec language uses "
                f"{param.unit or 'no unit'}, not {item['unit']!r}",
            )
        if "source" in item:
            self._source(item, "source", item["source"])
        if "between" in item and len(item["between"]) == 2 and item["between"][0] > item["between"][1]:
            lo, hi = item["between"]
            self.add(item, "between", f"{where}: {param.name} between [{lo}, {hi}]: min > max")
        if ("le" in item or "ge" in item or "between" in item) and not param.is_numeric:
            self.add(item, ops[0], f"{where}: {param.name} is a {param.type}; ≤ ≥ and ranges need a number")
        for op in ("eq", "in"):
            if op in item:
                for v in item[op] if op == "in" else [item[op]]:
                    self._value(item, op, param.name, v, where)
        if "axes" in item and not param.is_list:
            self.add(item, "axes", f"{where}: `axes` applies to list parameters; {param.name} is a {param.type}")
        for i, vendor in enumerate((item.get("when") or {}).get("vendor", [])):
            self._vendor(item["when"]["vendor"], i, vendor)
        return from_mapping(item)

    def _sequence(self, seq_id: str, seq: Any) -> None:
        if not isinstance(seq, dict):
            return
        exams = self.doc.get("exams") or {}
        if "exam" in seq and seq["exam"] not in exams:
            self.add(seq, "exam", f"sequence {seq_id!r}: unknown exam {seq['exam']!r}; exams: {', '.join(exams)}")
        rule_sets = self.doc.get("rule_sets") or {}
        rules: list[Constraint] = []
        for i, name in enumerate(seq.get("apply") or []):
            if name not in rule_sets:
                self.add(
                    seq["apply"], i, f"sequence {seq_id!r}: unknown rule set {name!r}{_did_you_mean(name, rule_sets)}"
                )
            else:
                rules += [from_mapping(r) for r in rule_sets[name] if _complete(r)]
        for i, item in enumerate(seq.get("constraints") or []):
            rule = self._constraint(seq["constraints"], i, item, f"sequence {seq_id!r}")
            if rule is not None:
                rules.append(rule)
        self._contradictions(seq_id, seq, rules)
        self._same_as(seq_id, seq)
        nominal = seq.get("nominal")
        if isinstance(nominal, dict):
            self._source(nominal, "source", nominal.get("source"))
            self._values(seq_id, nominal.get("values") or {}, rules, None, None, "nominal value")
        preset = seq.get("preset")
        if isinstance(preset, dict):
            self._values(seq_id, preset.get("values") or {}, [], None, None, "preset value")
        fields_t = [float(f) for f in self.doc.get("field_strengths_t") or []]
        for i, sugg in enumerate(seq.get("suggested") or []):
            if not isinstance(sugg, dict):
                continue
            container = seq["suggested"]
            self._vendor(sugg, "vendor", sugg.get("vendor"))
            self._source(sugg, "source", sugg.get("source"))
            field_t = sugg.get("field_t")
            if isinstance(field_t, int | float) and fields_t and float(field_t) not in fields_t:
                self.add(
                    container,
                    i,
                    f"sequence {seq_id!r}: suggestion for {field_t} T, but the spec covers "
                    f"{', '.join(str(f) for f in fields_t)} T",
                )
            self._values(
                seq_id,
                sugg.get("values") or {},
                rules,
                sugg.get("vendor"),
                field_t,
                f"suggested value ({sugg.get('vendor')}, {field_t} T)",
            )

    def _values(self, seq_id: str, values: Any, rules: list[Constraint], vendor: Any, field_t: Any, what: str) -> None:
        if not isinstance(values, dict):
            return  # the schema already said what `values` must be
        for name, value in values.items():
            if not self._param(values, name, name):
                continue
            self._value(values, name, name, value, f"sequence {seq_id!r} {what}")
            self._plausible(values, name, value, f"sequence {seq_id!r} {what}", self._region(seq_id))
            for rule in rules:
                if rule.param == name and rule.applies(vendor, field_t) and rule.evaluate(value) == "fail":
                    self.add(
                        values,
                        name,
                        f"sequence {seq_id!r}: {what} {name} = {value!r} breaks its own "
                        f"requirement {name} {rule.rule_text} ({rule.source})",
                    )
        self._geometry(values, f"sequence {seq_id!r} {what}")

    def _region(self, seq_id: str) -> str | None:
        """The body region a sequence images: its own `region`, else its exam's (None when the spec does not say)."""
        seq = self.sequences.get(seq_id)
        if not isinstance(seq, dict):
            return None
        exams = self.doc.get("exams") or {}
        exam = exams.get(seq.get("exam") or str(seq_id).split(".", 1)[0])
        return seq.get("region") or (exam.get("region") if isinstance(exam, dict) else None)

    def _same_as(self, seq_id: str, seq: dict[str, Any]) -> None:
        """`same_as`: another sequence of this spec, itself no repeat, and no values of its own to disagree with."""
        target = seq.get("same_as")
        if target is None:
            return
        if target not in self.sequences or target == seq_id:
            self.add(seq, "same_as", f"sequence {seq_id!r}: same_as {target!r} is not another sequence of this spec")
        elif isinstance(self.sequences[target], dict) and self.sequences[target].get("same_as"):
            self.add(seq, "same_as", f"sequence {seq_id!r}: same_as {target!r}, which is itself a repeat")
        for key in ("nominal", "suggested"):
            if seq.get(key):
                self.add(
                    seq,
                    key,
                    f"sequence {seq_id!r} is {target!r} acquired again (same_as): its {key} values are "
                    f"{target!r}'s; set them there",
                )

    def _plausible(self, values: Any, name: str, value: Any, what: str, region: str | None = None) -> None:
        """A value outside the plausible range of its unit (plausible.yaml), for the body region the sequence
        images where the file narrows it (a brain must fit in its FOV): most often a unit slip."""
        limits = plausible().get(name)
        if limits is not None and region in (limits.get("regions") or {}):
            limits = {**limits, **limits["regions"][region]}
        numbers = value if isinstance(value, list) else [value]
        if limits is None or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
            return
        unit = self.params[name].unit or ""
        for v in numbers:
            if limits["min"] <= v <= limits["max"]:
                continue
            slip = limits.get("slip")
            hint = ""
            if slip and limits["min"] <= v * slip["factor"] <= limits["max"]:
                fixed = v * slip["factor"]
                hint = f"; was it written in {slip['unit']}? {v:g} {slip['unit']} is {fixed:g} {unit}"
            self.add(
                values,
                name,
                f"{what}: {name} = {value!r} is outside the plausible range {limits['min']:g}–{limits['max']:g}"
                f" {unit}{hint}",
            )
            return

    def _geometry(self, values: Any, what: str) -> None:
        """FOV / matrix / voxel and slice thickness / voxel are one set: values that disagree contradict
        themselves (a 250 mm FOV over 256 lines is a 0.98 mm voxel, not 0.5 mm)."""
        if not isinstance(values, dict):
            return
        fov, matrix, voxel = values.get("fov_mm"), values.get("matrix"), values.get("voxel_size_mm")
        thickness = values.get("slice_thickness_mm")

        def numbers(v: Any) -> list[float] | None:
            items = v if isinstance(v, list) else None
            if items and all(isinstance(x, int | float) and not isinstance(x, bool) and x > 0 for x in items):
                return [float(x) for x in items]
            return None

        f, m, vx = numbers(fov), numbers(matrix), numbers(voxel)
        if f and m and vx:
            for axis, (fa, ma, va) in enumerate(zip(f, m, vx, strict=False)):
                derived = fa / ma
                if abs(derived - va) > max(0.01, 0.05 * va):
                    self.add(
                        values,
                        "voxel_size_mm",
                        f"{what}: fov_mm {fa:g} mm / matrix {ma:g} is a {derived:.3g} mm voxel on axis {axis}, but "
                        f"voxel_size_mm says {va:g} mm: FOV, matrix and voxel contradict each other",
                    )
                    break
        thick = thickness if isinstance(thickness, int | float) and not isinstance(thickness, bool) else None
        if vx and len(vx) == 3 and thick is not None and abs(vx[2] - thick) > 0.01:
            self.add(
                values,
                "slice_thickness_mm",
                f"{what}: slice_thickness_mm {thickness:g} mm, but voxel_size_mm's third side is {vx[2]:g} mm",
            )

    def _contradictions(self, seq_id: str, seq: Any, rules: list[Constraint]) -> None:
        # Rules on different elements of a list (the lowest and the highest b-value) cannot contradict each other.
        by_param: dict[tuple[str, tuple[int, ...] | None], list[Constraint]] = {}
        for rule in rules:
            by_param.setdefault((rule.param, rule.axes), []).append(rule)
        for (param, _axes), group in by_param.items():
            lows = [r.value for r in group if r.op == "ge"] + [r.value[0] for r in group if r.op == "between"]
            highs = [r.value for r in group if r.op == "le"] + [r.value[1] for r in group if r.op == "between"]
            if lows and highs and max(lows) > min(highs):
                self.add(
                    seq,
                    "constraints",
                    f"sequence {seq_id!r}: {param} must be ≥ {max(lows)} and ≤ "
                    f"{min(highs)}: min > max, no value can pass",
                )

    def _exams(self) -> None:
        for exam_id, exam in (self.doc.get("exams") or {}).items():
            for variant_id, variant in ((exam or {}).get("variants") or {}).items():
                if not isinstance(variant, dict):
                    continue
                where = f"variant {exam_id}.{variant_id}"
                for part in ("required", "optional", "order"):
                    for i, seq_id in enumerate(variant.get(part) or []):
                        if part == "order" and seq_id == "gadolinium":
                            continue
                        if seq_id not in self.sequences:
                            self.add(
                                variant[part],
                                i,
                                f"{where} names a missing sequence {seq_id!r}{_did_you_mean(seq_id, self.sequences)}",
                            )
                        elif (self.sequences[seq_id] or {}).get("exam") not in (None, exam_id):
                            self.add(
                                variant[part],
                                i,
                                f"{where}: sequence {seq_id!r} belongs to exam {self.sequences[seq_id].get('exam')!r}",
                            )
                self._considerations(variant.get("notes") or [], f"{where} note")
                both = set(variant.get("required") or []) & set(variant.get("optional") or [])
                for seq_id in sorted(both):
                    self.add(variant, "optional", f"{where}: {seq_id!r} is both required and optional")
                order = variant.get("order")
                if order is not None:
                    listed = set(variant.get("required") or []) | set(variant.get("optional") or [])
                    for seq_id in sorted(listed - set(order)):
                        self.add(variant, "order", f"{where}: {seq_id!r} is missing from `order`")

    def _groups(self) -> None:
        for name, group in (self.doc.get("groups") or {}).items():
            for i, seq_id in enumerate((group or {}).get("members") or []):
                if seq_id not in self.sequences:
                    self.add(group["members"], i, f"group {name!r} names a missing sequence {seq_id!r}")
            members = (group or {}).get("members") or []
            if (group or {}).get("at_least", 1) > len(members):
                self.add(
                    group, "at_least", f"group {name!r} asks for at least {group['at_least']} of {len(members)} members"
                )

    def _session_rules(self) -> None:
        exams = set(self.doc.get("exams") or {})
        for rule in self.doc.get("session_rules") or []:
            if not isinstance(rule, dict):
                continue
            self._source(rule, "source", rule.get("source"))
            if "equal" in rule:
                self._param(rule, "equal", rule["equal"])
            if "exam" in rule and rule["exam"] not in exams:
                self.add(
                    rule,
                    "exam",
                    f"session rule names a missing exam {rule['exam']!r}{_did_you_mean(rule['exam'], exams)}",
                )
            for key, known, what in (
                ("sequences", set(self.sequences), "sequence"),
                ("order", {*self.sequences, *exams}, "exam or sequence"),
                ("post_contrast", set(self.sequences), "sequence"),
            ):
                for i, item in enumerate(rule.get(key) or []):
                    if item not in known:
                        self.add(
                            rule[key], i, f"session rule names a missing {what} {item!r}{_did_you_mean(item, known)}"
                        )

    def _gadolinium(self) -> None:
        gado = self.doc.get("gadolinium")
        if not isinstance(gado, dict):
            return
        if "source" in gado:
            self._source(gado, "source", gado["source"])
        if gado.get("inject_before") is not None and gado["inject_before"] not in self.sequences:
            self.add(
                gado, "inject_before", f"gadolinium: inject_before names a missing sequence {gado['inject_before']!r}"
            )
        for i, seq_id in enumerate(gado.get("post_contrast") or []):
            if seq_id not in self.sequences:
                self.add(gado["post_contrast"], i, f"gadolinium: post_contrast names a missing sequence {seq_id!r}")
        exams = set(self.doc.get("exams") or {})
        for exam in gado.get("steps") or {}:
            if exam not in exams:
                self.add(gado["steps"], exam, f"gadolinium: steps names a missing exam {exam!r}")
        self._considerations(gado.get("considerations") or [], "gadolinium consideration")

    def _considerations(self, items: Any, what: str) -> None:
        """Every consideration names a declared source: a clinical point is never shown without one."""
        for i, item in enumerate(items if isinstance(items, list) else []):
            if not isinstance(item, dict):
                continue
            named = [item["source"]] if "source" in item else list(item.get("sources") or [])
            if not named:
                self.add(items, i, f"{what} {item.get('id')!r} names no source")
            for source in named:
                self._source(item, "source" if "source" in item else "sources", source)

    def _situations(self) -> None:
        exams = self.doc.get("exams") or {}
        indications = {
            i.get("id") for i in ((self.doc.get("gadolinium") or {}).get("indications") or []) if isinstance(i, dict)
        }
        for item in (self.doc.get("gadolinium") or {}).get("indications") or []:
            if isinstance(item, dict) and "source" in item:
                self._source(item, "source", item["source"])
        for name, situation in (self.doc.get("situations") or {}).items():
            if not isinstance(situation, dict):
                continue
            self._considerations(situation.get("considerations") or [], f"situation {name!r} consideration")
            escalation = situation.get("if_new_lesion")
            if isinstance(escalation, dict):
                if not escalation.get("sources"):
                    self.add(situation, "if_new_lesion", f"situation {name!r}: if_new_lesion names no source")
                for i, source in enumerate(escalation.get("sources") or []):
                    self._source(escalation["sources"], i, source)
                if escalation.get("gadolinium") is not None and escalation["gadolinium"] not in indications:
                    self.add(escalation, "gadolinium", f"situation {name!r}: unknown gadolinium indication")
            for part, holder in (
                ("exams", situation),
                ("optional_exams", situation),
                ("exams", escalation if isinstance(escalation, dict) else {}),
            ):
                for i, item in enumerate(holder.get(part) or []):
                    exam, variant = (item or {}).get("exam"), (item or {}).get("variant")
                    if exam not in exams:
                        self.add(holder[part], i, f"situation {name!r}: unknown exam {exam!r}")
                    elif variant not in (exams[exam].get("variants") or {}):
                        self.add(holder[part], i, f"situation {name!r}: exam {exam!r} has no variant {variant!r}")
            gado = situation.get("gadolinium")
            if gado is not None and gado not in indications:
                self.add(
                    situation,
                    "gadolinium",
                    f"situation {name!r}: unknown gadolinium indication {gado!r}; "
                    f"known: {', '.join(sorted(i for i in indications if i))}",
                )
            for i, source in enumerate(situation.get("sources") or []):
                self._source(situation["sources"], i, source)
            for i, seq_id in enumerate(situation.get("consider") or []):
                if seq_id not in self.sequences:
                    self.add(situation["consider"], i, f"situation {name!r} names a missing sequence {seq_id!r}")


def _complete(item: Any) -> bool:
    return isinstance(item, dict) and item.get("param") in registry() and any(op in item for op in OPERATORS)


def _did_you_mean(word: Any, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def problems_for(ref: str | Path) -> tuple[list[SpecFile], Any, list[Problem]]:
    """Load `ref` and everything it extends; return the chain, the merged document and every problem."""
    try:
        chain = read_chain(ref)
    except SpecError as exc:
        return [], None, exc.problems
    problems: list[Problem] = []
    for spec_file in chain:
        problems += schema_problems(spec_file)
    if problems:
        return chain, None, sorted(set(problems))
    doc = merged(chain)
    problems += _Checker(doc).run()
    return chain, doc, sorted(set(problems))


def validate(refs: Iterable[str | Path]) -> Iterator[Problem]:
    for ref in refs:
        yield from problems_for(ref)[2]
