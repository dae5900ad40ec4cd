"""`listen` under load: N instances over K concurrent associations (each its own storescu process), side by side
with `check` of the same folder on disk.

Prints instances/s received, the listener's peak resident memory, stored = sent, and the time of the folder
check of the same instances beside the time from the last instance sent to the study's report.

    python benchmarks/bench_listen.py                 # 20,000 instances over 4 associations
    python benchmarks/bench_listen.py --instances 4000 --senders 2

Instances are the Siemens fixture series' first file with new SOP Instance UIDs and no pixel data (a check reads
headers only), written under benchmarks/out/ (not committed). dcmtk's storescu is used when installed
(Debian `dcmtk`), pynetdicom's otherwise.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pydicom

ROOT = Path(__file__).resolve().parents[1]
SERIES = ROOT.parent / "shared/fixtures/dicom/Siemens/VE11_PD_T2_tse_sag_1.8mm"
OUT = ROOT / "benchmarks/out/listen"


def write(folder: Path, first: int, count: int) -> None:
    base = pydicom.dcmread(sorted(SERIES.glob("*.dcm"))[0])
    del base.PixelData
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(first, first + count):
        base.SOPInstanceUID = base.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.{i}"
        base.InstanceNumber = i
        base.save_as(folder / f"{i:06d}.dcm", enforce_file_format=True)


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instances", type=int, default=20_000)
    parser.add_argument("--senders", type=int, default=4)
    args = parser.parse_args()
    shutil.rmtree(OUT, ignore_errors=True)
    per = args.instances // args.senders
    folders = [OUT / f"scu{k}" for k in range(args.senders)]
    for k, folder in enumerate(folders):
        write(folder, 1 + k * per, per)
    total = per * args.senders
    node = subprocess.Popen(
        [sys.executable, "-m", "ofsep_presets", "listen", "--out", str(OUT / "node"), "--port", "0", "--settle", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    threading.Thread(target=lambda: [lines.append(x) for x in node.stdout], daemon=True).start()
    while not any("listening as" in x for x in lines):
        time.sleep(0.1)
    port = next(x for x in lines if "listening as" in x).rsplit(":", 1)[1].split(";")[0]
    dcmtk = shutil.which("storescu", path="/usr/bin")
    commands = [
        [dcmtk, "-aet", f"SCU{k}", "-aec", "OFSEP-PRESETS", "127.0.0.1", port, "+sd", str(folder)]
        if dcmtk
        else [sys.executable, "-m", "pynetdicom", "storescu", "-aet", f"SCU{k}", "127.0.0.1", port, str(folder)]
        for k, folder in enumerate(folders)
    ]
    start = time.perf_counter()
    senders = [subprocess.Popen(c, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in commands]
    for s in senders:
        s.wait()
    sent = time.perf_counter()
    while not any(f"{total} instances —" in x for x in lines):
        time.sleep(0.1)
    reported = time.perf_counter()
    rss = peak_rss_kb(node.pid)
    node.terminate()
    node.wait()
    stored = len(list((OUT / "node/spool").rglob("*.dcm")))
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "ofsep_presets", "check", str(OUT / "node/spool"), "--quiet"],
        stdout=subprocess.DEVNULL,
        check=False,
    )
    folder_check = time.perf_counter() - t0
    print(f"sent {total} instances over {args.senders} associations ({'dcmtk' if dcmtk else 'pynetdicom'} storescu)")
    print(f"stored {stored} (lost {total - stored})")
    print(f"receive: {sent - start:.1f} s = {total / (sent - start):.0f} instances/s")
    print(
        f"last instance → report: {reported - sent:.1f} s (includes the 1 s settle); "
        f"`check` of the same folder: {folder_check:.1f} s (ratio {(reported - sent) / folder_check:.2f})"
    )
    print(f"listener peak RSS: {rss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
