"""Audit benchmarks: the cache (cold vs warm) on the fixtures, and an audit at scale (issue 15).

    python benchmarks/bench_audit.py [--repeat 5]        # cold vs warm on the fixtures (in one process)
    python benchmarks/bench_audit.py --scale 1000         # a synthetic 1,000-site audit

Fixtures mode: the 19-site spine-generic BIDS sidecars (spine-generic spec) and every DICOM fixture series as a
site of its own (OFSEP spec); each round runs cold then warm, side by side, in one process (imports and template
compilation paid before timing starts); prints the medians and the cold/warm ratio.

Scale mode builds N sites under a temporary folder (never in the repository): the 19 BIDS subjects, the vendor
exports (.exar1, .edx, ExamCard, GE protocol tar) and the DICOM fixture series, in turn, each site a folder of hard
links to the fixture files (a copy where links are impossible). Then, each audit in a fresh `ofsep-presets`
process, as a user runs it: cold at N/4 sites and at N sites (the per-site cost at both says whether time is linear
in sites), warm at N sites (nothing changed), and cold at N/4 with one worker (the parallel speed-up). Prints
cold, warm, their ratio (issue 15 asks ≥ 20×), the peak RSS of the largest process (the audit or one of its
workers), the size of audit.html and its load time in headless Chromium against a one-line page (side by side).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures"
DICOM_SERIES = sorted(p for p in (FIXTURES / "dicom").glob("*/*") if p.is_dir() and p.parent.name != "LICENSES")
INPUTS = {
    "BIDS, 19 sites (spine-generic)": (
        ["--spec", "spine-generic"],
        [FIXTURES / "bids" / "spine-generic-single-subject"],
    ),
    "DICOM, one series per site (ofsep-2020)": (["--spec", "ofsep-2020"], DICOM_SERIES),
}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _fixture_mode(repeat: int) -> None:
    from click.testing import CliRunner

    from ofsep_presets.cli import main

    def audit(args: list[str], paths: list[Path], out: Path) -> float:
        start = time.perf_counter()
        result = CliRunner().invoke(main, ["audit", *map(str, paths), *args, "--out", str(out), "--quiet"])
        elapsed = time.perf_counter() - start
        if result.exit_code not in (0, 1, 2):
            raise SystemExit(f"audit failed ({result.exit_code}): {result.stderr}")
        return elapsed

    work = Path(tempfile.mkdtemp(prefix="bench-audit-"))
    try:
        print(f"{'input':42} {'sites':>5} {'cold s':>8} {'warm s':>8} {'cold/warm':>10}")
        for label, (args, paths) in INPUTS.items():
            audit(args, paths, work / "warmup")  # imports, template compilation
            cold, warm = [], []
            for i in range(repeat):
                out = work / f"{len(label)}-{i}"
                cold.append(audit(args, paths, out))
                warm.append(audit(args, paths, out))
            sites = len(list((work / "warmup" / "sites").iterdir()))
            c, w = statistics.median(cold), statistics.median(warm)
            print(f"{label:42} {sites:>5} {c:>8.3f} {w:>8.3f} {c / w:>9.1f}×")
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- scale ------------------------------------------------------------------------------------------------------
def _templates() -> list[list[Path]]:
    """What one synthetic site may be: the files of one BIDS subject, one vendor export, or one DICOM series."""
    bids = FIXTURES / "bids" / "spine-generic-single-subject"
    out: list[list[Path]] = [sorted(p for p in s.rglob("*") if p.is_file()) for s in sorted(bids.glob("sub-*"))]
    exports = FIXTURES / "vendor-exports"
    for pattern in ("siemens/*/*.exar1", "siemens/*/*.edx", "philips/*.ExamCard", "ge/*/protocol.tar"):
        out += [[p] for p in sorted(exports.glob(pattern))]
    out += [sorted(p for p in s.iterdir() if p.is_file()) for s in DICOM_SERIES]
    return [files for files in out if files]


def _link(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def build_sites(root: Path, n: int) -> list[Path]:
    """N site folders, each holding one fixture's files (hard links), cycling through every kind of input."""
    kinds = _templates()
    sites = []
    for i in range(n):
        files = kinds[i % len(kinds)]
        site = root / f"site-{i:05d}"
        base = files[0].parent if len(files) == 1 else Path(os.path.commonpath([f.parent for f in files]))
        for f in files:
            _link(f, site / f.relative_to(base))
        sites.append(site)
    return sites


