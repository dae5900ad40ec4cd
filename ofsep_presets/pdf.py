"""PDF checklists through WeasyPrint, reproducibly and without touching the network.

- Byte-stable: fontTools (WeasyPrint's fallback font subsetter) stamps fonts with the current time unless
  SOURCE_DATE_EPOCH is set, so it is pinned; WeasyPrint's own PDF needs no timestamp.
- Fast: WeasyPrint subsets fonts with HarfBuzz when libharfbuzz-subset is installed (Debian:
  libharfbuzz-subset0), several times faster than its fontTools fallback; layout cost grows with the number of
  boxes, which is why the checklist template is flat.
- Self-contained: WeasyPrint may fetch only data: URLs; a document can make it read no file and no URL.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor


def _pin_time() -> None:
    os.environ.setdefault("SOURCE_DATE_EPOCH", "0")


def _fetcher():
    """Only data: URLs (WeasyPrint >= 67 takes a URLFetcher object, older ones a function)."""
    from weasyprint import urls

    if hasattr(urls, "URLFetcher"):
        return urls.URLFetcher(allowed_protocols={"data"})

    def fetch(url: str, *args, **kwargs):
        if not url.startswith("data:"):
            raise ValueError(f"refused to fetch {url!r}: rendered documents are self-contained")
        return urls.default_url_fetcher(url, *args, **kwargs)

    return fetch


def html_to_pdf(html: str) -> bytes:
    """One PDF from one self-contained HTML document."""
    import weasyprint

    _pin_time()
    return weasyprint.HTML(string=html, url_fetcher=_fetcher()).write_pdf()


class _Inline(Executor):
    """Runs jobs on submit: the one-core path, with the same interface as the pool."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # delivered through the future like the pool does
            future.set_exception(exc)
        return future


def executor(workers: int) -> Executor:
    """A process pool on several cores (PDF layout is CPU-bound), else run inline."""
    if workers <= 1:
        return _Inline()
    return ProcessPoolExecutor(max_workers=workers, initializer=_pin_time)
