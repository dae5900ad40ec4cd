"""What the maintainer tools beside this file share: where the real cases are, how a case is keyed, how two
snapshots are diffed, and which BIDS sidecar fields mean which canonical parameter (maintainers).

Why one module: every tool here walks the same fixtures and references and compares the same things; a case or
a field added in one place is then measured by all of them.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"

# BIDS field: (canonical parameter, factor to its unit; None: compared as text)
BIDS_FIELDS = {
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


def inputs(export: Callable[[Path], bool], bids: tuple[str, ...] | None = None) -> Iterator[Path]:
    """Every real input: the vendor-export files `export` keeps, the MR-AAT reference files, each DICOM vendor
    folder, the BIDS roots (those named in `bids`, or all), and each other reference folder."""
    for path in sorted((FIXTURES / "vendor-exports").rglob("*")):
        if path.is_file() and export(path):
            yield path
    for path in sorted((FIXTURES / "references" / "mraat").rglob("*")):
        if path.is_file():
            yield path
    for vendor in sorted((FIXTURES / "dicom").iterdir()):
        if vendor.is_dir() and vendor.name != "LICENSES":
            yield vendor
    yield from sorted(p for p in (FIXTURES / "bids").iterdir() if p.is_dir() and (bids is None or p.name in bids))
    for root in sorted((FIXTURES / "references").iterdir()):
        if root.is_dir() and root.name not in ("mraat", "LICENSES"):
            yield root


def relative(path: str) -> str:
    """The case's path inside the fixtures folder, so snapshots of two clones (../shared anywhere) compare."""
    try:
        return str(Path(path).resolve().relative_to(FIXTURES.resolve()))
    except ValueError:
        return path


def expected(value: object, factor: float | None) -> object:
    """A sidecar's value in the canonical unit (the first of a list); None where it states no comparable one."""
    value = value[0] if isinstance(value, list) and value else value
    if factor is None:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(float(value) * factor, 4)
    return None


def agrees(expected: object, got: object) -> bool:
    """Numbers within 1e-3 (relative, at least absolute), text without regard to case."""
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        return isinstance(got, int | float) and abs(float(got) - expected) <= 1e-3 * max(1, abs(expected))
    return got is not None and str(got).lower() == str(expected).lower()


def diff(a: str, b: str, noun: str) -> int:
    """Every entry that changed between two snapshots {case: {key: value} | value}; prints them and the count."""
    before, after = json.loads(Path(a).read_text()), json.loads(Path(b).read_text())
    changed = 0
    for case in sorted(set(before) | set(after)):
        if case not in before or case not in after:
            print("only in", "B" if case in after else "A", case)
            changed += 1
            continue
        old, new = before[case], after[case]
        if isinstance(old, dict) and isinstance(new, dict):
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    print(f"{case}\n   {key}: {old.get(key)!r} -> {new.get(key)!r}")
                    changed += 1
        elif old != new:
            print(f"{case}: {old!r} -> {new!r}")
            changed += 1
    print(changed, f"{noun}(s) changed")
    return changed


def main(snapshot: Callable[[str], None], usage: str | None, noun: str) -> None:
    """`TOOL OUT.json` snapshots; `TOOL --diff A.json B.json` diffs two snapshots."""
    if len(sys.argv) == 4 and sys.argv[1] == "--diff":
        diff(sys.argv[2], sys.argv[3], noun)
    elif len(sys.argv) == 2:
        snapshot(sys.argv[1])
    else:
        sys.exit(usage)
