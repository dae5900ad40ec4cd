"""Where an audit's per-site checks run: in this process, on the local cores, or on a Dask cluster.

Every executor has one method, `map(fn, items)`: it yields `fn(item)` for each item *in the order given*, while
keeping only a bounded window of items in flight, so results are written as they come and no more than a few
sites' documents are ever held at once, whatever the number of sites. `fn` must be a module-level function of
plain, picklable arguments (a worker process or a Dask worker imports it by name).

- `serial`: in this process (one site, or `--jobs 1`);
- `local`: a `concurrent.futures.ProcessPoolExecutor` of `--jobs` processes (default: the machine's cores);
- `dask://host:port`: a running `dask.distributed` scheduler (install the `dask` extra). Its workers must see the
  site folders under the same paths (shared storage) and have ofsep-presets installed.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import Any

from .errors import OfsepError


class ExecutorError(OfsepError):
    """The executor named cannot be used (exit 2)."""


class Serial:
    name = "serial"

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        return map(fn, items)

    def __enter__(self) -> Serial:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        return None


class _Windowed:
    """Submit at most `window` items ahead of the one being yielded."""

    window = 8

    def submit(self, fn: Callable[[Any], Any], item: Any) -> Any:
        raise NotImplementedError

    def result(self, fn: Callable[[Any], Any], item: Any, future: Any) -> Any:
        raise NotImplementedError

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        pending: deque[tuple[Any, Any]] = deque()
        source = iter(items)
        for item in source:
            pending.append((item, self.submit(fn, item)))
            if len(pending) >= self.window:
                break
        while pending:
            item, future = pending.popleft()
            for more in source:  # refill before waiting, so the workers never idle on our writing
                pending.append((more, self.submit(fn, more)))
                break
            result, restarted = self.result(fn, item, future)
            if restarted:  # the pool was replaced: what was in flight in the old one goes again
                pending = deque((i, self.submit(fn, i)) for i, _ in pending)
            yield result


def died(item: Any) -> dict[str, Any]:
    """The result of a site whose check killed its worker process (a signal, the kernel's out-of-memory killer)."""
    return {"report": None, "error": "the worker process checking this site died (killed, or out of memory)"}


class Local(_Windowed):
    name = "local"

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.window = 4 * jobs
        self.pool: ProcessPoolExecutor | None = None

    def submit(self, fn: Callable[[Any], Any], item: Any) -> Future[Any]:
        assert self.pool is not None
        return self.pool.submit(fn, item)

    def result(self, fn: Callable[[Any], Any], item: Any, future: Future[Any]) -> tuple[Any, bool]:
        """The item's result; when a worker died, the pool is replaced and the item tried once alone, so the
        site that kills a worker is named and the innocent ones that shared the pool are checked again."""
        try:
            return future.result(), False
        except BrokenProcessPool:
            self._restart()
            try:
                return self.pool.submit(fn, item).result(), True  # type: ignore[union-attr]
            except BrokenProcessPool:
                self._restart()
                return died(item), True

    def _restart(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = ProcessPoolExecutor(max_workers=self.jobs)

    def __enter__(self) -> Local:
        self.pool = ProcessPoolExecutor(max_workers=self.jobs)
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


class Dask(_Windowed):
    name = "dask"

    def __init__(self, address: str) -> None:
        self.address = address
        self.client: Any = None

    def submit(self, fn: Callable[[Any], Any], item: Any) -> Any:
        # pure=False: the same site checked twice (files changed in between) is two tasks, not one cached result
        return self.client.submit(fn, item, pure=False)

    def result(self, fn: Callable[[Any], Any], item: Any, future: Any) -> tuple[Any, bool]:
        try:
            return future.result(), False
        except Exception:  # noqa: BLE001 - e.g. KilledWorker: Dask retried the site and its workers kept dying
            return died(item), False

    def __enter__(self) -> Dask:
        try:
            from distributed import Client
        except ImportError:
            raise ExecutorError(
                "--executor dask:// needs the 'distributed' package: pip install 'ofsep-presets[dask]'"
            ) from None
        try:
            self.client = Client(self.address, timeout="10s", set_as_default=False)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(f"cannot reach the Dask scheduler at {self.address} ({exc}); is it running?") from None
        workers = self.client.scheduler_info().get("workers", {})
        self.window = max(8, 4 * sum(w.get("nthreads", 1) for w in workers.values()))
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        if self.client is not None:
            self.client.close()


def executor(spec: str | None, jobs: int | None, tasks: int) -> Serial | Local | Dask:
    """The executor `--executor` names (None: the local cores), for `tasks` sites to check."""
    if spec is not None and spec.startswith("dask://"):
        return Dask("tcp://" + spec.removeprefix("dask://"))
    if spec not in (None, "local", "serial"):
        raise ExecutorError(f"unknown executor {spec!r}: use local, serial or dask://HOST:PORT")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    jobs = 1 if spec == "serial" else jobs or cores
    if jobs <= 1 or tasks <= 1:
        return Serial()
    return Local(min(jobs, tasks))
