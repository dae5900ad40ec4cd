"""Audits across many sites: one check per site, aggregated into a sites × sequences matrix, breakdowns by
scanner, per-parameter distributions, and the same data as CSV and JSON.

Every site's result is the `check --format json` document (the contract), so the audit adds no second reading of
an input and cannot disagree with `check`. Those documents are cached (see `cache.py`): a re-run over unchanged
folders stats files but opens none of them.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .cache import Cache, fingerprint
from .check import RANK, check
from .errors import OfsepError
from .readers import inspect_path
from .report import page, safe_cells
from .report import to_json as report_json
from .spec import Spec

MARK = "ofsep-presets audit"
FILES = ("audit.html", "audit.csv", "audit.json")
SCANNER_KEYS = (("vendor", "manufacturer"), ("model", "model"), ("software", "software_version"))


@dataclass
class Site:
    """One site (or session): where it was read from and what `check` said of it."""

    id: str
    path: Path
    report: dict[str, Any] | None = None
    page: str | None = None
    error: str | None = None
    cached: bool = False

    @property
    def status(self) -> str:
        return "unreadable" if self.report is None else self.report["status"]

    @property
    def compliant(self) -> bool:
        return self.status in ("pass", "warn")


@dataclass
class Audit:
    spec: Spec
    sites: list[Site] = field(default_factory=list)

    @property
    def unreadable(self) -> list[Site]:
        return [s for s in self.sites if s.report is None]


def discover(paths: Iterable[Path]) -> list[tuple[str, Path]]:
    """Each PATH is one site, except a BIDS dataset root, whose subjects (or their sessions) are the sites."""
    found: list[tuple[str, Path]] = []
    for path in paths:
        if path.is_dir() and (path / "dataset_description.json").is_file():
            for subject in sorted(p for p in path.glob("sub-*") if p.is_dir()):
                sessions = sorted(p for p in subject.glob("ses-*") if p.is_dir())
                found += [(f"{subject.name}/{s.name}", s) for s in sessions] or [(subject.name, subject)]
        else:
            found.append((path.name or str(path), path))
    return _unique(found)


def _unique(found: list[tuple[str, Path]]) -> list[tuple[str, Path]]:
    """Two sites with the same folder name get their parent's name in front, so no id is ever shared."""
    seen: dict[str, int] = {}
    for name, _ in found:
        seen[name] = seen.get(name, 0) + 1
    out = []
    for name, path in found:
        out.append((f"{path.parent.name}/{name}" if seen[name] > 1 else name, path))
    return out


def run(
    sites: list[tuple[str, Path]],
    spec: Spec,
    spec_digest: str,
    cache: Cache,
    progress: Callable[[Site], None] = lambda site: None,
) -> Audit:
    """Check every site (`discover`), from the cache when its files, the spec and the tool are unchanged."""
    audit = Audit(spec)
    for site_id, path in sites:
        site = Site(site_id, path)
        key = str(path.resolve())
        try:
            stamp = fingerprint(path)
        except OSError:  # an unlistable folder: not cached; the reader says what is wrong
            stamp = None
        hit = cache.get(key, stamp, spec_digest) if stamp else None
        if hit is not None:
            site.report, site.page, site.cached = hit[0], hit[1], True
        else:
            try:
                report = check(inspect_path(path), spec)
            except (OfsepError, OSError) as exc:  # one unreadable site never stops the audit of the others
                site.error = str(exc)
            else:
                site.report = report_json(report)
                site.page = page("common/report.html.j2", site.report, r=report)
                if stamp:
                    cache.put(key, stamp, spec_digest, site.report, site.page)
        audit.sites.append(site)
        progress(site)
    return audit


def page_name(site_id: str) -> str:
    """The drill-down page of a site: a file name made of its id (ids may hold a '/', never a path)."""
    return "sites/" + re.sub(r"[^A-Za-z0-9._-]+", "_", site_id) + ".html"


def sequence_ids(audit: Audit) -> list[str]:
    """The matrix columns: every sequence any site was checked against, in spec order."""
    seen = {s["id"] for site in audit.sites if site.report for s in site.report["sequences"]}
    return [seq_id for seq_id in audit.spec.sequences if seq_id in seen]


