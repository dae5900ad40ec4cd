"""DICOM scan benchmark: `inspect` against a naive pydicom loop, dcm2niix (sidecars only, when installed: Debian
`dcm2niix`), the raw-read floor (the first 16 KB of every file) and dicompare's loader (when installed).

    apt-get install dcm2niix        # once, to have the C tool people already use beside us
    python benchmarks/bench_inspect.py [--files 20000] [--folder DIR] [--no-dicompare] [--fast-off]

Builds (once, in --folder) a synthetic exam from the fixture series: copies of real headers with new UIDs, so
every copy is its own instance of a real series; pixel data is dropped to keep the exam small on disk (neither
reader reads pixels). Prints files/s of each and the ratio to the naive loop, measured in the same run, with
the CPU seconds each used (this process and its children: on a loaded machine wall time waits for a core, CPU
time says what the work cost). `--fast-off` adds `inspect` with the fast header walk off (every file through
pydicom), the reference the fast path is tested against. The package's import has its own row (once per
process; ratios are given without and with it).
"""

from __future__ import annotations

import argparse
import gzip
import io
import resource
import sys
import time
from pathlib import Path

import pydicom
from pydicom.uid import generate_uid

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "dicom"
TEMPLATES = [
    "Siemens/XA30_classic_DWI_dir80_AP",
    "Siemens/VE11_PD_T2_tse_sag_1.8mm",
    "Siemens/XA30_classic_T1w_MPRAGE_tfl3d_2mm",
    "Philips/Ingenia_classic_DTI_Biobank_2mm_full",
    "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full",
    "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm",
    "Canon/Galan3T_V6.0_classic_DTI_PA-ortho",
]


def _load(path: Path):
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return pydicom.dcmread(io.BytesIO(raw), stop_before_pixels=True)


def build(folder: Path, count: int) -> list[Path]:
    files = sorted(folder.rglob("*.dcm"))
    if len(files) >= count:
        return files[:count]
    folder.mkdir(parents=True, exist_ok=True)
    templates = []
    for name in TEMPLATES:
        series = sorted(p for p in (FIXTURES / name).iterdir() if p.is_file() and p.suffix != ".json")[:4]
        templates.append([_load(p) for p in series])
    per_series = 400
    written, series_index = [], 0
    while len(written) < count:
        group = templates[series_index % len(templates)]
        series_uid = generate_uid()
        target = folder / f"series{series_index:04d}"
        target.mkdir(exist_ok=True)
        for i in range(min(per_series, count - len(written))):
            ds = group[i % len(group)].copy()
            ds.SeriesInstanceUID = series_uid
            ds.SOPInstanceUID = generate_uid()
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.InstanceNumber = i + 1
            path = target / f"{i:05d}.dcm"
            try:
                ds.save_as(path, enforce_file_format=True)  # pydicom 3
            except TypeError:
                ds.save_as(path, write_like_original=False)  # pydicom 2 (dicompare pins it)
            written.append(path)
        series_index += 1
    return written


def naive(files: list[Path]) -> int:
    for path in files:
        pydicom.dcmread(path, stop_before_pixels=True)
    return len(files)


def imported() -> None:
    """The readers package imported (what `inspect` needs before it reads a file)."""
    import ofsep_presets.readers  # noqa: F401


def ours(folder: Path) -> int:
    from ofsep_presets.readers import inspect_path

    return sum(len(i.acquisitions) for i in inspect_path(folder))


def ours_fast_off(folder: Path) -> int:
    from ofsep_presets.readers import dicom

    dicom.FAST = False
    try:
        return ours(folder)
    finally:
        dicom.FAST = True


def cpu() -> float:
    """CPU seconds used so far by this process and its finished children (pool workers, dcm2niix)."""
    mine, theirs = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + theirs.ru_utime + theirs.ru_stime


def checked(folder: Path) -> str:
    """`check` end to end: read, match, evaluate, and write the JSON and HTML reports."""
    from ofsep_presets.check import check
    from ofsep_presets.readers import inspect_path
    from ofsep_presets.report import write
    from ofsep_presets.spec import load_spec

    report = check(inspect_path(folder), load_spec())
    write(report, "json")
    write(report, "html")
    return report.status


