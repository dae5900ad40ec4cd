"""Text every output format can hold: UTF-8 encodable, XML 1.0 legal, strict JSON.

File names are bytes: one that is not UTF-8 reaches Python as lone surrogates ("surrogateescape"), which no
UTF-8 file can store, and a file name may hold control characters that XML 1.0 forbids (a JUnit file with one is
not XML). A DICOM value of 1e999 is infinity, which strict JSON cannot write. Each report writer passes its text
through here once, so a hostile name or value degrades to a visible escape instead of a traceback or a broken file.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
# XML 1.0 allows tab, newline, carriage return and U+0020 upwards, minus surrogates and U+FFFE/U+FFFF.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, carried by surrogateescape: show the byte
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x20:
        return f"\\x{code:02x}"
    return "\ufffd"


def printable(text: str, xml: bool = False) -> str:
    """`text` with undecodable file-name bytes shown as \\xNN (and, for XML, forbidden characters likewise)."""
    if text.isascii() and not xml:
        return text
    return (_XML_ILLEGAL if xml else _SURROGATE).sub(_escape, text)


def shortened(text: str, size: int = 120) -> str:
    """`text` cut to `size` characters, ending in "…" when cut: a name taken from an input (a tar member's name
    may be megabytes long) quoted in a warning, which every report repeats, stays a line, not the input itself."""
    return text if len(text) <= size else text[: size - 1] + "…"


def clean(value: Any, xml: bool = False) -> Any:
    """`printable` applied to every string (keys too) of a JSON-like document."""
    if isinstance(value, str):
        return printable(value, xml)
    if isinstance(value, dict):
        return {clean(k, xml): clean(v, xml) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v, xml) for v in value]
    return value


def finite(value: Any, where: str = "", found: list[str] | None = None) -> Any:
    """Every infinite or NaN float of a JSON-like document replaced by None; `found` collects where they were."""
    if isinstance(value, float) and not math.isfinite(value):
        if found is not None:
            found.append(where or "value")
        return None
    if isinstance(value, dict):
        return {k: finite(v, f"{where}.{k}" if where else str(k), found) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v, f"{where}[{i}]", found) for i, v in enumerate(value)]
    return value


def strict_json(doc: Any, indent: int | None = 2, warnings_key: str | None = "warnings") -> str:
    """Strict JSON text of `doc` (RFC 8259: no Infinity or NaN; always UTF-8 encodable).

    A non-finite number becomes null, and when `doc` is an object with a `warnings_key` list, a warning naming
    where it was is added, so a reader knows the null stands for an absurd value, not a missing one.
    """
    found: list[str] = []
    doc = finite(clean(doc), found=found)
    if found and isinstance(doc, dict) and warnings_key and isinstance(doc.get(warnings_key), list):
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        doc[warnings_key] = [*doc[warnings_key], f"not a finite number, written as null: {shown}"]
    return json.dumps(doc, indent=indent, ensure_ascii=False, allow_nan=False)
