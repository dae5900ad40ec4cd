"""Every BIDS sidecar among the fixtures and references against `inspect`'s reading of it (maintainers).

    python tools/sidecar_agreement.py

The expected value of each field is the sidecar's own, in the unit the BIDS specification gives it (seconds for
RepetitionTime, EchoTime, InversionTime; the first echo of a list), converted to the canonical unit; a field the
sidecar does not state is not counted. Prints each disagreement and the count.
"""

from __future__ import annotations

import json
import subprocess
import sys

from fixture_cases import BIDS_FIELDS, FIXTURES, agrees, expected

NOT_SIDECARS = {"dataset_description.json", "participants.json", "manifest.json"}


def main() -> int:
    files = sorted(
        p
        for p in FIXTURES.rglob("*.json")
        if p.name not in NOT_SIDECARS and ("sub-" in p.name or "bids_json" in str(p))
    )
    differ = counted = 0
    for path in files:
        stated = json.loads(path.read_text())
        command = [sys.executable, "-m", "ofsep_presets", "inspect", str(path), "--format", "json", "--quiet"]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if proc.returncode:
            print("unreadable:", path, proc.stderr.strip()[-200:])
            differ += 1
            continue
        doc = json.loads(proc.stdout)
        doc = doc[0] if isinstance(doc, list) else doc
        if not doc["acquisitions"]:
            print("no acquisition:", path)
            continue
        read = {**doc["acquisitions"][0]["params"], **doc.get("scanner", {})}
        for field, (param, factor) in BIDS_FIELDS.items():
            value = expected(stated.get(field), factor)
            if value is None:
                continue
            counted += 1
            got = read.get(param)
            if not agrees(value, got):
                differ += 1
                print(f"{path.relative_to(FIXTURES)}: {field}={stated[field]!r} -> {param}={got!r}")
    print(f"{differ} of {counted} values differ ({len(files)} sidecars)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
