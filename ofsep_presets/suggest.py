"""Maintainer tool: real reference acquisitions -> the spec's `suggested:` blocks, reproducibly.

    python -m ofsep_presets.suggest --spec ofsep-2020 [--exam-path EXAM PATH]... [PATH...] [--out FILE]
    python -m ofsep_presets.suggest --config tools/references.yaml --refs ../shared/fixtures/references

Each file is read by our own readers (the same `inspect` a user runs). Every acquisition is scored against every
sequence of the exams it may serve, one sequence at a time, by the matcher `check` uses (so a DTI that would
also pass as a DWI is offered to both); a file is a candidate for each sequence it fits. A candidate is refused
when it breaks a requirement that is not a console value (family, contrast); a console value that breaks a
requirement (a 1.2 mm FLAIR where OFSEP asks ≤ 1 mm) is *withheld*: the card names the value and the rule it
breaks, and keeps the OFSEP limit. Per sequence × vendor × field strength the candidate with the fewest withheld
values wins, then the one the file fits best, then sorted path order; the others are listed as skipped.

A sequence the spec declares `same_as` another (the post-contrast 3D T1 is the pre-contrast protocol acquired
again) gets no suggestion of its own: its sources serve the protocol it repeats. A multi-series printout (a GE
protocol report) gives each sequence its stations, in the order the station words of
protocol_spec/model/stations.yaml put them. What a file does not say about its scanner (a protocol report
without field strength) may be stated in the config's `given:` (path patterns to values, each with the
document that states it); nothing else is filled in.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from .acquisition import Acquisition
from .check import evaluate, field_class
from .match import (
    Match,
    Phase,
    acquisition_order,
    bids_tail,
    contrast_phases,
    evidence,
    input_is_ordered,
    is_map,
    score,
)
from .readers import inspect_path
from .resources import spec_dir
from .spec import Spec, load_spec

# What a console needs, in canonical names, when the file states it (family and contrast stay the spec's).
PARAMS = (
    "acquisition_type",
    "orientation",
    "repetition_time_ms",
    "echo_time_ms",
    "inversion_time_ms",
    "flip_angle_deg",
    "slice_thickness_mm",
    "slice_gap_mm",
    "voxel_size_mm",
    "fov_mm",
    "matrix",
    "slices",
    "pixel_bandwidth_hz",
    "parallel_factor",
    "multiband_factor",
    "partial_fourier",
    "averages",
    "echo_train_length",
    "phase_encoding_direction",
    "fat_suppression",
    "b_values",
    "diffusion_directions",
)
# Per station, what differs between the stations of one sequence (the card's station table).
STATION_PARAMS = ("fov_mm", "matrix", "slices", "repetition_time_ms", "echo_time_ms", "parallel_factor", "averages")
SKIP_NAMES = {"dataset_description.json", "participants.json", "manifest.json"}
SUFFIXES = (".json", ".html", ".htm", ".pdf")


@dataclass
class Candidate:
    """One file as a possible source of one sequence's suggestion for its scanner."""

    path: Path
    seq_id: str  # the sequence it fits (the cell is that sequence's `same_as` target, if any)
    cell: tuple[str, str, float]
    acquisitions: list[Acquisition]  # one, or one per station
    fit: float
    best: bool  # the sequence the file fits best (a DTI offered to the DWI is not)
    withheld: dict[str, dict[str, Any]] = field(default_factory=dict)
    computed: int = 0  # 0 the acquisition's own series, 1 its trace-weighted images, 2 a map computed from it
    listing: bool = False  # from a protocol listing several series (its stations are the ones it lists)
    fits_best: str | None = None  # the protocol this file fits best, when it is not this cell's

    def rank(self) -> tuple[Any, ...]:
        return (
            len(self.withheld),  # a source that meets every rule first
            not self.best,  # then one of this sequence's own kind (a DTI serves the DWI only when it is cleaner)
            self.seq_id != self.cell[0],  # a pre-contrast file for the pre-contrast protocol first
            self.computed,
            # then the file that states the most (a full protocol beats a terse one; the match score, which also
            # weighs how the file names its region, only breaks ties)
            -min(len(a.params) for a in self.acquisitions),
            -self.fit,
            str(self.path),
        )


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += [p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.name not in SKIP_NAMES]
        else:
            out.append(path)
    return sorted(set(out))


