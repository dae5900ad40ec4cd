"""Audits across many sites: one check per site, aggregated into a sites × sequences matrix, breakdowns by
scanner, per-parameter distributions, and the same data as CSV and JSON.

Every site's result is the `check --format json` document (the contract), so the audit adds no second reading of
an input and cannot disagree with `check`. Those documents are cached (see `cache.py`): a re-run over unchanged
folders stats files but opens none of them. Each site's page is rendered from its document (cached or new) by the
same autoescaped template, never copied from the cache.

The run streams: sites are checked on an executor (`executor.py`: serial, the local cores, or a Dask cluster)
that yields results in site order with a bounded window in flight; each result is written at once (its page, its
cache row, its CSV rows, its JSON entry into a spool) and only a small summary of it (`Site`) is kept for the
HTML overview. So memory grows with the number of sites by a few kilobytes each, never by their documents.

A site is one of: compliant (pass or warn), fail (a value the input states breaks a rule), missing (a required
sequence is absent, nothing states a wrong value), unknown ("cannot tell": nothing fails, nothing is missing, but
a required value is not stated by the input), or unreadable. For every site the values its input does not state
are listed ("ask the site for: …"), since that is what a physicist has to ask for.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from . import __version__
from .auditfolder import MARK, SITES, AuditFolder
from .cache import RANK, Cache, fingerprint, page_digest
from .errors import OfsepError
from .executor import executor as make_executor
from .spec import Spec

FILES = ("audit.html", "audit.csv", "audit.json")
SCANNER_KEYS = (("vendor", "manufacturer"), ("model", "model"), ("software", "software_version"))
VERDICTS = ("compliant", "fail", "missing", "unknown", "unreadable")
VERDICT_WORDS = {
    "compliant": "compliant",
    "fail": "fail",
    "missing": "missing a required sequence",
    "unknown": "cannot tell (the input does not say)",
    "unreadable": "unreadable",
}


# -- one site -------------------------------------------------------------------------------------------------
@dataclass
class Site:
    """One site (or session): where it was read from, and what the overview needs of its check document."""

    id: str
    path: Path
    status: str = "unreadable"
    verdict: str = "unreadable"
    error: str | None = None
    cached: bool = False
    page: str | None = None
    scanner: dict[str, Any] = field(default_factory=lambda: dict.fromkeys(("vendor", "model", "software", "field_t")))
    sequences: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    session: list[dict[str, Any]] = field(default_factory=list)
    not_stated: list[dict[str, Any]] = field(default_factory=list)
    points: list[tuple[str, str, float, str, str]] = field(default_factory=list)

    @property
    def compliant(self) -> bool:
        return self.verdict == "compliant"

    @property
    def ask_for(self) -> str | None:
        """The values to ask the site for, in words: 'slice thickness (sg.t1w, sg.t2w); b-values (sg.dwi)'."""
        if not self.not_stated:
            return None
        return "; ".join(f"{n['label']} ({', '.join(n['sequences'])})" for n in self.not_stated)


def verdict_of(report: dict[str, Any] | None) -> str:
    """compliant / fail / missing / unknown / unreadable, from the check document's own verdicts."""
    if report is None:
        return "unreadable"
    if report["status"] in ("pass", "warn"):
        return "compliant"
    items = [*report["sequences"], *report["session"]]
    if any(i["status"] == "fail" for i in items):
        return "fail"
    if any(s["status"] == "missing" for s in report["sequences"]):
        return "missing"
    return "unknown"


@cache
def _label(param: str) -> str:
    from .params import registry

    p = registry().get(param)
    if p is None:
        return param
    text = p.label.get("en", param).lower()
    values = getattr(p, "values", None) or ()
    if p.type == "enum" and 1 < len(values) <= 4:
        text += f" ({'/'.join(values)})"
    return text


