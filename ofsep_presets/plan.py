"""`plan`: from a clinical situation to the exam(s), variant, gadolinium decision and next MRI, per the seeds.

All rules are data in the spec (`situations`, `gadolinium.indications`, `timing`); this module only reads them.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from typing import Any

from .errors import OfsepError
from .spec import Spec


class UnknownSituation(OfsepError):
    exit_code = 2


@dataclass(frozen=True)
class Plan:
    situation: str
    label: str
    exams: list[dict[str, str]]
    optional_exams: list[dict[str, str]]
    gadolinium: dict[str, Any] | None
    consider: list[str]
    within_months_before: int | None
    next_months: int | None
    next_exams: list[str]
    next_due: str | None
    next_note: str | None
    review_months: int | None
    sources: list[str]
    gadolinium_when: str | None = None
    considerations: list[dict[str, Any]] | None = None
    escalation: dict[str, Any] | None = None
    spine_due: str | None = None
    spine_overdue: bool = False
    notice: str = ""
    last_spine: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "situation": self.situation,
            "label": self.label,
            "exams": self.exams,
            "optional_exams": self.optional_exams,
            "gadolinium": self.gadolinium,
            "consider_sequences": self.consider,
            "within_months_before_treatment": self.within_months_before,
            "next_mri": {
                "in_months": self.next_months,
                "exams": self.next_exams,
                "due": self.next_due,
                "note": self.next_note,
            },
            "crc_review_every_months": self.review_months,
            "considerations": self.considerations or [],
            "if_new_lesion": self.escalation,
            "spine_due": self.spine_due,
            "spine_overdue": self.spine_overdue,
            "sources": self.sources,
            "notice": self.notice,
        }


def _text(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return value.get(lang) or value.get("en") or ""
    return "" if value is None else str(value)


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def gadolinium_decision(spec: Spec, indication: str | None, lang: str) -> dict[str, Any] | None:
    """The indication as the report and the checklist state it, or None when gadolinium is not indicated."""
    if indication is None:
        return None
    gado = spec.gadolinium
    for item in gado.get("indications", []):
        if item["id"] == indication:
            return {
                "indication": indication,
                "level": item["level"],
                "reason": _text(item["label"], lang),
                "dose_mmol_per_kg": gado.get("dose_mmol_per_kg"),
                "agent": _text(gado.get("agent"), lang),
                "inject_before": gado.get("inject_before"),
                "when": _text(gado.get("when"), lang) or None,
                "single_injection": _text(gado.get("single_injection"), lang),
                "source": item.get("source") or gado.get("source"),
            }
    raise UnknownSituation(f"gadolinium indication {indication!r} is not in the spec")


def _considerations(spec: Spec, items: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    return [
        {"id": c["id"], "text": _text(c["label"], lang), "sources": [c["source"]] if "source" in c else c["sources"]}
        for c in items
    ]


def spine_interval(spec: Spec) -> int | None:
    """The spec's own rhythm for the whole-cord MRI (OFSEP: at least every 3 years), if it states one."""
    for rule in spec.timing:
        if rule.get("exam") == "spine" and rule.get("every_months"):
            return int(rule["every_months"])
    return None


def make_plan(
    spec: Spec,
    situation: str,
    lang: str = "en",
    today: dt.date | None = None,
    last_spine: dt.date | None = None,
) -> Plan:
    if situation not in spec.situations:
        known = "\n  ".join(f"{k}  ({_text(v['label'], lang)})" for k, v in spec.situations.items())
        raise UnknownSituation(f"unknown situation {situation!r}; known situations:\n  {known}")
    s = spec.situations[situation]
    nxt = s.get("next") or {}
    months = nxt.get("months")
    gado = gadolinium_decision(spec, s.get("gadolinium"), lang)
    considerations = _considerations(spec, list(spec.considerations), lang)
    if gado:
        considerations = _considerations(spec, list(spec.gadolinium.get("considerations") or []), lang) + considerations
    considerations += _considerations(spec, list(s.get("considerations") or []), lang)
    escalation = None
    if s.get("if_new_lesion"):
        e = s["if_new_lesion"]
        escalation = {
            "text": _text(e["label"], lang),
            "exams": [{"exam": x["exam"], "variant": x["variant"]} for x in e.get("exams", [])],
            "gadolinium": gadolinium_decision(spec, e.get("gadolinium"), lang),
            "sources": list(e.get("sources", [])),
        }
    interval = spine_interval(spec)
    spine_due, overdue = None, False
    if last_spine and interval:
        due = add_months(last_spine, interval)
        spine_due = due.isoformat()
        overdue = today is not None and today >= due
    from .render import words

    return Plan(
        situation=situation,
        label=_text(s["label"], lang),
        exams=[{"exam": e["exam"], "variant": e["variant"]} for e in s.get("exams", [])],
        optional_exams=[
            {"exam": e["exam"], "variant": e["variant"], "when": _text(e.get("when"), lang)}
            for e in s.get("optional_exams", [])
        ],
        gadolinium=gado,
        consider=list(s.get("consider", [])),
        within_months_before=s.get("within_months_before"),
        next_months=months,
        next_exams=list(nxt.get("exams", [])),
        next_due=add_months(today, months).isoformat() if (today and months) else None,
        next_note=_text(nxt.get("note"), lang) or None,
        review_months=s.get("review_months"),
        sources=list(s.get("sources", [])),
        gadolinium_when=gado["when"] if gado else None,
        considerations=considerations,
        escalation=escalation,
        spine_due=spine_due,
        spine_overdue=overdue,
        last_spine=last_spine.isoformat() if last_spine else None,
        notice=words(lang)["plan_notice"],
    )