# Runs one command and prints the peak RSS (KB) of the largest process of its tree: a fresh parent per run, so
# each run's figure is its own (RUSAGE_CHILDREN only ever grows within one process).
_PEAK = (
    "import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)"
)


def _run_audit(sites: list[Path], out: Path, *more: str) -> tuple[float, float]:
    """Wall seconds and the peak RSS (MB) of the largest process of one `ofsep-presets audit` run."""
    command = [sys.executable, "-m", "ofsep_presets", "audit", *map(str, sites), "--spec", "spine-generic"]
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, *command, "--out", str(out), "--quiet", *more],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(f"audit failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed, int(proc.stderr.strip().splitlines()[-1]) / 1024


def _chromium_ms(page: Path, profile: Path) -> float | None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        return None
    start = time.perf_counter()
    subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
        capture_output=True,
        timeout=600,
    )
    return (time.perf_counter() - start) * 1000


def _scale_mode(n: int, jobs: int | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-audit-scale-"))
    more = ["--jobs", str(jobs)] if jobs else []
    try:
        sites = build_sites(work / "data", n)
        quarter = sites[: max(1, n // 4)]
        _run_audit(sites[:4], work / "warmup", *more)  # page cache and bytecode, not timed
        cold_q, rss_q = _run_audit(quarter, work / "out-quarter", *more)
        cold_q1, _ = _run_audit(quarter, work / "out-quarter-1job", "--jobs", "1")
        cold, rss_cold = _run_audit(sites, work / "out", *more)
        # Warm runs are cheap: the median of three (a single one is at the mercy of a noisy machine's second).
        warm_runs = [_run_audit(sites, work / "out", *more) for _ in range(3)]
        warm, rss_warm = statistics.median(w for w, _ in warm_runs), max(r for _, r in warm_runs)
        html = work / "out" / "audit.html"
        tiny = work / "tiny.html"
        tiny.write_text("<!DOCTYPE html><title>t</title><p>baseline</p>")
        base_ms = _chromium_ms(tiny, work / "profile")
        base_ms = _chromium_ms(tiny, work / "profile")  # second run: the profile exists, as for the real page
        page_ms = _chromium_ms(html, work / "profile")
        print(
            f"synthetic audit: {n} sites ({len(_templates())} kinds of fixture input, cycled); {os.cpu_count()} cores"
        )
        print(f"  cold {len(quarter):>5} sites  {cold_q:8.2f} s   {cold_q / len(quarter) * 1000:7.1f} ms/site")
        linear = cold / n / (cold_q / len(quarter))
        print(f"  cold {n:>5} sites  {cold:8.2f} s   {cold / n * 1000:7.1f} ms/site   (per-site ratio {linear:.2f})")
        runs = ", ".join(f"{w:.2f}" for w, _ in warm_runs)
        print(f"  warm {n:>5} sites  {warm:8.2f} s   {warm / n * 1000:7.1f} ms/site   (median of {runs})")
        print(f"  cold / warm           {cold / warm:8.1f}×   (issue 15: ≥ 20×)")
        speedup = cold_q1 / cold_q
        print(
            f"  parallel: cold {len(quarter)} sites, 1 job {cold_q1:.2f} s vs default {cold_q:.2f} s ({speedup:.2f}×)"
        )
        print(
            f"  peak RSS, largest process: cold {len(quarter)} sites {rss_q:.0f} MB, cold {n} sites {rss_cold:.0f} MB, "
            f"warm {n} sites {rss_warm:.0f} MB"
        )
        size = html.stat().st_size
        total = sum(p.stat().st_size for p in (work / "out").rglob("*") if p.is_file())
        print(f"  audit.html {size / 1e6:.2f} MB; whole folder {total / 1e6:.1f} MB")
        if page_ms is not None and base_ms is not None:
            ratio = page_ms / base_ms
            print(
                f"  Chromium load+dump: audit.html {page_ms:.0f} ms vs a one-line page {base_ms:.0f} ms ({ratio:.1f}×)"
            )
        else:
            print("  Chromium not installed: no load time")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main_() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fixtures mode: rounds of cold + warm (default 5)")
    parser.add_argument("--scale", type=int, metavar="N", help="a synthetic audit of N sites instead")
    parser.add_argument("--jobs", type=int, help="scale mode: worker processes (default: the audit's own default)")
    options = parser.parse_args()
    if options.scale:
        _scale_mode(options.scale, options.jobs)
    else:
        _fixture_mode(options.repeat)


if __name__ == "__main__":
    main_()