def summarize(site_id: str, path: Path, report: dict[str, Any] | None, error: str | None) -> Site:
    """The part of a check document the overview shows, taken once so the document itself can be let go."""
    site = Site(site_id, path, error=error)
    if report is None:
        return site
    site.status, site.verdict = report["status"], verdict_of(report)
    site.scanner = {out: report["scanner"].get(key) for out, key in SCANNER_KEYS} | {"field_t": report["field_t"]}
    not_stated: dict[str, list[str]] = {}
    for seq in report["sequences"]:
        site.sequences[seq["id"]] = seq["status"]
        if seq["status"] == "missing":
            site.missing.append(seq["id"])
        for c in seq["checks"]:
            value = c["observed"]
            if isinstance(value, int | float) and not isinstance(value, bool):
                site.points.append((seq["id"], c["param"], float(value), c["status"], c["rule"]))
            if c["status"] == "unknown" and value is None:
                not_stated.setdefault(c["param"], [])
                if seq["id"] not in not_stated[c["param"]]:
                    not_stated[c["param"]].append(seq["id"])
            if c["status"] not in ("pass", "not-applicable"):
                site.findings.append(
                    {
                        "sequence": seq["id"],
                        "matched": seq["matched"],
                        "param": c["param"],
                        "rule": c["rule"],
                        "observed": value,
                        "status": c["status"],
                    }
                )
    site.session = [r for r in report["session"] if r["status"] not in ("pass", "not-applicable")]
    site.not_stated = [{"param": p, "label": _label(p), "sequences": seqs} for p, seqs in not_stated.items()]
    return site


def page_name(site_id: str) -> str:
    """The drill-down page of a site: a file name made of its id (ids may hold a '/', never a path)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", site_id).lstrip(".") or "site"
    if name != site_id:  # two ids that differ only in what was replaced keep two pages
        name += "-" + hashlib.sha256(site_id.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{SITES}/{name}.html"


# -- work done where the executor runs it ---------------------------------------------------------------------
# The readers and the checker are imported when a site is first checked: a warm re-run loads neither.
def inspect_path(path: Path) -> Any:
    from .readers import inspect_path as read

    return read(path)


def check(inspections: Any, spec: Spec) -> Any:
    from .check import check as run_check

    return run_check(inspections, spec)


def report_json(report: Any) -> dict[str, Any]:
    from .report import to_json

    return to_json(report)


@cache
def _spec(ref: str) -> Spec:
    from .spec import load_spec

    return load_spec(ref)


def _one_line(text: str, limit: int = 400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


SITE_PER = ("folder", "exam", "scanner")  # what one site is: each PATH, each exam in it, each scanner in it


def checked_parts(inspections: Any, spec: Spec, per: str = "folder") -> list[tuple[str | None, Any]]:
    """The reports one PATH gives: one for the folder (its exams judged together, as before), or one per exam or
    per scanner (exams.split, exams.by_scanner), each naming the exam(s) it judged. (suffix, report) pairs; the
    suffix is None where the PATH holds one exam, so its site keeps the folder's name."""
    from .exams import as_one, by_scanner, split

    exams = split(inspections)
    if per == "folder" or len(exams) <= 1:
        report = check(inspections, spec)
        report.exam = as_one(inspections)
        return [(None, report)]
    parts = by_scanner(exams) if per == "scanner" else exams
    if len(parts) == 1:
        report = check(parts[0].inspections, spec)
        report.exam = {**parts[0].to_json(), "of": 1}
        return [(None, report)]
    out: list[tuple[str | None, Any]] = []
    for part in parts:
        report = check(part.inspections, spec)
        report.exam = {**part.to_json(), "of": len(parts)}
        out.append((f"{per} {part.index}", report))
    return out


