"""Hostile inputs of issue 14 at growing sizes: is each reader linear in what the file holds?

For each input kind the same construction is read at n and 4n; the ratio of the two times is printed beside the
ideal (4.0 for linear; 16 would be quadratic, 64 cubic). Ratios, not seconds: the machine's speed cancels out.

    python benchmarks/bench_hostile.py            # every kind
    python benchmarks/bench_hostile.py ge-blank   # one kind
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ofsep_presets.acquisition import ReadError
from ofsep_presets.readers import inspect_path


def ascconv_open(n: int) -> bytes:
    return ("### ASCCONV BEGIN ###\nsKSpace.ucDimension = 0x2\n" + " \n" * n).encode()


def ge_blank(n: int) -> bytes:
    return b'set PSEQ "SPGR"\nset TE "3.2"\nset TR "8.1"\n' + b"\n" * (8 * n)


def philips_line(n: int) -> bytes:
    head = "Philips MRI Protocol Dump\n     InBox (1) |     card (1) |     x\n  Flip angle (deg)      9\n  NSA      "
    return (head + "a = " * n + "\n").encode()


def printxml_nested(n: int) -> bytes:
    level = "<ProtParameter><Label>Unknown</Label><ValueAndUnit>1</ValueAndUnit></ProtParameter>" * 10
    depth = max(1, n // 200)
    return ("<PrintOut>" + f"<Protocol>{level}" * depth + "</Protocol>" * depth + "</PrintOut>").encode()


KINDS: dict[str, tuple[str, Callable[[int], bytes], int]] = {
    "ascconv-open": ("open.pro", ascconv_open, 20_000),
    "ge-blank": ("LxProtocol", ge_blank, 64_000),
    "philips-line": ("sheet.txt", philips_line, 400_000),
    "printxml-nested": ("nested.xml", printxml_nested, 50_000),
}


def timed(folder: Path, name: str, data: bytes) -> float:
    path = folder / name
    path.write_bytes(data)
    start = time.perf_counter()
    with contextlib.suppress(ReadError):  # a refusal is an answer too: its time counts
        inspect_path(path)
    return time.perf_counter() - start


def main(argv: list[str]) -> None:
    chosen = argv or list(KINDS)
    print(f"{'input':<16} {'n':>8} {'t(n) s':>9} {'t(4n) s':>9} {'ratio':>6}  (linear 4, quadratic 16)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for kind in chosen:
            name, build, n = KINDS[kind]
            timed(folder, name, build(n // 16))  # warm imports and caches
            small = min(timed(folder, name, build(n)) for _ in range(3))
            large = min(timed(folder, name, build(4 * n)) for _ in range(3))
            print(f"{kind:<16} {n:>8} {small:>9.3f} {large:>9.3f} {large / small:>6.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