def _manifest(path: Path) -> dict[str, Any] | None:
    """The provenance row of a reference file (repository, commit, path, citation), from the nearest manifest."""
    for parent in path.parents:
        manifest = parent / "manifest.json"
        if manifest.is_file():
            rel = path.relative_to(parent).as_posix()
            for row in json.loads(manifest.read_text(encoding="utf-8")):
                if row.get("dest") == rel:
                    return row
            return None
    return None


def _dataset(path: Path) -> str:
    """The collection a file belongs to: the nearest folder that describes itself (BIDS dataset_description.json,
    a PROVENANCE.md), else the file's own folder."""
    for parent in path.parents:
        if (parent / "dataset_description.json").is_file() or (parent / "PROVENANCE.md").is_file():
            return parent.name
    return path.parent.name


def source_id(path: Path, row: dict[str, Any] | None) -> str:
    """A stable, readable id: the dataset, the file's suffix, and 8 hex of its sha256 (no subject code)."""
    dataset = (row or {}).get("source") or _dataset(path)
    suffix = path.name.split(".")[0].split("_")[-1]
    digest = (row or {}).get("sha256") or hashlib.sha256(path.read_bytes()).hexdigest()
    text = f"{dataset}-{suffix}-{digest[:8]}".lower()
    return "ref-" + re.sub(r"[^a-z0-9.-]+", "-", text).strip("-")[:60].strip("-")