def check_site(job: tuple[str, ...]) -> dict[str, Any]:
    """Check one site: its `check --format json` document, or why it has none. Never raises: a crash on one
    site's data is that site's error (named, with the reason), and every other site is still audited.
    With a `per` of exam or scanner, the document of each part is in `parts` as (suffix, document)."""
    path, spec_ref, per = (*job, "folder")[:3]
    try:
        parts = checked_parts(inspect_path(Path(path)), _spec(spec_ref), per)
        if per == "folder":
            return {"report": report_json(parts[0][1]), "error": None}
        return {"parts": [(suffix, report_json(report)) for suffix, report in parts], "report": None, "error": None}
    except (OfsepError, OSError) as exc:
        return {"report": None, "error": _one_line(str(exc))}
    except Exception as exc:  # noqa: BLE001 - one site's data must not end the audit of the others
        return {
            "report": None,
            "error": _one_line(f"could not be checked ({type(exc).__name__}: {exc}); please report this as a bug"),
        }


# -- the run --------------------------------------------------------------------------------------------------
@dataclass
class Audit:
    spec: Spec
    sites: list[Site] = field(default_factory=list)
    hits: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def unreadable(self) -> list[Site]:
        return [s for s in self.sites if s.verdict == "unreadable"]

    def summary(self) -> dict[str, Any]:
        counts = {v: sum(1 for s in self.sites if s.verdict == v) for v in VERDICTS}
        return {
            "sites": len(self.sites),
            "compliant": counts["compliant"],
            "not_compliant": counts["fail"] + counts["missing"] + counts["unknown"],
            "fail": counts["fail"],
            "missing": counts["missing"],
            "unknown": counts["unknown"],
            "unreadable": counts["unreadable"],
            "statuses": _count(s.status for s in self.sites),
            "verdicts": {v: n for v, n in counts.items() if n},
        }

    def summary_line(self) -> str:
        s = self.summary()
        parts = [f"{s[v]} {VERDICT_WORDS[v]}" for v in VERDICTS if s[v] or v in ("compliant", "unreadable")]
        return f"{s['sites']} site{'' if s['sites'] == 1 else 's'}: " + ", ".join(parts)


def discover(paths: Iterable[Path]) -> list[tuple[str, Path]]:
    """Each PATH is one site, except a BIDS dataset root, whose subjects (or their sessions) are the sites."""
    found: list[tuple[str, Path]] = []
    for path in paths:
        if path.is_dir() and (path / "dataset_description.json").is_file():
            for subject in sorted(p for p in path.glob("sub-*") if p.is_dir() and not p.is_symlink()):
                sessions = sorted(p for p in subject.glob("ses-*") if p.is_dir() and not p.is_symlink())
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


def _spec_job_ref(spec_ref: str) -> str:
    """What a worker loads: a spec file by absolute path (workers may run elsewhere), a bundled one by name."""
    path = Path(spec_ref)
    return str(path.resolve()) if path.is_file() else spec_ref


def run(
    sites: list[tuple[str, Path]],
    spec: Spec,
    spec_ref: str,
    spec_hash: str,
    folder: AuditFolder,
    executor: str | None = None,
    jobs: int | None = None,
    progress: Callable[[Site], None] = lambda site: None,
    per: str = "folder",
) -> Audit:
    """Check every site (`discover`), from the cache when its files, the spec and the tool are unchanged, and
    write the folder: per-site pages, audit.csv, audit.json, audit.html. With `per` exam or scanner, each
    PATH gives one site per exam or scanner it holds (read again each run: the cache keeps one site a PATH)."""
    audit = Audit(spec)
    ref = _spec_job_ref(spec_ref)
    with Cache(folder.cache_path, folder.secret) as store:
        plan: list[tuple[str, Path, str, str | None, tuple[dict[str, Any], str] | None]] = []
        for site_id, path in sites:
            key = str(path.resolve())
            try:
                stamp = fingerprint(path) if per == "folder" else None
            except OSError:  # an unlistable folder: not cached; the reader says what is wrong
                stamp = None
            hit = store.get(key, stamp, spec_hash) if stamp else None
            plan.append((site_id, path, key, stamp, hit))
        misses = [(str(path), ref, per) for _, path, _, _, hit in plan if hit is None]
        with (
            make_executor(executor, jobs, len(misses)) as pool,
            _Writer(folder, spec) as writer,
        ):
            results = pool.map(check_site, misses)
            for site_id, path, key, stamp, hit in plan:
                if hit is not None:
                    report, digest, error = hit[0], hit[1], None
                else:
                    outcome = next(results)
                    report, digest, error = outcome["report"], None, outcome["error"]
                    if outcome.get("parts"):
                        for suffix, part in outcome["parts"]:
                            part_id = f"{site_id} · {suffix}" if suffix else site_id
                            site = summarize(part_id, path, part, None)
                            site.page = page_name(part_id)
                            writer.page(site.page, part, None)
                            writer.add(site, part)
                            audit.sites.append(site)
                        progress(site)
                        continue
                site = summarize(site_id, path, report, error)
                site.cached = hit is not None
                if report is not None:
                    site.page = page_name(site_id)
                    written = writer.page(site.page, report, digest)
                    if hit is None and stamp:
                        store.put(key, stamp, spec_hash, report, written)
                writer.add(site, report, store.texts.pop(key, None) if hit is not None else None)
                audit.sites.append(site)
                progress(site)
            writer.finish(audit, store, spec_hash)
        audit.hits, audit.notes = store.hits, store.notes
        if store.rejected:
            audit.notes.append(f"{store.rejected} cached result(s) failed their checks and were read again")
    return audit


