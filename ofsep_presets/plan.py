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
            "sources": self.sources,
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
                "single_injection": _text(gado.get("single_injection"), lang),
                "source": gado.get("source"),
            }
    raise UnknownSituation(f"gadolinium indication {indication!r} is not in the spec")


def make_plan(spec: Spec, situation: str, lang: str = "en", today: dt.date | None = None) -> Plan:
    if situation not in spec.situations:
        known = "\n  ".join(f"{k}  ({_text(v['label'], lang)})" for k, v in spec.situations.items())
        raise UnknownSituation(f"unknown situation {situation!r}; known situations:\n  {known}")
    s = spec.situations[situation]
    nxt = s.get("next") or {}
    months = nxt.get("months")
    return Plan(
        situation=situation,
        label=_text(s["label"], lang),
        exams=[{"exam": e["exam"], "variant": e["variant"]} for e in s.get("exams", [])],
        optional_exams=[
            {"exam": e["exam"], "variant": e["variant"], "when": _text(e.get("when"), lang)}
            for e in s.get("optional_exams", [])
        ],
        gadolinium=gadolinium_decision(spec, s.get("gadolinium"), lang),
        consider=list(s.get("consider", [])),
        within_months_before=s.get("within_months_before"),
        next_months=months,
        next_exams=list(nxt.get("exams", [])),
        next_due=add_months(today, months).isoformat() if (today and months) else None,
        next_note=_text(nxt.get("note"), lang) or None,
        review_months=s.get("review_months"),
        sources=list(s.get("sources", [])),
    )


def gadolinium_table(spec: Spec, lang: str) -> list[dict[str, str]]:
    """Situation -> gadolinium decision, for the checklist's gadolinium section."""
    rows = []
    for name in spec.situations:
        plan = make_plan(spec, name, lang)
        rows.append({"situation": plan.label, "level": plan.gadolinium["level"] if plan.gadolinium else "no"})
    return rows
