"""A check Report in each format people and machines read: table, JSON (the contract), HTML, JUnit, CSV.

All five read the same model, so they cannot disagree. None of them is given anything the readers did not put
in the canonical model, and the readers never copy patient tags: no format can leak a patient identifier.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import click
from lxml import etree

from . import __version__
from .check import Report
from .render import environment, render_template
from .textsafe import printable, strict_json

FORMATS = ("table", "json", "html", "junit", "csv")
COLOURS = {
    "pass": "green",
    "warn": "yellow",
    "unknown": "magenta",
    "fail": "red",
    "missing": "red",
    "not-applicable": None,
}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return (
            "×".join(_show(v) for v in value)
            if all(isinstance(v, int | float) for v in value)
            else ", ".join(_show(v) for v in value)
        )
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _param_label(param: str) -> str | None:
    from .params import registry

    entry = registry().get(param)
    return entry.label.get("en") if entry is not None else None


def scanners_of(report: Report) -> list[dict[str, Any]]:
    """Every distinct scanner the report's acquisitions name, so a page never shows one where inputs had two."""
    acquisitions = [m.acquisition for s in report.sequences for m in s.matched]
    acquisitions += [a for a, _ in report.unmatched] + list(report.maps)
    seen: list[dict[str, Any]] = []
    for acq in acquisitions:
        one = {k: acq.get(k) for k in ("manufacturer", "model", "software_version") if acq.get(k) is not None}
        if one and one not in seen:
            seen.append(one)
    return seen or ([dict(report.scanner)] if report.scanner else [])


def to_json(report: Report) -> dict[str, Any]:
    """The `check --format json` document (../shared/notes/canonical-model.md), plus context fields."""
    return {
        "spec": report.spec.id,
        "spec_version": report.spec.version,
        "variant": report.variants[0].id if report.variants else None,
        "variants": [v.key for v in report.variants],
        "source": report.sources[0] if len(report.sources) == 1 else report.sources,
        "formats": report.formats,
        "scanner": report.scanner,
        "scanners": scanners_of(report),
        "field_t": report.field_t,
        "inferred": report.inferred,
        "status": report.status,
        "counts": report.counts(),
        "sequences": [
            {
                "id": s.id,
                "label": s.label,
                "exam": s.exam,
                "required": s.required,
                "status": s.status,
                "matched": s.matched[0].acquisition.name if s.matched else None,
                "also_matched": [m.acquisition.name for m in s.matched[1:]],
                "confidence": s.matched[0].confidence if s.matched else None,
                "score": s.matched[0].score if s.matched else None,
                "reason": "; ".join(s.matched[0].reasons) if s.matched else None,
                "repeats": [a.name for a in s.repeats],
                "checks": [
                    {
                        "param": c.param,
                        "rule": c.rule,
                        "rule_words": c.rule_words or c.rule,
                        "label": _param_label(c.param),
                        "observed": _plain(c.observed),
                        "status": c.status,
                        "severity": c.severity,
                        "source": c.source,
                        "vendor_label": c.vendor_label or None,
                        "vendor_value": c.vendor_value or None,
                        "provenance": c.provenance or None,
                    }
                    for c in s.checks
                ],
            }
            for s in report.sequences
        ],
        "session": [
            {"rule": r.rule, "status": r.status, "detail": r.detail, "source": r.source} for r in report.session
        ],
        "exam": report.exam,
        "acquisitions": _placed(report),
        "unmatched": [a.name for a, _ in report.unmatched],
        "unmatched_reasons": {a.name: why for a, why in report.unmatched},
        "unmatched_closest": {
            u.acquisition.name: {"sequence": u.closest, "score": u.score, "repeat_of": u.repeat_of}
            for u in report.unmatched_details
            if u.closest
        },
        "derived_maps": [a.name for a in report.maps],
        "warnings": report.warnings,
        "drift": _drift_json(report),
        "generator": f"ofsep-presets {__version__}",
    }


def _placed(report: Report) -> list[dict[str, Any]]:
    """Each acquisition judged, with the program and body region the exam model placed it in, and why."""
    seen: dict[int, Any] = {}
    for acq in [m.acquisition for s in report.sequences for m in s.matched] + [a for a, _ in report.unmatched]:
        seen.setdefault(id(acq), acq)
    for acq in report.maps:
        seen.setdefault(id(acq), acq)
    return [
        {"name": a.name, "program": a.program, "region": a.region, "region_reasons": list(a.region_reasons)}
        for a in seen.values()
    ]


