"""Startup of small jobs: `--help`, `inspect` of one .exar1, `check` of one DICOM series, each as a fresh process,
beside the bare interpreter start (`python -c pass`) and `python -c "import ofsep_presets.cli"`.

    python benchmarks/bench_startup.py [--repeat 5]

Prints the median of each and its ratio to the bare interpreter. Machines here are noisy: compare ratios, not
seconds, and run it twice.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
EXAR1 = FIXTURES / "vendor-exports/siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1"
SERIES = FIXTURES / "dicom/Siemens/VE11_PD_T2_tse_sag_1.8mm"
CLI = [sys.executable, "-m", "ofsep_presets"]
RUNS = [
    ("python -c pass", [sys.executable, "-c", "pass"]),
    ("import ofsep_presets.cli", [sys.executable, "-c", "import ofsep_presets.cli"]),
    ("ofsep-presets --help", [*CLI, "--help"]),
    ("inspect one .exar1", [*CLI, "inspect", str(EXAR1)]),
    ("check one DICOM series", [*CLI, "check", str(SERIES), "--quiet"]),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    medians = {}
    for name, command in RUNS:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
            times.append(time.perf_counter() - start)
        medians[name] = statistics.median(times)
    base = medians["python -c pass"]
    print(f"{'run':28s} {'median s':>9s} {'× bare python':>14s}")
    for name, seconds in medians.items():
        print(f"{name:28s} {seconds:9.3f} {seconds / base:13.1f}x")


if __name__ == "__main__":
    main()
