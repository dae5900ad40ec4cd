"""PDF checklists through WeasyPrint, reproducibly and without touching the network.

- Byte-stable: fontTools (WeasyPrint's fallback font subsetter) stamps fonts with the current time unless
  SOURCE_DATE_EPOCH is set, so it is pinned; WeasyPrint's own PDF needs no timestamp.
- Fast: WeasyPrint subsets fonts with HarfBuzz when libharfbuzz-subset is installed (Debian:
  libharfbuzz-subset0), several times faster than its fontTools fallback; layout cost grows with the number of
  boxes, which is why the checklist template is flat.
- Self-contained: WeasyPrint may fetch only data: URLs; a document can make it read no file and no URL.
- Shared work: every checklist carries the same stylesheet and the same fonts. Each process keeps one font
  configuration (its Pango font map keeps the glyph metrics it has measured) and parses each distinct `<style>`
  block once, handing it to WeasyPrint as a parsed stylesheet: a PDF costs a quarter less CPU, byte for byte the
  same PDF (a stylesheet handed in is an author stylesheet, as the document's own `<style>` is, in the same order).
"""

from __future__ import annotations

import gc
import os
import re
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from functools import cache
from typing import Any

# Set to False to lay out every PDF from scratch (the benchmark's baseline: benchmarks/bench_render.py).
SHARE_LAYOUT_STATE = True
# A plain <style> element (no attributes: a media query or type would change what it applies to).
_STYLE = re.compile(r"<style>(.*?)</style>", re.S | re.I)


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


@cache
def _font_config() -> Any:
    """This process's one font configuration (fontconfig set up, fonts measured once, not once per PDF)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@cache
def _stylesheet(text: str) -> Any:
    """A `<style>` block parsed once per process (every checklist carries the same one)."""
    import weasyprint

    return weasyprint.CSS(string=text, font_config=_font_config(), url_fetcher=_fetcher())


def html_to_pdf(html: str) -> bytes:
    """One PDF from one self-contained HTML document."""
    import weasyprint

    _pin_time()
    if not SHARE_LAYOUT_STATE:
        return weasyprint.HTML(string=html, url_fetcher=_fetcher()).write_pdf()
    styles = _STYLE.findall(html)
    # The cycle collector paused while one PDF is laid out: WeasyPrint's boxes are many short-lived objects the
    # collector would walk again and again (5-12 % of a checklist's CPU); it runs again once the PDF is made.
    enabled = gc.isenabled()
    gc.disable()
    try:
        document = weasyprint.HTML(string=_STYLE.sub("", html) if styles else html, url_fetcher=_fetcher())
        return document.write_pdf(font_config=_font_config(), stylesheets=[_stylesheet(text) for text in styles])
    finally:
        if enabled:
            gc.enable()


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
    """A pool of `workers` processes (PDF layout is CPU-bound), or inline for none.

    WeasyPrint is imported here first: forked workers start with it loaded (0.4 s each otherwise)."""
    if workers < 1:
        return _Inline()
    import weasyprint  # noqa: F401 - loaded once, before the workers fork

    return ProcessPoolExecutor(max_workers=workers, initializer=_pin_time)
