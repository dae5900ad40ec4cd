"""Render benchmark: the full default render against baselines, run side by side in one process.

    python benchmarks/bench_render.py [--repeat 3]

Prints wall-clock seconds (best of --repeat) and ratios; machines here are noisy, so compare ratios from the
same run, never absolute times across runs. Rows:
- render (default): everything, PDFs on a 2-process pool fed while HTML is rendered.
- baseline: one core: the same work with PDFs laid out in this process.
- html/md/sheet only: the same render without PDFs (what the PDFs cost is the difference).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from ofsep_presets.render import Selection, render
from ofsep_presets.spec import load_spec


def best_of(repeat: int, run) -> float:
    times = []
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix="ofsep-bench-"))
        try:
            start = time.perf_counter()
            run(folder / "out")
            times.append(time.perf_counter() - start)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    spec = load_spec("ofsep-2020")
    files = len(list(_count(spec)))
    rows = [
        ("render (default: 2-process PDF pool)", lambda out: render(spec, out)),
        ("baseline: PDFs on one core", lambda out: render(spec, out, workers=1)),
        ("html + md + sheets only (no PDF)", lambda out: render(spec, out, Selection(formats=("html", "md", "sheet")))),
    ]
    results = [(name, best_of(args.repeat, run)) for name, run in rows]
    base = results[1][1]
    print(f"ofsep-2020, {files} documents, best of {args.repeat}")
    print(f"{'run':42s} {'seconds':>8s} {'vs baseline':>12s}")
    for name, seconds in results:
        print(f"{name:42s} {seconds:8.2f} {base / seconds:11.2f}x")


def _count(spec):
    from ofsep_presets.render import plan_docs

    return plan_docs(spec, Selection())


if __name__ == "__main__":
    main()
