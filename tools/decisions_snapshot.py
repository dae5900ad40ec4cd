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

from fixture_cases import FIXTURES, inputs, main, relative

EXPORTS = (".exar1", ".edx", ".examcard", ".tar", ".pdf", ".html")


def cases() -> Iterator[tuple[str, list[str]]]:
    """(path, extra check arguments) for every case: a file as it is, a folder one report per exam, and the
    four vendors' DICOM together (a folder of several exams)."""
    for path in inputs(lambda p: p.suffix.lower() in EXPORTS, bids=("spine-generic-single-subject",)):
        yield str(path), [] if path.is_file() else ["--each"]
    yield str(FIXTURES / "dicom"), ["--each"]


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


def snapshot(out: str) -> None:
    snap: dict[str, dict] = {}
    for path, extra in cases():
        command = [sys.executable, "-m", "ofsep_presets", "check", path, *extra, "--format", "json", "--quiet"]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=600)
        key = f"{relative(path)} {' '.join(extra)}".strip()
        if proc.returncode not in (0, 1):
            snap[key] = {"error": proc.stderr.strip().splitlines()[-1:]}
            continue
        doc = json.loads(proc.stdout)
        for i, report in enumerate(doc if isinstance(doc, list) else [doc]):
            snap[f"{key} #{i} {(report.get('exam') or {}).get('label', '')}"] = essence(report)
        print(key, proc.returncode, file=sys.stderr)
    Path(out).write_text(json.dumps(snap, indent=1, sort_keys=True))


if __name__ == "__main__":
    main(snapshot, __doc__, "decision")
