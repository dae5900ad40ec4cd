"""Every budget a reader works under, in one place: bytes, inflated bytes, loop counts, depth, time.

A scanner export is small and regular; a hostile or damaged one can claim 2**31 diffusion weightings, inflate
1.5 MB into gigabytes or nest a sequence 10,000 deep. Each reader asks this module before it loops, inflates or
reads, so no count, size or depth taken from a file can drive the process past these bounds. The defaults are
far above any real export (measured on the fixtures: the largest protocol is ~1 MB, the largest count a few
hundred); a user with a trusted file past one raises it with the environment variable the message names,
e.g. `OFSEP_PRESETS_LIMIT_READ_BYTES=1073741824`. One mechanism (environment variables) serves every command,
CI job and the audit, which reads many sites in one process.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .acquisition import ReadError
from .errors import OfsepError

ENV_PREFIX = "OFSEP_PRESETS_LIMIT_"
MiB = 2**20


@dataclass(frozen=True)
class Limit:
    name: str
    default: int
    unit: str
    what: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name.upper()


LIMITS: dict[str, Limit] = {
    limit.name: limit
    for limit in (
        Limit("read_bytes", 256 * MiB, "bytes", "bytes of one file read whole (XML, JSON, text, tar, .edx)"),
        Limit("inflate_bytes", 512 * MiB, "bytes", "bytes inflated from one member, stream, record or DICOM"),
        Limit("inflate_total", 16 * 1024 * MiB, "bytes", "bytes inflated from one archive or database in all"),
        Limit(
            "inflate_archive",
            4 * 1024 * MiB,
            "bytes",
            "bytes of one .tar.gz inflated whole (held in memory once while its members are read)",
        ),
        Limit(
            "loop_count",
            100_000,
            "items",
            "a count taken from a file (diffusion weightings, array sizes, slices, values of a parameter table)",
        ),
        Limit("members", 200_000, "members", "members of one archive, rows of one exam database"),
        Limit("elements", 500_000, "elements", "top-level data elements of one DICOM header"),
        Limit("seconds", 300, "seconds", "time spent reading one input file"),
        Limit(
            "pull_seconds",
            600,
            "seconds",
            "time one pull of a study from a PACS (pacs://, dicomweb://) takes in all: headers, bulk values, C-GET",
        ),
        Limit(
            "pull_bulk_bytes",
            256 * MiB,
            "bytes",
            "bulk values (CSA headers, protocols, Philips tables; never pixels) one DICOMweb pull fetches in all",
        ),
    )
}


class LimitError(ReadError):
    """An input went past a budget (exit 2): the message names the limit and the variable that raises it."""


def get(name: str) -> int:
    """The limit in force: the environment variable when set (a positive integer), else the default."""
    limit = LIMITS[name]
    raw = os.environ.get(limit.env)
    if raw is None or raw.strip() == "":
        return limit.default
    try:
        value = int(raw.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise OfsepError(f"{limit.env}={raw!r}: a limit is a positive whole number of {limit.unit}")
    return value


def refusal(name: str, where: object, amount: int | float | None = None) -> LimitError:
    """The error for `where` going past limit `name`, worded for the user (what, the bound, how to raise it)."""
    limit = LIMITS[name]
    past = f"{amount:,} " if isinstance(amount, int) else ""
    return LimitError(
        f"{where}: {past}past the {name} limit ({get(name):,} {limit.unit}: {limit.what}); refused. "
        f"If the file is trusted, raise it with {limit.env}=N"
    )


def too_deep(where: object) -> LimitError:
    """Nesting past Python's recursion limit (a DICOM sequence or JSON object nested 10,000 deep): refused, not a
    crash. Real exports nest a few levels; the bound is the interpreter's, so it is not one to raise."""
    return LimitError(f"{where}: nested deeper than any export (sequences or objects within objects); refused")


def check(name: str, amount: int, where: object) -> int:
    """`amount` when within limit `name`; else LimitError."""
    if amount > get(name):
        raise refusal(name, where, amount)
    return amount


def count(value: object, where: object, name: str = "loop_count") -> int | None:
    """A loop bound taken from a file: a whole number within limit `name`, or None (the caller warns or skips).

    None, not an error: a count past any real export is a value the file cannot state, not a reason to drop the
    rest of the file.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            return None
        value = int(value)
    if not isinstance(value, int) or value < 0 or value > get(name):
        return None
    return value


class Budget:
    """Bytes inflated from one archive or database, counted across its members (limit `inflate_total`)."""

    def __init__(self, where: object, name: str = "inflate_total"):
        self.where, self.name, self.used = where, name, 0

    def spend(self, amount: int) -> None:
        self.used += amount
        if self.used > get(self.name):
            raise refusal(self.name, self.where, self.used)


def read_capped(handle, where: object, name: str = "read_bytes") -> bytes:
    """Everything from a binary stream, refusing past limit `name` (reads at most the limit plus one byte)."""
    cap = get(name)
    data = handle.read(cap + 1)
    if len(data) > cap:
        raise refusal(name, where)
    return data


def read_file(path, name: str = "read_bytes") -> bytes:
    """A whole file, refused past limit `name` before more than the limit is read."""
    with open(path, "rb") as handle:
        return read_capped(handle, path, name)


def inflated_size(data, where: object, wbits: int = -15, name: str = "inflate_bytes") -> int:
    """How many bytes a DEFLATE stream inflates to, counted in chunks and never held whole; refused past `name`."""
    import zlib

    cap = get(name)
    inflater = zlib.decompressobj(wbits)
    total = 0
    view = memoryview(data)
    step = 1 << 20
    for start in range(0, len(view), step):
        chunk = view[start : start + step]
        while chunk:
            try:
                out = inflater.decompress(chunk, 1 << 22)
            except zlib.error:
                return total  # damaged: the reader's own parser reports it
            total += len(out)
            if total > cap:
                raise refusal(name, where)
            chunk = inflater.unconsumed_tail
    return total


class Clock:
    """A wall-clock budget (limit `name`, counted from now) that its user checks between steps, in any thread.

    For network reads: a socket timeout bounds each read, not their sum, so a server that trickles a byte at a
    time never times out; and deadline()'s SIGALRM reaches the main thread only. `left()` also bounds each wait.
    """

    def __init__(self, where: object, name: str = "pull_seconds"):
        self.where, self.name = where, name
        self.end = time.monotonic() + get(name)

    def left(self) -> float:
        """Seconds left (0 or less: passed)."""
        return self.end - time.monotonic()

    def check(self) -> float:
        """The seconds left; LimitError (limit `name`) once the budget has passed."""
        left = self.left()
        if left <= 0:
            raise refusal(self.name, self.where)
        return left


_local = threading.local()


@contextmanager
def deadline(where: object, name: str = "seconds") -> Iterator[None]:
    """Bound the time spent reading one input file (limit `name`: `seconds`, or `pull_seconds` for a pull).

    A backstop, not the fix: every reader is linear in its input, so a real file is read in a fraction of the
    limit. Armed with SIGALRM where the platform and thread allow it (the main thread of a process); nested
    deadlines keep the outer one, so a folder's files are each timed by the innermost caller that arms.
    """
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or getattr(_local, "armed", False):
        yield
        return
    seconds = get(name)

    def expire(signum, frame):
        raise refusal(name, where)

    previous = signal.signal(signal.SIGALRM, expire)
    _local.armed = True
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _local.armed = False


def describe() -> str:
    """The limits in force, one line each, for `--help` and the README."""
    return "\n".join(f"  {lim.env:<38} {get(lim.name):>14,} {lim.unit}: {lim.what}" for lim in LIMITS.values())
