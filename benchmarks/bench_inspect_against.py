"""`inspect` of the synthetic exam: this checkout against an earlier revision, run side by side.

    python benchmarks/bench_inspect_against.py REV [--rounds 3] [--folder DIR]

The exam is the one `bench_inspect.py` builds (run it first). REV is exported with `git archive` into
benchmarks/out/baseline-REV; both trees then read the same folder in alternating order, each in a fresh
interpreter, and the best time of each is compared: the ratio says whether a change made `inspect` slower,
under the same machine load (absolute times on a shared 2-core machine vary by several times).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = Path(__file__).parent / "out"
CODE = (
    "import sys, time, pathlib\n"
    "from ofsep_presets.readers import inspect_path\n"
    "start = time.perf_counter()\n"
    "count = sum(len(i.acquisitions) for i in inspect_path(pathlib.Path(sys.argv[1])))\n"
    "print(time.perf_counter() - start, count)\n"
)


def export(rev: str) -> Path:
    target = OUT / f"baseline-{rev}"
    if not target.exists():
        data = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            archive.extractall(target, filter="data")
    return target


def timed(tree: Path, folder: Path) -> tuple[float, int]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run([sys.executable, "-c", CODE, str(folder)], capture_output=True, text=True, env=env, cwd=tree)
    seconds, count = out.stdout.split()
    return float(seconds), int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=OUT / "synthetic-exam")
    args = parser.parse_args()
    trees = {f"baseline {args.rev}": export(args.rev), "this checkout": ROOT}
    best: dict[str, float] = {}
    for round_ in range(args.rounds):
        order = list(trees.items()) if round_ % 2 == 0 else list(reversed(trees.items()))
        for name, tree in order:
            seconds, count = timed(tree, args.folder)
            best[name] = min(best.get(name, seconds), seconds)
            print(f"{name:28s} {seconds:8.2f} s  ({count} acquisitions)", flush=True)
    base, ours = best[f"baseline {args.rev}"], best["this checkout"]
    print(f"best of {args.rounds}: baseline {base:.2f} s, this checkout {ours:.2f} s, ratio {ours / base:.2f}")


if __name__ == "__main__":
    main()