def dose_text(dose: float | None, lang: str) -> str:
    if dose is None:
        return ""
    text = f"{dose:g} mmol/kg"
    return text.replace(".", ",") if lang == "fr" else text


def plan_text(spec: Spec, p: Plan, lang: str) -> str:
    """The plan as a person reads it: labels and the spec's words only, no internal sequence ids."""
    from .render import words

    t = words(lang)
    colon = t["colon"]

    def label(d: Any) -> str:
        return _text(d, lang)

    lines = [f"{p.label} ({p.situation})"]
    for e in p.exams:
        exam = spec.exams[e["exam"]]
        lines.append(f"  {t['plan_exam']}{colon} {label(exam.label)} — {label(exam.variants[e['variant']].label)}")
    for e in p.optional_exams:
        exam = spec.exams[e["exam"]]
        lines.append(f"  {t['plan_optional']}{colon} {label(exam.label)} — {e['when']}")
    if p.within_months_before:
        lines.append(f"  {t['plan_within'].format(p.within_months_before)}")
    if p.spine_due:
        interval = spine_interval(spec)
        if p.spine_overdue:
            lines.append(f"  {t['plan_spine_due_now'].format(p.last_spine, interval)}")
        else:
            lines.append(f"  {t['plan_spine_due'].format(p.spine_due, interval, spec.timing_source('spine'))}")
    if p.gadolinium:
        g = p.gadolinium
        level = t.get("gado_level_" + g["level"], g["level"])
        lines.append(f"  {t['plan_gadolinium']}{colon} {level} — {g['reason']}")
        when = f"{t['semicolon']} {t['plan_inject']} {g['when']}" if g.get("when") else ""
        lines.append(f"    {dose_text(g['dose_mmol_per_kg'], lang)}, {g['agent']}{when}")
        if (len(p.exams) > 1 or p.optional_exams) and g.get("single_injection"):
            lines.append(f"    {g['single_injection']}")
    else:
        lines.append(f"  {t['plan_gadolinium']}{colon} {t['plan_gado_not_indicated']}")
    for seq in p.consider:
        lines.append(f"  {t['plan_consider']}{colon} {label(spec.sequences[seq].label)}")
    if p.escalation:
        lines.append(
            f"  {t['plan_if_new_lesion']}{colon} {p.escalation['text']} [{', '.join(p.escalation['sources'])}]"
        )
    if p.next_months:
        due = f" ({p.next_due})" if p.next_due else ""
        lines.append(f"  {t['plan_next'].format(p.next_months)}{due}" + (f" — {p.next_note}" if p.next_note else ""))
    if p.review_months:
        lines.append(f"  {t['plan_review'].format(p.review_months)}")
    if p.considerations:
        lines.append(f"  {t['plan_considerations']}{colon}")
        for c in p.considerations:
            lines.append(f"    - {c['text']} [{', '.join(c['sources'])}]")
    lines.append(f"  {t['plan_sources']}{colon} {', '.join(p.sources)}")
    lines.append(p.notice)
    return "\n".join(lines)


def gadolinium_table(spec: Spec, lang: str) -> list[dict[str, str]]:
    """Situation -> gadolinium decision, for the checklist's gadolinium section."""
    rows = []
    for name in spec.situations:
        plan = make_plan(spec, name, lang)
        rows.append({"situation": plan.label, "level": plan.gadolinium["level"] if plan.gadolinium else "no"})
    return rows
