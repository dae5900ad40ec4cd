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
from pathlib import Path

from fixture_cases import inputs, main, relative


def _export(path: Path) -> bool:
    return path.suffix.lower() != ".md" and not path.name.upper().startswith("LICENSE")


def snapshot(out: str) -> None:
    from ofsep_presets.readers import inspect_path

    snap: dict[str, object] = {}
    for path in inputs(_export):
        key = relative(str(path))
        try:
            documents = inspect_path(path)
        except Exception as error:  # noqa: BLE001 - a snapshot records what failed and goes on
            snap[key] = {"error": f"{type(error).__name__}: {error}"[:300]}
            continue
        for document in documents:
            doc = document.to_json()
            source = relative(doc.get("source") or key)
            snap[f"{source} [warnings]"] = len(doc.get("warnings") or [])
            seen: dict[str, int] = {}
            for acquisition in doc.get("acquisitions", []):
                name = acquisition.get("name") or ""
                seen[name] = seen.get(name, 0) + 1
                snap[f"{source} :: {name} #{seen[name]}"] = dict(acquisition.get("params", {}))
        print(key, file=sys.stderr)
    Path(out).write_text(json.dumps(snap, indent=1, sort_keys=True, default=str))


if __name__ == "__main__":
    main(snapshot, __doc__, "value")
