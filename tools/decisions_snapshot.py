"""Snapshot `check`'s decisions on every real fixture and reference case, and diff two snapshots (maintainers).

    python tools/decisions_snapshot.py OUT.json            # run in the venv of the tree to measure
    python tools/decisions_snapshot.py --diff A.json B.json

Each case is an export or printout file, a DICOM folder, or a BIDS root read with `--each`; the snapshot keeps,
per exam, every slot's verdict and matched series, every parameter rule's verdict and every session rule's. The
diff between two commits lists each decision that changed, for a person to judge against the file's own
evidence: a regression guard over every real case at hand (~25 s), not a score (there is no truth in it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
EXPORTS = (".exar1", ".edx", ".examcard", ".tar", ".pdf", ".html")


def cases() -> Iterator[tuple[str, list[str]]]:
    """(path, extra check arguments) for every case."""
    for path in sorted((FIXTURES / "vendor-exports").rglob("*")):
        if path.is_file() and path.suffix.lower() in EXPORTS:
            yield str(path), []
    for path in sorted((FIXTURES / "references" / "mraat").rglob("*")):
        if path.is_file():
            yield str(path), []
    for vendor in sorted((FIXTURES / "dicom").iterdir()):
        if vendor.is_dir() and vendor.name != "LICENSES":
            yield str(vendor), ["--each"]
    yield str(FIXTURES / "dicom"), ["--each"]
    yield str(FIXTURES / "bids" / "spine-generic-single-subject"), ["--each"]
    for root in sorted((FIXTURES / "references").iterdir()):
        if root.is_dir() and root.name not in ("mraat", "LICENSES"):
            yield str(root), ["--each"]


def essence(report: dict) -> dict:
    """The decisions of one exam's report: slots, their parameter rules, session rules."""
    out = {"variant": report.get("variant"), "status": report.get("status")}
    for sequence in report.get("sequences", []):
        out[sequence["id"]] = [sequence.get("status"), sequence.get("matched")]
        for rule in sequence.get("checks") or []:
            out[f"{sequence['id']}:{rule.get('param')}:{rule.get('rule')}"] = rule.get("status")
    for rule in report.get("session", []):
        out[f"session:{rule.get('rule')}"] = rule.get("status")
    return out


def _relative(path: str) -> str:
    """The case's path inside the fixtures folder, so snapshots of two clones (../shared anywhere) compare."""
    try:
        return str(Path(path).resolve().relative_to(FIXTURES.resolve()))
    except ValueError:
        return path


def snapshot(out: str) -> None:
    snap: dict[str, dict] = {}
    for path, extra in cases():
        command = [sys.executable, "-m", "ofsep_presets", "check", path, *extra, "--format", "json", "--quiet"]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
        key = f"{_relative(path)} {' '.join(extra)}".strip()
        if proc.returncode not in (0, 1):
            snap[key] = {"error": proc.stderr.strip().splitlines()[-1:]}
            continue
        doc = json.loads(proc.stdout)
        for i, report in enumerate(doc if isinstance(doc, list) else [doc]):
            snap[f"{key} #{i} {(report.get('exam') or {}).get('label', '')}"] = essence(report)
        print(key, proc.returncode, file=sys.stderr)
    Path(out).write_text(json.dumps(snap, indent=1, sort_keys=True))


def diff(a: str, b: str) -> int:
    before, after = json.loads(Path(a).read_text()), json.loads(Path(b).read_text())
    changed = 0
    for case in sorted(set(before) | set(after)):
        if case not in before or case not in after:
            print("case only in", "B" if case in after else "A", case)
            changed += 1
            continue
        for decision in sorted(set(before[case]) | set(after[case])):
            if before[case].get(decision) != after[case].get(decision):
                print(f"{case}\n   {decision}: {before[case].get(decision)} -> {after[case].get(decision)}")
                changed += 1
    print(changed, "decision(s) changed")
    return changed


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--diff":
        diff(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 2:
        snapshot(sys.argv[1])
    else:
        sys.exit(__doc__)