def write_each(reports: list[Report], fmt: str, colour: bool = False) -> str:
    """One report per exam (`check --each`): a JSON list, or the tables one after the other with a verdict line
    per exam and the count of exams compliant at the end."""
    if fmt == "json":
        return strict_json([to_json(r) for r in reports]) + "\n"
    parts = [printable(to_table(r, colour)) for r in reports]
    compliant = sum(1 for r in reports if r.compliant)
    lines = [f"{len(reports)} exams: {compliant} compliant, {len(reports) - compliant} not"]
    lines += [
        f"  exam {(r.exam or {}).get('index', i + 1)}: {r.status.upper()}  {(r.exam or {}).get('label', '')}"
        for i, r in enumerate(reports)
    ]
    return "\n".join(parts) + "\n" + "\n".join(lines) + "\n"


def _drift_json(report: Report) -> dict[str, Any] | None:
    """With a site preset: what changed since the snapshot, apart from the compliance verdicts."""
    if report.drift is None:
        return None
    d = report.drift
    return {
        "preset": d.preset,
        "status": d.status,
        "compared": d.compared,
        "changes": [
            {
                "sequence": i.sequence,
                "param": i.param,
                "preset": _plain(i.preset),
                "observed": _plain(i.observed),
                "status": i.status,
                "acquisition": i.acquisition,
                "provenance": i.provenance,
            }
            for i in d.items
        ],
    }


def _tag(status: str) -> str:
    return "N/A" if status == "not-applicable" else status.upper()


def to_table(report: Report, colour: bool = False) -> str:
    def paint(text: str, status: str) -> str:
        fg = COLOURS.get(status)
        return click.style(text, fg=fg, bold=status in ("fail", "missing")) if colour and fg else text

    lines = [
        f"{report.spec.id} {report.spec.version} · {', '.join(v.key for v in report.variants)} · "
        f"{report.vendor or 'vendor unknown'} {report.field_t or '?'} T · {', '.join(report.sources)}",
    ]
    several = bool(report.exam) and report.exam.get("of", 1) > 1
    if several:
        lines.insert(0, f"Exam {report.exam['index']}: {report.exam['label']}")
    for key, text in report.inferred.items():
        lines.append(f"  {key}: {text}")
    lines.append("")
    for s in report.sequences:
        matched = ", ".join(repr(m.acquisition.name) for m in s.matched) or "—"
        kind = "required" if s.required else "optional"
        confidence = f" ({s.matched[0].confidence:.2f})" if s.matched else ""
        if s.repeats:
            confidence += f" + {len(s.repeats)} repeat(s): " + ", ".join(repr(a.name) for a in s.repeats)
        lines.append(f"{paint(f'{_tag(s.status):<8}', s.status)} {s.id:<18} {kind:<8} {matched}{confidence}")
        for c in s.checks:
            if c.status == "pass":
                continue
            label = f"  [{c.vendor_label}: {c.vendor_value or '—'}]" if c.vendor_label else ""
            lines.append(
                f"         {paint(c.status, c.status):<8} {c.param} {c.rule_words or c.rule}: "
                f"observed {_show(c.observed)}"
                f"{label} ({c.severity}, {c.source})"
            )
    lines.append("")
    lines.append("Session")
    for r in report.session:
        lines.append(f"{paint(f'{_tag(r.status):<8}', r.status)} {r.rule}: {r.detail}")
    if report.unmatched:
        lines.append("")
        lines.append("Not matched: " + "; ".join(f"{a.name!r} ({why})" for a, why in report.unmatched))
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts().items()))
    lines.append("")
    which = f" (exam {report.exam['index']})" if several else ""
    outside = "; no acquisition of a region the spec images (see 'regions')" if "regions" in report.inferred else ""
    lines.append(f"Result{which}: {paint(report.status.upper(), report.status)} ({counts}){outside}")
    if report.drift is not None:
        d = report.drift
        lines.append("")
        lines.append(f"Drift from the preset of {d.preset}: {len(d.items) or 'none'} ({d.compared} values compared)")
        for i in d.items:
            lines.append(
                f"{paint(f'{i.status.upper():<8}', 'fail' if i.status == 'changed' else 'unknown')} {i.sequence} "
                f"{i.param}: preset {_show(i.preset)} → now {_show(i.observed)}"
            )
    return "\n".join(lines) + "\n"


def to_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "sequence",
            "required",
            "sequence_status",
            "matched",
            "param",
            "rule",
            "observed",
            "status",
            "severity",
            "source",
            "vendor_label",
            "vendor_value",
            "provenance",
        ]
    )
    for s in report.sequences:
        matched = s.matched[0].acquisition.name if s.matched else ""
        if not s.checks:
            writer.writerow(safe_cells([s.id, s.required, s.status, matched, "", "", "", s.status, "", "", "", "", ""]))
        for c in s.checks:
            writer.writerow(
                safe_cells(
                    [
                        s.id,
                        s.required,
                        s.status,
                        matched,
                        c.param,
                        c.rule,
                        _show(c.observed),
                        c.status,
                        c.severity,
                        c.source,
                        c.vendor_label,
                        c.vendor_value,
                        c.provenance,
                    ]
                )
            )
    for r in report.session:
        writer.writerow(
            safe_cells(["session", "", r.status, "", "", r.rule, r.detail, r.status, "", r.source, "", "", ""])
        )
    for i in report.drift.items if report.drift else []:
        rule = f"== {_show(i.preset)} (preset)"
        row = [i.sequence, "", "drift", i.acquisition, i.param, rule, _show(i.observed), i.status, "", "preset"]
        writer.writerow(safe_cells([*row, "", "", i.provenance]))
    return out.getvalue()