class _Writer:
    """The audit folder's files, written while the sites come: pages at once, CSV rows and JSON entries into
    temporary files that replace audit.csv and audit.json only when the run is complete."""

    def __init__(self, folder: AuditFolder, spec: Spec) -> None:
        self.folder, self.spec = folder, spec
        self.pages: set[str] = set()

    def __enter__(self) -> _Writer:
        self.csv_tmp, self.csv_path = self._temp("audit.csv")
        self.json_tmp, self.json_path = self._temp("audit.json")
        self.csv = csv.writer(self.csv_tmp, lineterminator="\n")
        self.csv.writerow(CSV_HEADER)
        self.first = True
        return self

    def _temp(self, name: str) -> tuple[Any, str]:
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=self.folder.path)
        return os.fdopen(fd, "w", encoding="utf-8", newline=""), tmp

    def page(self, name: str, report: dict[str, Any], digest: str | None) -> str:
        """Write a site's page unless the page on disk is, byte for byte, the one rendered from this document
        before (its digest is in the signed cache row); the digest of the page now on disk is returned."""
        self.pages.add(name)
        if digest is not None:
            old = self.folder.read_page(name)
            if old is not None and hashlib.sha256(old).hexdigest() == digest:
                return digest
        html = site_page(report, self.spec)
        self.folder.write(name, html)
        return page_digest(html)

    def add(self, site: Site, report: dict[str, Any] | None, text: str | None = None) -> None:
        """A site's CSV rows and audit.json entry; `text` is its report as the cache signed it (the same bytes
        json.dumps gives the report, spliced in rather than dumped again)."""
        self.csv.writerows(csv_rows(site, report))
        if text is None or report is None:
            entry = json.dumps(site_entry(site, report), ensure_ascii=False)
        else:
            entry = json.dumps({**site_entry(site, None), "report": 0}, ensure_ascii=False)[: -len("0}")] + text + "}"
        self.json_tmp.write(("" if self.first else ",\n") + entry)
        self.first = False

    def finish(self, audit: Audit, store: Cache | None = None, spec_hash: str = "") -> None:
        head = {
            "audit": MARK,
            "spec": audit.spec.id,
            "spec_version": audit.spec.version,
            "summary": audit.summary(),
            "sequences": sequence_ids(audit.spec, audit.sites),
            "breakdowns": {out: _breakdown(audit.sites, out) for out, _ in SCANNER_KEYS},
            "generator": f"ofsep-presets {__version__}",
        }
        self.json_tmp.close()
        fd, tmp = tempfile.mkstemp(prefix=".audit.json.", suffix=".tmp", dir=self.folder.path)
        document = hashlib.sha256()
        with os.fdopen(fd, "w", encoding="utf-8") as out, open(self.json_path, encoding="utf-8") as entries:
            for text in _chunks(json.dumps(head, ensure_ascii=False)[:-1] + ', "sites": [\n', entries, "\n]}\n"):
                out.write(text)
                document.update(text.encode("utf-8"))
        self.csv_tmp.close()
        self.folder.prune_pages(self.pages)
        self.folder.publish(self.csv_path, "audit.csv")
        self.folder.publish(tmp, "audit.json")
        # audit.html follows from audit.json, the spec and our templates alone: when none changed and the page on
        # disk is, byte for byte, the one written from them (its digest signed in the cache), it is kept as it is.
        key = f"{document.hexdigest()}:{spec_hash}:{_templates_digest()}"
        kept = store.noted("audit.html") if store is not None and spec_hash else None
        if kept is not None and kept.rpartition(" ")[0] == key:
            old = self.folder.read_page("audit.html")
            if old is not None and hashlib.sha256(old).hexdigest() == kept.rpartition(" ")[2]:
                return
        html = to_html(head, audit.sites, audit.spec)
        self.folder.write("audit.html", html)
        if store is not None and spec_hash:
            store.note("audit.html", f"{key} {page_digest(html)}")

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        for handle, path in ((self.csv_tmp, self.csv_path), (self.json_tmp, self.json_path)):
            handle.close()
            Path(path).unlink(missing_ok=True)