def to_json(audit: Audit) -> dict[str, Any]:
    """The audit document: a summary, breakdowns, and each site's own `check` document under `report`."""
    sites = []
    for site in audit.sites:
        report = site.report or {}
        scanner = report.get("scanner") or {}
        sites.append(
            {
                "id": site.id,
                "source": str(site.path),
                "status": site.status,
                "compliant": site.compliant,
                "error": site.error,
                "page": page_name(site.id) if site.page else None,
                "scanner": {out: scanner.get(key) for out, key in SCANNER_KEYS} | {"field_t": report.get("field_t")},
                "sequences": {s["id"]: s["status"] for s in report.get("sequences", [])},
                "report": site.report,
            }
        )
    return {
        "audit": MARK,
        "spec": audit.spec.id,
        "spec_version": audit.spec.version,
        "summary": {
            "sites": len(sites),
            "compliant": sum(1 for s in sites if s["compliant"]),
            "not_compliant": sum(1 for s in sites if not s["compliant"] and s["status"] != "unreadable"),
            "unreadable": sum(1 for s in sites if s["status"] == "unreadable"),
            "statuses": _count(s["status"] for s in sites),
        },
        "sequences": sequence_ids(audit),
        "breakdowns": {out: _breakdown(sites, out) for out, _ in SCANNER_KEYS},
        "sites": sites,
        "generator": f"ofsep-presets {__version__}",
    }


def _count(statuses: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for status in statuses:
        out[status] = out.get(status, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -RANK.get(kv[0], 99)))


def _breakdown(sites: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for site in sites:
        groups.setdefault(str(site["scanner"][key] or "unknown"), []).append(site)
    return [
        {
            key: name,
            "sites": [s["id"] for s in members],
            "compliant": sum(1 for s in members if s["compliant"]),
            "statuses": _count(s["status"] for s in members),
        }
        for name, members in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]


CSV_HEADER = [
    "site",
    "vendor",
    "model",
    "software",
    "field_t",
    "site_status",
    "sequence",
    "sequence_status",
    "matched",
    "param",
    "rule",
    "observed",
    "check_status",
    "severity",
]


def to_csv(doc: dict[str, Any]) -> str:
    """One row per site × sequence × check (a sequence without checks still has its row): a pivot-table's input."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for site in doc["sites"]:
        head = [site["id"], *(site["scanner"][k] for k in ("vendor", "model", "software", "field_t")), site["status"]]
        if site["report"] is None:
            writer.writerow(safe_cells([*head, "", "", "", "", "", site["error"], "", ""]))
            continue
        for seq in site["report"]["sequences"]:
            rows = seq["checks"] or [None]
            for c in rows:
                tail = (
                    ["", "", "", "", ""]
                    if c is None
                    else [c["param"], c["rule"], _cell(c["observed"]), c["status"], c["severity"]]
                )
                writer.writerow(safe_cells([*head, seq["id"], seq["status"], seq["matched"] or "", *tail]))
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_cell(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


# Distribution plots: one strip per vendor, one dot per site, coloured by the check's verdict.
PLOT_WIDTH, PLOT_LEFT, PLOT_RIGHT, LANE = 560, 110, 16, 18


def distributions(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Per sequence and numeric parameter: the values every site has, placed for an inline SVG strip plot."""
    series: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for site in doc["sites"]:
        for seq in (site["report"] or {}).get("sequences", []):
            for c in seq["checks"]:
                value = c["observed"]
                if isinstance(value, int | float) and not isinstance(value, bool):
                    series.setdefault((seq["id"], c["param"]), []).append(
                        {
                            "site": site["id"],
                            "vendor": site["scanner"]["vendor"] or "unknown",
                            "value": float(value),
                            "status": c["status"],
                            "rule": c["rule"],
                        }
                    )
    order = {seq_id: i for i, seq_id in enumerate(doc["sequences"])}
    plots = []
    for (seq_id, param), points in sorted(series.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1])):
        values = [p["value"] for p in points]
        low, high = min(values), max(values)
        pad = (high - low) * 0.06 or abs(high) * 0.1 or 1.0
        low, high = low - pad, high + pad
        vendors = sorted({p["vendor"] for p in points})
        span = PLOT_WIDTH - PLOT_LEFT - PLOT_RIGHT
        for p in points:
            p["x"] = round(PLOT_LEFT + (p["value"] - low) / (high - low) * span, 1)
            p["y"] = LANE * vendors.index(p["vendor"]) + LANE // 2 + 4
        ticks = [low + pad, (low + high) / 2, high - pad] if len(set(values)) > 1 else [values[0]]
        plots.append(
            {
                "sequence": seq_id,
                "param": param,
                "vendors": vendors,
                "points": points,
                "rules": sorted({f"{p['vendor']}: {p['rule']}" for p in points}),
                "ticks": [
                    {"x": round(PLOT_LEFT + (t - low) / (high - low) * span, 1), "label": f"{t:.4g}"} for t in ticks
                ],
                "width": PLOT_WIDTH,
                "height": LANE * len(vendors) + 22,
                "left": PLOT_LEFT,
            }
        )
    return plots


def to_html(doc: dict[str, Any], spec: Spec) -> str:
    return page("common/audit.html.j2", doc, spec=spec, plots=distributions(doc))


def is_previous_output(out: Path) -> bool:
    """An --out folder this command wrote before: it may be written again (and its cache reused)."""
    try:
        return json.loads((out / "audit.json").read_text(encoding="utf-8")).get("audit") == MARK
    except (OSError, ValueError, AttributeError):
        return False