# A plain decimal number (what `_show` prints for a number): a spreadsheet reads it as that number, not a formula.
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


def safe_cells(row: list[Any]) -> list[str]:
    """No cell starts like a spreadsheet formula: series names come from scanners and users.

    A number stays a number (-0.5, not '-0.5); only text starting with = + - @ (or a tab or return) is defused.
    """
    cells = []
    for value in row:
        text = "" if value is None else value if type(value) is str else str(value)
        if text and text[0] in _RISKY and not _NUMBER.fullmatch(text):
            text = "'" + text
        cells.append(text)
    return cells


_RISKY = frozenset("=+-@\t\r")


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    """A JUnit element whose text and attributes hold only what XML 1.0 allows (file names may not)."""
    element = etree.SubElement(parent, tag, {k: printable(str(v), xml=True) for k, v in attrs.items()})
    if text is not None:
        element.text = printable(str(text), xml=True)
    return element


def to_junit(report: Report) -> str:
    suites = etree.Element("testsuites", name=printable(f"ofsep-presets check {report.spec.id}", xml=True))
    total = failures = skipped = 0
    for s in report.sequences:
        suite = _sub(suites, "testsuite", name=s.id)
        cases = s.checks or [None]
        n_fail = n_skip = 0
        for c in cases:
            name = f"{s.id}: {c.param} {c.rule}" if c else f"{s.id}: present"
            case = _sub(suite, "testcase", classname=f"{report.spec.id}.{s.id}", name=name)
            status = c.status if c else s.status
            if status in ("fail", "missing"):
                n_fail += 1
                text = f"observed {_show(c.observed)} ({c.provenance})" if c else "no acquisition matched"
                _sub(case, "failure", text, message=status, type=c.severity if c else "error")
            elif status in ("unknown", "not-applicable", "warn"):
                n_skip += 1
                _sub(case, "skipped", message=f"{status}: observed {_show(c.observed) if c else '—'}")
        suite.set("tests", str(len(cases)))
        suite.set("failures", str(n_fail))
        suite.set("skipped", str(n_skip))
        total, failures, skipped = total + len(cases), failures + n_fail, skipped + n_skip
    suite = _sub(suites, "testsuite", name="session")
    for r in report.session:
        case = _sub(suite, "testcase", classname=f"{report.spec.id}.session", name=r.rule)
        total += 1
        if r.status == "fail":
            failures += 1
            _sub(case, "failure", r.detail, message="fail", type="error")
        elif r.status != "pass":
            skipped += 1
            _sub(case, "skipped", message=f"{r.status}: {r.detail}")
    suite.set("tests", str(len(report.session)))
    if report.drift is not None:
        # Drift is its own suite: a CI job fails on a changed value even while the site stays compliant.
        suite = _sub(suites, "testsuite", name="drift", tests=str(report.drift.compared))
        suite.set("failures", str(len(report.drift.items)))
        for i in report.drift.items:
            case = _sub(suite, "testcase", classname=f"{report.spec.id}.drift", name=f"{i.sequence}: {i.param}")
            text = f"preset {_show(i.preset)}, now {_show(i.observed)}"
            _sub(case, "failure", text, message=i.status, type="drift")
        total, failures = total + report.drift.compared, failures + len(report.drift.items)
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    suites.set("skipped", str(skipped))
    return etree.tostring(suites, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode("utf-8")


def page(template: str, data: dict[str, Any], **context: Any) -> str:
    """A self-contained HTML page from a template that reads the JSON document (`data`) it sits beside."""
    env = environment()
    env.filters["show"] = _show
    return render_template(env, template, {"data": data, "version": __version__, **context})


def write(report: Report, fmt: str, colour: bool = False) -> str:
    writers = {
        "json": lambda: strict_json(to_json(report)) + "\n",
        "html": lambda: page("common/report.html.j2", to_json(report), r=report),
        "junit": lambda: to_junit(report),
        "csv": lambda: printable(to_csv(report)),
    }
    # printable/strict_json: a file name that is not UTF-8, or a value of 1e999, must not break the file.
    return writers.get(fmt, lambda: printable(to_table(report, colour)))()
