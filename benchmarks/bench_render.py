"""Render benchmark: the full default render against baselines, run side by side in one process.

    python benchmarks/bench_render.py [--repeat 3]

Prints wall-clock seconds and CPU seconds (this process and its PDF workers: user + system; best of --repeat) and
ratios; machines here are noisy and shared, so compare ratios from the same run, never absolute times across
runs (CPU seconds are the steadier of the two on a loaded machine). Rows:
- render (default): everything, PDFs on a 2-process pool fed while HTML is rendered; each process keeps one font
  configuration and parses the checklist stylesheet once (pdf.SHARE_LAYOUT_STATE).
- before: the same, every PDF laid out from scratch (its own font configuration, its stylesheet parsed again):
  the render as it was.
- baseline: one core: the same work with PDFs laid out in this process.
- html/md/sheet only: the same render without PDFs (what the PDFs cost is the difference).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from pathlib import Path

from ofsep_presets import pdf
from ofsep_presets.render import Selection, render
from ofsep_presets.spec import load_spec


def _cpu() -> float:
    """CPU seconds of this process and of its reaped children (the PDF pool's workers), user + system."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def best_of(repeat: int, run) -> tuple[float, float]:
    """(wall, CPU) seconds, each the best of `repeat` runs."""
    walls, cpus = [], []
    for _ in range(repeat):
        folder = Path(tempfile.mkdtemp(prefix="ofsep-bench-"))
        try:
            cpu, start = _cpu(), time.perf_counter()
            run(folder / "out")
            walls.append(time.perf_counter() - start)
            cpus.append(_cpu() - cpu)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    return min(walls), min(cpus)


def _before(out: Path) -> None:
    pdf.SHARE_LAYOUT_STATE = False  # the pool forks after this: its workers see it too
    try:
        render(load_spec("ofsep-2020"), out)
    finally:
        pdf.SHARE_LAYOUT_STATE = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    spec = load_spec("ofsep-2020")
    files = len(list(_count(spec)))
    rows = [
        ("render (default: 2-process PDF pool)", lambda out: render(spec, out)),
        ("before: every PDF from scratch", _before),
        ("baseline: PDFs on one core", lambda out: render(spec, out, workers=1)),
        ("html + md + sheets only (no PDF)", lambda out: render(spec, out, Selection(formats=("html", "md", "sheet")))),
    ]
    results = [(name, *best_of(args.repeat, run)) for name, run in rows]
    base_wall, base_cpu = results[2][1], results[2][2]
    print(f"ofsep-2020, {files} documents, best of {args.repeat}")
    print(f"{'run':42s} {'wall s':>7s} {'vs base':>8s} {'CPU s':>7s} {'vs base':>8s}")
    for name, wall, cpu in results:
        print(f"{name:42s} {wall:7.2f} {base_wall / wall:7.2f}x {cpu:7.2f} {base_cpu / cpu:7.2f}x")


def _count(spec):
    from ofsep_presets.render import plan_docs

    return plan_docs(spec, Selection())


if __name__ == "__main__":
    main()