def floor(files: list[Path]) -> int:
    """The I/O floor: read the first 16 KB of every file (where every header a check needs sits)."""
    for path in files:
        with open(path, "rb") as handle:
            handle.read(16384)
    return len(files)


def dcm2niix(folder: Path) -> bool:
    """dcm2niix writing BIDS sidecars only (`-b o`, no NIfTI), one core as it runs by default."""
    import shutil
    import subprocess
    import tempfile

    tool = shutil.which("dcm2niix")
    if tool is None:
        return False
    with tempfile.TemporaryDirectory() as out:
        subprocess.run([tool, "-b", "o", "-z", "n", "-o", out, str(folder)], capture_output=True, check=False)
    return True


def dicompare_loader(folder: Path):
    try:
        import dicompare  # noqa: F401
    except ImportError:
        return None
    from dicompare import load_dicom_session

    return load_dicom_session(session_dir=str(folder), parallel_workers=2)  # both cores, as ours uses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=20000)
    parser.add_argument("--folder", type=Path, default=Path(__file__).parent / "out" / "synthetic-exam")
    parser.add_argument("--no-dicompare", action="store_true", help="skip dicompare (it takes minutes)")
    parser.add_argument("--fast-off", action="store_true", help="also inspect with the fast header walk off")
    args = parser.parse_args()
    files = build(args.folder, args.files)
    print(f"{len(files)} files in {args.folder}")
    rows = []

    def run(name, job):
        start, used = time.perf_counter(), cpu()
        outcome = job()
        rows.append((name(outcome) if callable(name) else name, time.perf_counter() - start, cpu() - used))
        return outcome

    run("naive loop: dcmread(stop_before_pixels=True)", lambda: naive(files))
    # The package's import is timed on its own row: a cost once per process whatever the exam's size, and here it
    # includes compiling every module from source when bytecode is not written (PYTHONDONTWRITEBYTECODE).
    run(f"import ofsep_presets.readers (once{', no .pyc' if sys.dont_write_bytecode else ''})", imported)
    import_s = rows[-1][1]
    run(lambda n: f"ofsep-presets inspect ({n} acquisitions)", lambda: ours(args.folder))
    inspect_s = rows[-1][1]
    run(lambda status: f"ofsep-presets check, JSON + HTML ({status})", lambda: checked(args.folder))
    check_s = rows[-1][1]
    if args.fast_off:
        run(lambda n: f"inspect, fast walk off ({n} acquisitions)", lambda: ours_fast_off(args.folder))
    dcm2niix_s = None
    if run("dcm2niix -b o (sidecars only)", lambda: dcm2niix(args.folder)):
        dcm2niix_s = rows[-1][1]
    else:
        rows.pop()
        print("dcm2niix not installed: `apt-get install dcm2niix` to compare with it")
    run("raw-read floor: first 16 KB of every file", lambda: floor(files))
    floor_s = rows[-1][1]
    dicompare = "dicompare load_dicom_session (2 workers)"
    if not args.no_dicompare and run(dicompare, lambda: dicompare_loader(args.folder)) is None:
        rows.pop()
        print("dicompare not installed: `pip install dicompare` to compare with it")
    base = rows[0][1]
    print(f"{'run':48s} {'seconds':>8s} {'CPU s':>7s} {'files/s':>9s} {'vs naive':>9s}")
    for name, seconds, used in rows:
        print(f"{name:48s} {seconds:8.2f} {used:7.2f} {len(files) / seconds:9.0f} {base / seconds:8.2f}x")
    print(f"check / inspect: {check_s / inspect_s:.2f}")
    with_import = inspect_s + import_s
    if dcm2niix_s is not None:
        print(
            f"inspect / dcm2niix: {inspect_s / dcm2niix_s:.2f} (below 1: faster); "
            f"with the import: {with_import / dcm2niix_s:.2f}"
        )
    print(f"inspect / raw-read floor: {inspect_s / floor_s:.1f}; with the import: {with_import / floor_s:.1f}")


if __name__ == "__main__":
    main()
