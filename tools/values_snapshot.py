"""Snapshot every value the readers give on every real fixture and reference input, and diff two snapshots.

    python tools/values_snapshot.py OUT.json             # in the venv (or PYTHONPATH) of the tree to measure
    python tools/values_snapshot.py --diff A.json B.json

Why: a reader change must move only the values it means to move. The snapshot keeps, per input and acquisition,
each canonical parameter's value (provenance, kept apart in the contract, is left out: it may be reworded
without a value changing), the number
of warnings and any error; keys are relative to the fixtures folder, so snapshots of two clones compare. The diff
lists every value that changed, for a person to judge against the file's own bytes, the vendor's printout or
dcm2niix: a regression guard over every real input at hand (~1 min), not a score (there is no truth in it).
Run it with the working directory outside any checkout, or the checkout there is the one imported.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"


def inputs() -> Iterator[Path]:
    """Every export and printout file, every DICOM vendor folder, every BIDS root and reference folder."""
    for path in sorted((FIXTURES / "vendor-exports").rglob("*")):
        if path.is_file() and path.suffix.lower() != ".md" and not path.name.upper().startswith("LICENSE"):
            yield path
    for path in sorted((FIXTURES / "references" / "mraat").rglob("*")):
        if path.is_file():
            yield path
    for vendor in sorted((FIXTURES / "dicom").iterdir()):
        if vendor.is_dir() and vendor.name != "LICENSES":
            yield vendor
    yield from sorted(p for p in (FIXTURES / "bids").iterdir() if p.is_dir())
    for root in sorted((FIXTURES / "references").iterdir()):
        if root.is_dir() and root.name not in ("mraat", "LICENSES"):
            yield root


def _relative(source: str) -> str:
    try:
        return str(Path(source).resolve().relative_to(FIXTURES.resolve()))
    except ValueError:
        return source


def snapshot(out: str) -> None:
    from ofsep_presets.readers import inspect_path

    snap: dict[str, object] = {}
    for path in inputs():
        key = _relative(str(path))
        try:
            documents = inspect_path(path)
        except Exception as error:  # noqa: BLE001 - a snapshot records what failed and goes on
            snap[key] = {"error": f"{type(error).__name__}: {error}"[:300]}
            continue
        for document in documents:
            doc = document.to_json()
            source = _relative(doc.get("source") or key)
            snap[f"{source} [warnings]"] = len(doc.get("warnings") or [])
            seen: dict[str, int] = {}
            for acquisition in doc.get("acquisitions", []):
                name = acquisition.get("name") or ""
                seen[name] = seen.get(name, 0) + 1
                snap[f"{source} :: {name} #{seen[name]}"] = dict(acquisition.get("params", {}))
        print(key, file=sys.stderr)
    Path(out).write_text(json.dumps(snap, indent=1, sort_keys=True, default=str))


def diff(a: str, b: str) -> int:
    before, after = json.loads(Path(a).read_text()), json.loads(Path(b).read_text())
    changed = 0
    for key in sorted(set(before) | set(after)):
        if key not in before or key not in after:
            print("only in", "B" if key in after else "A", key)
            changed += 1
            continue
        old, new = before[key], after[key]
        if isinstance(old, dict) and isinstance(new, dict):
            for param in sorted(set(old) | set(new)):
                if old.get(param) != new.get(param):
                    print(f"{key}\n   {param}: {old.get(param)!r} -> {new.get(param)!r}")
                    changed += 1
        elif old != new:
            print(f"{key}: {old!r} -> {new!r}")
            changed += 1
    print(changed, "value(s) changed")
    return changed


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--diff":
        diff(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 2:
        snapshot(sys.argv[1])
    else:
        sys.exit(__doc__)