def _clean(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _console(vendor: str, param: str, value: Any) -> Any:
    """The value as this vendor's console takes it: rounded to the precision its card shows (a scan's TE of
    3.411 ms is entered as 3.4 on a console that shows one decimal), only where the card uses the canonical unit."""
    from .vendors import all_vendors

    fields = all_vendors()[vendor].fields_for(param)
    f = fields[0] if fields else None
    if f is None or f.convert or f.decimals is None or not isinstance(value, int | float) or isinstance(value, bool):
        return value
    rounded = round(float(value), f.decimals)
    return _clean(rounded)


def _card_states(vendor: str, param: str, value: Any, context: dict[str, Any]) -> bool:
    """Whether the vendor's card, at the precision it shows, gives this value back (within 0.2 %): a pixel
    bandwidth of 2973 Hz shown as a Philips water-fat shift of 0.07 px would not."""
    from . import units
    from .vendors import all_vendors

    fields = all_vendors()[vendor].fields_for(param)
    f = fields[0] if fields else None
    if f is None or not f.convert or not isinstance(value, int | float) or isinstance(value, bool):
        return True
    try:
        shown = units.display(units.to_vendor(value, f.convert, context), None, f.decimals)
        try:
            back = units.from_vendor(shown, f.convert, context)  # a text form ("6/8") reads back as text
        except (TypeError, ValueError):
            back = units.from_vendor(float(shown), f.convert, context)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return False  # the card needs what the file does not state (e.g. the matrix for a GE bandwidth)
    return back is not None and abs(back - value) <= 0.002 * abs(value)


def _given(path: Path, given: list[dict[str, Any]]) -> dict[str, Any]:
    """What a maintainer's `--given` file states about a file's scanner (field strength of a protocol report)."""
    for entry in given:
        if fnmatch.fnmatch(path.as_posix(), entry["path"]):
            return entry
    return {}


def _as_acquisition(acq: Acquisition, path: Path, stated: dict[str, Any]) -> Acquisition:
    """The acquisition as a source of settings: what `--given` states for its scanner, and a computed map's
    header read for the diffusion series it was computed from (a trace or ADC map states the DWI's TR, TE
    and geometry; a BIDS `_dwi` file is a diffusion series by the dataset's own statement)."""
    params, provenance = dict(acq.params), dict(acq.provenance)
    for key in ("field_strength_t", "model", "manufacturer"):
        if key in stated and params.get(key) is None:
            params[key] = stated[key]
            provenance[key] = f"stated by {stated['statement']}"
    name = acq.name
    if (bids_tail(acq.name) or "").endswith("dwi"):
        if is_map(acq):
            params.pop("derived", None)
            name = re.sub(r"_rec-[A-Za-z0-9]+", "", acq.name)
        if params.get("sequence_family") != "epi_dwi":
            params["sequence_family"] = "epi_dwi"
            provenance["sequence_family"] = f"{path.name}: BIDS suffix _dwi (a diffusion series)"
    return replace(acq, name=name, params=params, provenance=provenance)


def _station_order(names: list[str]) -> list[int | None]:
    """Each name's station (1 = the top one), from the station words; None for a name without one."""
    words = yaml.safe_load((spec_dir() / "model" / "stations.yaml").read_text(encoding="utf-8"))["stations"]
    out: list[int | None] = []
    for name in names:
        found = None
        for number, entry in enumerate(words, start=1):
            if re.search(entry["pattern"], name, re.IGNORECASE):
                found = number
                break
        out.append(found)
    return out


def _stations(acqs: list[Acquisition], most: int) -> list[Acquisition]:
    """Up to `most` stations of one sequence from a protocol listing several: the first series of each station
    word (TOP, MID, BOT), in station order; a listing without station words gives its series in order."""
    order = _station_order([a.get("series_description") or a.name for a in acqs])
    if any(o is not None for o in order):
        first: dict[int, Acquisition] = {}
        for acq, number in zip(acqs, order, strict=True):
            if number is not None and number not in first and acq.get("fov_mm") is not None:
                first[number] = acq
        return [first[k] for k in sorted(first)][:most]
    return acqs[:most]


def _computed(inspections: list[Any]) -> int:
    """0 for an acquisition's own series, 1 for its trace-weighted images, 2 for a map computed from it."""
    acqs = [a for i in inspections for a in i.acquisitions]
    if not acqs or not is_map(acqs[0]):
        return 0
    return 1 if "TRACE" in acqs[0].name.upper() or "TRACEW" in (acqs[0].get("derived") or []) else 2


def _checked(spec: Spec, seq_id: str, acq: Acquisition, vendor: str, field_t: float) -> dict[str, Any] | None:
    """The console values this acquisition breaks (param -> what it breaks), or None if it breaks a requirement
    that is no console value (family, contrast): then it is no source for this sequence at all."""
    m = Match(seq_id, acq, 0, 0.0, [])
    withheld: dict[str, Any] = {}
    thickness = acq.get("slice_thickness_mm")
    for c in evaluate(seq_id, spec, m, vendor, field_t):
        if c.param == "contrast_agent":
            continue  # settings, not an injection: the same protocol serves before and after it
        if c.param == "voxel_size_mm" and c.observed is None and thickness is not None:
            # Without the voxel, the slice is its third side: a 5 mm slice breaks a 2 mm³ voxel rule.
            rule = next(r for r in spec.sequences[seq_id].constraints_for(vendor, field_t) if r.param == c.param)
            axis = rule.axes is None or 2 in rule.axes
            if axis and rule.severity == "error" and rule.evaluate(thickness) == "fail":
                words = c.rule_words or c.rule
                withheld["voxel_size_mm"] = {
                    "value": f"a {_clean(thickness)} mm slice",
                    "breaks": words,
                    "rule_source": c.source,
                }
                # The slice is the voxel's side: suggesting it would suggest the voxel the rule refuses.
                withheld.setdefault(
                    "slice_thickness_mm",
                    {"value": _clean(thickness), "breaks": f"voxel {words}", "rule_source": c.source},
                )
            continue
        if c.status != "fail":
            continue
        if c.param not in PARAMS:
            return None
        withheld[c.param] = {"value": _clean(c.observed), "breaks": c.rule_words or c.rule, "rule_source": c.source}
    return withheld


def _candidates(spec: Spec, path: Path, wanted: list[str], given: list[dict[str, Any]]) -> tuple[list[Candidate], str]:
    try:
        inspections = inspect_path(path)
    except Exception as error:  # noqa: BLE001 - a maintainer tool reports and goes on
        return [], f"unreadable ({error})"
    stated = _given(path, given)
    acqs = [_as_acquisition(a, path, stated) for i in inspections for a in i.acquisitions]
    if not acqs:
        return [], "no acquisition"
    threshold = evidence().points["threshold"]
    # Sidecars are listed by file name: a position after an injection counts only in acquisition order.
    ordered = input_is_ordered([i.format for i in inspections])
    phases = contrast_phases(acqs, acquisition_order(acqs, ordered)[0])
    fits: dict[str, list[tuple[float, int]]] = {}
    best: dict[int, str] = {}
    for position, acq in enumerate(acqs):
        vendor, field_t = acq.get("manufacturer"), field_class(acq.get("field_strength_t"))
        scored = []
        for seq_id in wanted:
            # Settings do not say whether the patient was injected: a post-contrast sequence's settings may come
            # from the same protocol run before an injection (OFSEP's spinal T1 is only ever post-contrast).
            post = spec.sequences[seq_id].contrast == "post"
            phase = Phase("post", "settings: the injection is given at the scan") if post else phases[position]
            value, _, veto = score(acq, spec.sequences[seq_id], vendor, field_t, phase)
            if veto is None and value >= threshold:
                scored.append((value, seq_id))
        for value, seq_id in scored:
            fits.setdefault(seq_id, []).append((value, position))
        if scored:  # the protocol it fits best (a sequence acquired again counts as the one it repeats)
            top = max(scored)[1]
            best[position] = spec.sequences[top].same_as or top
    first = acqs[0]
    vendor, field_t = first.get("manufacturer"), field_class(first.get("field_strength_t"))
    if vendor not in spec.vendors or field_t not in spec.field_strengths_t:
        return [], f"{vendor} {field_t} T is not a vendor and field of {spec.id}"
    if not fits:
        return [], f"matches no sequence of {spec.id}"
    out = []
    for seq_id, found in fits.items():
        seq = spec.sequences[seq_id]
        if len(acqs) == 1:
            chosen = [acqs[0]]
        else:  # a protocol listing: the series this sequence fits best, as stations
            own = [acqs[p] for _, p in sorted(found, key=lambda f: f[1]) if best.get(p) == (seq.same_as or seq_id)]
            chosen = _stations(own, seq.stations[1] if seq.stations else 1)
        if not chosen:
            continue
        withheld: dict[str, Any] = {}
        refused = False
        for acq in chosen:
            broken = _checked(spec, seq_id, acq, vendor, field_t)
            if broken is None:
                refused = True
                break
            withheld.update({k: v for k, v in broken.items() if k not in withheld})
        cell = (seq.same_as or seq_id, vendor, field_t)
        is_best = best.get(acqs.index(chosen[0])) == cell[0]
        if refused or (withheld and not is_best):
            continue  # a file serves a sequence it fits less well only if it meets all of that one's rules
        fit = max(v for v, p in found if acqs[p] in chosen)
        out.append(
            Candidate(
                path,
                seq_id,
                cell,
                chosen,
                fit,
                is_best,
                withheld,
                _computed(inspections),
                len(acqs) > 1,
                None if is_best else best.get(acqs.index(chosen[0])),
            )
        )
    return out, "" if out else f"breaks a requirement of every sequence it fits ({', '.join(sorted(fits))})"


def _values(vendor: str, acq: Acquisition, withheld: dict[str, Any], path: Path, report: list[str]) -> dict[str, Any]:
    stated = [p for p in PARAMS if acq.get(p) is not None and p not in withheld]
    values = {p: _console(vendor, p, _clean(acq.get(p))) for p in stated}
    for param in [p for p in values if not _card_states(vendor, p, values[p], acq.params)]:
        report.append(f"note {path}: {param} {values.pop(param)!r} left out: the {vendor} card cannot state it")
    if "matrix" in values and "fov_mm" not in values:
        # A sidecar states the matrix but no FOV: half a geometry, which the sheets would print instead of the
        # spec's derived one (a real scan's geometry is never mixed with derived geometry), leaving no voxel.
        report.append(f"note {path}: matrix {values.pop('matrix')!r} left out: the file states no FOV beside it")
    return values


def _entry(spec: Spec, c: Candidate, sources: dict[str, Any], report: list[str]) -> dict[str, Any]:
    seq_id, vendor, field_t = c.cell
    acq = c.acquisitions[0]
    row = _manifest(c.path)
    sid = source_id(c.path, row)
    model = acq.get("model") or vendor
    title = f"{model} {field_t:g} T, {c.path.name}" + (f" ({row['cite']})" if row and row.get("cite") else "")
    sources[sid] = {"kind": "suggestion", "title": title}
    if row:
        sources[sid]["publisher"] = f"{row['repo']} @ {row['commit'][:12]} ({row.get('licence', '')})".strip()
        sources[sid]["url"] = f"https://github.com/{row['repo']}/blob/{row['commit']}/{row['path']}"
    entry: dict[str, Any] = {"vendor": vendor, "field_t": field_t, "source": sid}
    # The site's protocol name is context, not a product sequence the console lists: it goes in the note.
    name = _series_name(acq)
    where = f"{model}, {field_t:g} T" + (f", {name}" if name else "")
    fr_where = where.replace(f"{field_t:g} T", f"{field_t:g} T".replace(".", ","))
    again = c.seq_id != seq_id
    other = c.fits_best
    entry["note"] = {
        "fr": f"Réglages d'un scanner réel ({fr_where})"
        + (f", acquis comme « {_label(spec, c.seq_id, 'fr')} »" if again else "")
        + (f", une série « {_label(spec, other, 'fr')} » qui respecte aussi ces exigences" if other else "")
        + " : un exemple, pas une exigence",
        "en": f"Settings of a real scanner ({where})"
        + (f", acquired as '{_label(spec, c.seq_id, 'en')}'" if again else "")
        + (f", a '{_label(spec, other, 'en')}' series that also meets these requirements" if other else "")
        + ": an example, not a requirement",
    }
    withheld = dict(c.withheld)
    thick = withheld.get("slice_thickness_mm")
    if thick is not None and acq.get("slice_gap_mm") is not None:
        # The gap is the source's spacing minus its own slice: beside a slice it withholds it means another
        # spacing (a Siemens distance factor is gap / slice), so it is withheld with it.
        withheld["slice_gap_mm"] = {
            "value": _clean(acq.get("slice_gap_mm")),
            "breaks": f"{thick['breaks']} (with its {thick['value']} mm slice)",
            "rule_source": thick.get("rule_source", ""),
        }
    entry["values"] = _values(vendor, acq, withheld, c.path, report)
    if withheld:
        entry["withheld"] = withheld
    if c.listing and spec.sequences[c.seq_id].stations:
        entry["stations"] = [
            {
                "name": _series_name(a) or a.name,
                "values": {
                    p: v for p, v in _values(vendor, a, c.withheld, c.path, report).items() if p in STATION_PARAMS
                },
            }
            for a in c.acquisitions
        ]
    return entry


def _series_name(acq: Acquisition) -> str | None:
    """The series' name as its console shows it: a GE report's "SAG T2 TOP - SAG T2 TOP" (series - protocol,
    the same words twice) once."""
    name = acq.get("series_description")
    if not isinstance(name, str):
        return None
    halves = name.split(" - ")
    return halves[0] if len(halves) == 2 and halves[0].strip() == halves[1].strip() else name


def _label(spec: Spec, seq_id: str, lang: str) -> str:
    label = spec.sequences[seq_id].label
    return label.get(lang) or label["en"]


def suggestions(
    spec: Spec,
    paths: Iterable[Path],
    exams: Iterable[str] = (),
    *,
    scoped: Iterable[tuple[str, Path]] = (),
    only: dict[Path, list[str]] | None = None,
    given: list[dict[str, Any]] | None = None,
    root: Path | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """(YAML document, report lines): sources and per-sequence suggestions from the reference files.

    `exams` limits the sequences the `paths` may be matched to (a BIDS sidecar of a head study does not say it is
    a head scan: a sagittal 3D T2 would otherwise match the spinal T2); `scoped` pairs (exam, path) limit one path
    each, and `only` limits a path to some sequences (a spine-generic T1w is a brain-and-cord MPRAGE, no spinal
    post-contrast T1). `given` states what a file cannot (see the module's docstring). With `root`, the document
    also lists each source's file relative to it (`files:`), so a test or a maintainer re-reads the very bytes.
    """
    exams = set(exams)
    jobs = [(p, exams) for p in paths] + [(p, {e}) for e, p in scoped]
    jobs.sort(key=lambda job: -len(job[0].parts))  # a deeper path's exam scope claims its files first
    report: list[str] = []
    candidates: dict[tuple[str, str, float], list[Candidate]] = {}
    seen: set[Path] = set()
    for top, scope in jobs:
        wanted = [s for s, q in spec.sequences.items() if not scope or q.exam in scope]
        wanted = [s for s in wanted if s in (only or {}).get(top, wanted)]
        for path in _files([top]):
            if path in seen:
                continue
            seen.add(path)
            found, why = _candidates(spec, path, wanted, given or [])
            if not found:
                report.append(f"skip {path}: {why}")
            for c in found:
                candidates.setdefault(c.cell, []).append(c)
    sources: dict[str, Any] = {}
    files: dict[str, str] = {}
    blocks: dict[str, list[dict[str, Any]]] = {}
    for cell in sorted(candidates, key=lambda k: (k[0], spec.vendors.index(k[1]), k[2])):
        ranked = sorted(candidates[cell], key=Candidate.rank)
        winner = ranked[0]
        entry = _entry(spec, winner, sources, report)
        blocks.setdefault(cell[0], []).append(entry)
        if root is not None:
            files[entry["source"]] = winner.path.relative_to(root).as_posix()
        kept = f" ({len(winner.withheld)} value(s) withheld: {', '.join(winner.withheld)})" if winner.withheld else ""
        report.append(f"use  {winner.path}: {cell[0]} {cell[1]} {cell[2]:g} T{kept}")
        for other in ranked[1:]:
            report.append(f"skip {other.path}: {cell[0]} {cell[1]} {cell[2]:g} T already has a suggestion")
    doc = {
        "sources": dict(sorted(sources.items())),
        "sequences": {seq: {"suggested": items} for seq, items in sorted(blocks.items())},
    }
    if root is not None:
        doc["files"] = dict(sorted(files.items()))
    return doc, report


HEADER = (
    "# Generated by `python -m ofsep_presets.suggest` from real reference acquisitions (see each source's URL);\n"
    "# do not edit by hand: re-run the tool. Suggestions are examples of working settings, never requirements.\n"
)


def from_config(config: Path, refs: Path) -> tuple[dict[str, Any], list[str]]:
    """The suggestions a maintainer's config file (tools/references.yaml) derives from the references at `refs`."""
    conf = yaml.safe_load(config.read_text(encoding="utf-8"))
    items = conf.get("exam_paths") or []
    scoped = [(item["exam"], refs / item["path"]) for item in items]
    only = {refs / item["path"]: list(item["sequences"]) for item in items if item.get("sequences")}
    given = conf.get("given") or []
    return suggestions(load_spec(conf["spec"]), [], scoped=scoped, only=only, given=given, root=refs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ofsep_presets.suggest", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, metavar="REFERENCE")
    parser.add_argument("--spec", default="ofsep-2020")
    parser.add_argument("--out", type=Path, help="write the YAML here (default: standard output)")
    parser.add_argument("--exam", action="append", default=[], help="the REFERENCEs: only this exam (repeatable)")
    parser.add_argument(
        "--exam-path", nargs=2, action="append", default=[], metavar=("EXAM", "PATH"), help="PATH: only EXAM"
    )
    parser.add_argument("--config", type=Path, help="YAML: spec, exam_paths (relative to --refs) and given")
    parser.add_argument("--refs", type=Path, default=Path("."), help="with --config: the fixtures folder")
    args = parser.parse_args(argv)
    if args.config:
        doc, report = from_config(args.config, args.refs)
    else:
        scoped = [(exam, Path(p)) for exam, p in args.exam_path]
        doc, report = suggestions(load_spec(args.spec), args.paths, args.exam, scoped=scoped)
    text = HEADER + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    for line in report:
        print(line, file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
