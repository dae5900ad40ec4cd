"""Audit cache benchmark: the same `audit` run cold (new --out, empty cache) and warm (again, nothing changed).

    python benchmarks/bench_audit.py [--repeat 5]

Two inputs from the fixtures: the 19-site spine-generic BIDS sidecars (spine-generic spec) and every DICOM
fixture series as a site of its own (OFSEP spec; the reading there is real DICOM parsing). Each round runs cold
then warm, side by side, in one process (imports and template compilation are paid before timing starts);
prints the median of each and the cold/warm ratio. The issue asks for warm ≥ 5× faster than cold.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from click.testing import CliRunner

from ofsep_presets.cli import main

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
INPUTS = {
    "BIDS, 19 sites (spine-generic)": (
        ["--spec", "spine-generic"],
        [FIXTURES / "bids" / "spine-generic-single-subject"],
    ),
    "DICOM, one series per site (ofsep-2020)": (
        ["--spec", "ofsep-2020"],
        sorted(p for p in (FIXTURES / "dicom").glob("*/*") if p.is_dir() and p.parent.name != "LICENSES"),
    ),
}


def _audit(args: list[str], paths: list[Path], out: Path) -> float:
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["audit", *map(str, paths), *args, "--out", str(out), "--quiet"])
    elapsed = time.perf_counter() - start
    if result.exit_code not in (0, 1):
        raise SystemExit(f"audit failed ({result.exit_code}): {result.stderr}")
    return elapsed


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds of cold + warm (default 5)")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    try:
        print(f"{'input':42} {'sites':>5} {'cold s':>8} {'warm s':>8} {'cold/warm':>10}")
        for label, (args, paths) in INPUTS.items():
            _audit(args, paths, work / "warmup")  # imports, template compilation
            cold, warm = [], []
            for i in range(options.repeat):
                out = work / f"{len(label)}-{i}"
                cold.append(_audit(args, paths, out))
                warm.append(_audit(args, paths, out))
            sites = len(list((work / "warmup" / "sites").iterdir()))
            c, w = statistics.median(cold), statistics.median(warm)
            print(f"{label:42} {sites:>5} {c:>8.3f} {w:>8.3f} {c / w:>9.1f}×")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main_()
