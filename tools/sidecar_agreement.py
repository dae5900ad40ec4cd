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
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
NOT_SIDECARS = {"dataset_description.json", "participants.json", "manifest.json"}
# BIDS field: (canonical parameter, factor to its unit; None: compared as written)
FIELDS = {
    "RepetitionTime": ("repetition_time_ms", 1000),
    "EchoTime": ("echo_time_ms", 1000),
    "InversionTime": ("inversion_time_ms", 1000),
    "FlipAngle": ("flip_angle_deg", 1),
    "SliceThickness": ("slice_thickness_mm", 1),
    "MagneticFieldStrength": ("field_strength_t", 1),
    "ParallelReductionFactorInPlane": ("parallel_factor", 1),
    "MultibandAccelerationFactor": ("multiband_factor", 1),
    "PixelBandwidth": ("pixel_bandwidth_hz", 1),
    "EchoTrainLength": ("echo_train_length", 1),
    "MRAcquisitionType": ("acquisition_type", None),
}


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
        for field, (param, factor) in FIELDS.items():
            value = stated.get(field)
            value = value[0] if isinstance(value, list) and value else value
            if factor is None:
                expected = value
            elif isinstance(value, int | float) and not isinstance(value, bool):
                expected = round(float(value) * factor, 4)
            else:
                continue
            if expected is None:
                continue
            counted += 1
            got = read.get(param)
            same = (
                got == expected
                if factor is None
                else got is not None and abs(float(got) - expected) <= 1e-3 * max(1, abs(expected))
            )
            if not same:
                differ += 1
                print(f"{path.relative_to(FIXTURES)}: {field}={stated[field]!r} -> {param}={got!r}")
    print(f"{differ} of {counted} values differ ({len(files)} sidecars)")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