def _chunks(first: str, entries: Any, last: str) -> Iterable[str]:
    yield first
    while chunk := entries.read(1 << 20):
        yield chunk
    yield last


@cache
def _templates_digest() -> str:
    """Our overview's templates and this version, for knowing whether an audit.html would come out the same."""
    from .resources import templates_dir

    digest = hashlib.sha256(__version__.encode())
    for path in sorted(templates_dir().joinpath("common").glob("*")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@cache
def _page_env() -> Any:
    from .render import environment
    from .report import _show

    env = environment()
    env.filters["show"] = _show
    return env


def site_page(report: dict[str, Any], spec: Spec) -> str:
    """A site's full check report (the `check --format html` page), rendered from its JSON document alone."""
    from .render import render_template

    sources = report["source"] if isinstance(report["source"], list) else [report["source"]]
    context = {"spec": {"title": dict(spec.title)}, "sources": sources}
    return render_template(_page_env(), "common/report.html.j2", {"data": report, "version": __version__, "r": context})


# -- the documents --------------------------------------------------------------------------------------------
def sequence_ids(spec: Spec, sites: list[Site]) -> list[str]:
    """The matrix columns: every sequence any site was checked against, in spec order."""
    seen = {seq_id for site in sites for seq_id in site.sequences}
    return [seq_id for seq_id in spec.sequences if seq_id in seen]


def site_entry(site: Site, report: dict[str, Any] | None) -> dict[str, Any]:
    """One site in audit.json: its verdicts, what to ask it for, and its own `check` document under `report`."""
    return {**_common(site), "not_stated": site.not_stated, "report": report}


def _count(statuses: Iterable[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for status in statuses:
        out[status] = out.get(status, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -RANK.get(kv[0], 99)))


def _breakdown(sites: list[Site], key: str) -> list[dict[str, Any]]:
    groups: dict[str, list[Site]] = {}
    for site in sites:
        groups.setdefault(str(site.scanner.get(key) or "unknown"), []).append(site)
    return [
        {
            key: name,
            "sites": [s.id for s in members],
            "compliant": sum(1 for s in members if s.compliant),
            "statuses": _count(s.status for s in members),
            "verdicts": {v: n for v in VERDICTS if (n := sum(1 for s in members if s.verdict == v))},
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
    "site_verdict",
    "stated",
]


def csv_rows(site: Site, report: dict[str, Any] | None) -> list[list[str]]:
    """One row per site × sequence × check (a sequence without checks still has its row): a pivot-table's input.
    `site_verdict` keeps fail, missing and cannot-tell apart; `stated` is 'no' where the input does not say."""
    from .report import safe_cells

    head = [site.id, *(site.scanner.get(k) for k in ("vendor", "model", "software", "field_t")), site.status]
    if report is None:
        return [safe_cells([*head, "", "", "", "", "", site.error, "", "", site.verdict, ""])]
    rows = []
    for seq in report["sequences"]:
        for c in seq["checks"] or [None]:
            if c is None:
                tail = ["", "", "", "", "", site.verdict, "" if seq["status"] != "missing" else "no"]
            else:
                stated = "no" if c["status"] == "unknown" and c["observed"] is None else "yes"
                tail = [c["param"], c["rule"], _cell(c["observed"]), c["status"], c["severity"], site.verdict, stated]
            rows.append(safe_cells([*head, seq["id"], seq["status"], seq["matched"] or "", *tail]))
    return rows


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(_cell(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


# Distribution plots: one strip per vendor, one dot per site, coloured by the check's verdict.
PLOT_WIDTH, PLOT_LEFT, PLOT_RIGHT, LANE = 560, 110, 16, 18


def distributions(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The strip plots of an audit.json document (what audit.html shows)."""
    sites = [summarize(s["id"], Path(s["source"]), s["report"], s["error"]) for s in doc["sites"]]
    return _plots(sites, doc["sequences"])


def _plots(sites: list[Site], sequences: list[str]) -> list[dict[str, Any]]:
    """Per sequence and numeric parameter: the values every site has, placed for an inline SVG strip plot."""
    series: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for site in sites:
        for seq_id, param, value, status, rule in site.points:
            series.setdefault((seq_id, param), []).append(
                {
                    "site": site.id,
                    "vendor": site.scanner.get("vendor") or "unknown",
                    "value": value,
                    "status": status,
                    "rule": rule,
                }
            )
    order = {seq_id: i for i, seq_id in enumerate(sequences)}
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
        points = _merge_dots(points)
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


def _merge_dots(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Sites at the same place with the same verdict share one dot (larger, its title naming them): a cohort's
    sites mostly run the same protocol values, and a thousand overlapping dots cost a browser for nothing."""
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for p in points:
        groups.setdefault((p["x"], p["y"], p["status"], p["value"], p["rule"]), []).append(p)
    merged = []
    for members in groups.values():
        first = dict(members[0])
        names = [m["site"] for m in members]
        more = f" and {len(names) - 5} more" if len(names) > 5 else ""
        first["label"] = names[0] if len(names) == 1 else f"{len(names)} sites ({', '.join(names[:5])}{more})"
        first["r"] = round(min(4 * len(names) ** 0.5, 9), 1)
        first["sites"] = len(names)
        merged.append(first)
    return merged


OPEN_LIMIT = 50  # above this many sites, every site's findings start folded (the page stays quick to open)


def to_html(head: dict[str, Any], sites: list[Site], spec: Spec) -> str:
    from .report import page

    return page(
        "common/audit.html.j2",
        head,
        spec=spec,
        sites=[_view(s) for s in sites],
        plots=_plots(sites, head["sequences"]),
        verdict_words=VERDICT_WORDS,
        open_findings=len(sites) <= OPEN_LIMIT,
    )


def _view(site: Site) -> dict[str, Any]:
    """What the overview template sees of a site: plain data only."""
    return {**_common(site), "findings": site.findings, "session": site.session}


def _common(site: Site) -> dict[str, Any]:
    """The fields audit.json and the overview page both show of a site (one list, so they cannot drift apart)."""
    return {
        "id": site.id,
        "source": str(site.path),
        "status": site.status,
        "verdict": site.verdict,
        "compliant": site.compliant,
        "error": site.error,
        "page": site.page,
        "scanner": site.scanner,
        "sequences": site.sequences,
        "missing": site.missing,
        "ask_for": site.ask_for,
    }


def is_previous_output(out: Path) -> bool:
    """An --out folder this command wrote before (kept for callers; `AuditFolder` is the full test)."""
    try:
        doc = json.loads((out / "audit.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("audit") == MARK
