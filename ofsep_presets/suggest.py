"""Maintainer tool: real reference acquisitions -> the spec's `suggested:` blocks, reproducibly.

    python -m ofsep_presets.suggest --spec ofsep-2020 REFERENCE_FILE_OR_FOLDER... [--out FILE]

Each file is read by our own readers (the same `inspect` a user runs), matched to a spec sequence by the same
matcher `check` uses, and kept only if no error rule of the spec fails on it (a suggestion never breaks a
requirement). Per sequence × vendor × field strength the first file, in sorted path order, wins; the others are
listed as skipped with the reason. The output is a YAML document with the `sources:` it cites and, per sequence,
its `suggested:` list; the spec includes it through `suggestions_file:`. Every value names its file (the source's
title and URL), so the data can be re-derived and checked. Values are what the file states, never filled in.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from .check import evaluate, field_class
from .match import match
from .readers import inspect_path
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
SKIP_NAMES = {"dataset_description.json", "participants.json"}


def _files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out += sorted(p for p in path.rglob("*.json") if p.name not in SKIP_NAMES and p.name != "manifest.json")
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


def source_id(path: Path, row: dict[str, Any] | None) -> str:
    """A stable, readable id: the dataset, the file's suffix, and 8 hex of its sha256 (no subject code)."""
    import hashlib

    dataset = (row or {}).get("source") or path.parent.name
    suffix = path.name.split(".")[0].split("_")[-1]
    digest = (row or {}).get("sha256") or hashlib.sha256(path.read_bytes()).hexdigest()
    text = f"{dataset}-{suffix}-{digest[:8]}".lower()
    return "ref-" + re.sub(r"[^a-z0-9.-]+", "-", text).strip("-")


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


def suggestions(spec: Spec, paths: Iterable[Path], exams: Iterable[str] = ()) -> tuple[dict[str, Any], list[str]]:
    """(YAML document, report lines): sources and per-sequence suggestions from the reference files.

    `exams` limits the sequences a file may be matched to (a BIDS sidecar of a head study does not say it is a
    head scan: a sagittal 3D T2 would otherwise match the spinal T2).
    """
    wanted = [s for s, q in spec.sequences.items() if not exams or q.exam in set(exams)]
    sources: dict[str, Any] = {}
    blocks: dict[str, list[dict[str, Any]]] = {}
    taken: set[tuple[str, str, float]] = set()
    report: list[str] = []
    for path in _files(paths):
        try:
            inspections = inspect_path(path)
        except Exception as error:  # noqa: BLE001 - a maintainer tool reports and goes on
            report.append(f"skip {path}: unreadable ({error})")
            continue
        acquisitions = [a for i in inspections for a in i.acquisitions]
        if len(acquisitions) != 1:
            report.append(f"skip {path}: {len(acquisitions)} acquisitions (one per file expected)")
            continue
        acq = acquisitions[0]
        vendor, field_t = acq.get("manufacturer"), field_class(acq.get("field_strength_t"))
        if vendor not in spec.vendors or field_t not in spec.field_strengths_t:
            report.append(f"skip {path}: {vendor} {field_t} T is not a vendor and field of {spec.id}")
            continue
        found = match([acq], spec, wanted, vendor, field_t).matches
        if not found:
            report.append(f"skip {path}: matches no sequence of {spec.id}")
            continue
        seq_id, (m, *_) = next(iter(found.items()))
        failed = [c for c in evaluate(seq_id, spec, m, vendor, field_t) if c.status == "fail"]
        if failed:
            broken = "; ".join(f"{c.param} {c.observed!r} breaks {c.rule} ({c.source})" for c in failed)
            report.append(f"skip {path}: {seq_id}: {broken}")
            continue
        key = (seq_id, vendor, field_t)
        if key in taken:
            report.append(f"skip {path}: {seq_id} {vendor} {field_t:g} T already has a suggestion")
            continue
        taken.add(key)
        row = _manifest(path)
        sid = source_id(path, row)
        model = acq.get("model") or vendor
        title = f"{model} {field_t:g} T, {path.name}" + (f" ({row['cite']})" if row and row.get("cite") else "")
        sources[sid] = {"kind": "suggestion", "title": title}
        if row:
            sources[sid]["publisher"] = f"{row['repo']} @ {row['commit'][:12]} ({row.get('licence', '')})".strip()
            sources[sid]["url"] = f"https://github.com/{row['repo']}/blob/{row['commit']}/{row['path']}"
        values = {p: _console(vendor, p, _clean(acq.get(p))) for p in PARAMS if acq.get(p) is not None}
        for param in [p for p in values if not _card_states(vendor, p, values[p], acq.params)]:
            report.append(f"note {path}: {param} {values.pop(param)!r} left out: the {vendor} card cannot state it")
        if "matrix" in values and "fov_mm" not in values:
            # A sidecar states the matrix but no FOV: half a geometry, which the sheets would print instead of the
            # spec's derived one (a real scan's geometry is never mixed with derived geometry), leaving no voxel.
            report.append(f"note {path}: matrix {values.pop('matrix')!r} left out: the file states no FOV beside it")
        entry: dict[str, Any] = {"vendor": vendor, "field_t": field_t, "source": sid}
        # The site's protocol name is context, not a product sequence the console lists: it goes in the note.
        name = acq.get("series_description")
        where = f"{model}, {field_t:g} T" + (f", {name}" if name else "")
        entry["note"] = {
            "fr": f"Réglages d'un examen réel ({where.replace(f'{field_t:g} T', f'{field_t:g} T'.replace('.', ','))})"
            " : un exemple, pas une exigence",
            "en": f"Settings of a real scan ({where}): an example, not a requirement",
        }
        entry["values"] = values
        blocks.setdefault(seq_id, []).append(entry)
        report.append(f"use  {path}: {seq_id} {vendor} {field_t:g} T -> {sid}")
    doc = {
        "sources": dict(sorted(sources.items())),
        "sequences": {seq: {"suggested": items} for seq, items in sorted(blocks.items())},
    }
    return doc, report


HEADER = (
    "# Generated by `python -m ofsep_presets.suggest` from real reference acquisitions (see each source's URL);\n"
    "# do not edit by hand: re-run the tool. Suggestions are examples of working settings, never requirements.\n"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ofsep_presets.suggest", description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, metavar="REFERENCE")
    parser.add_argument("--spec", default="ofsep-2020")
    parser.add_argument("--out", type=Path, help="write the YAML here (default: standard output)")
    parser.add_argument("--exam", action="append", default=[], help="only sequences of this exam (repeatable)")
    args = parser.parse_args(argv)
    spec = load_spec(args.spec)
    doc, report = suggestions(spec, args.paths, args.exam)
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
