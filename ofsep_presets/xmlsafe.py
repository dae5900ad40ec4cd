"""The one way the project parses XML: no DTD, no entities, no network.

Scanner exports never need a DTD, so any document type or entity declaration is refused outright (an
external entity could read a local file; a billion-laughs payload could exhaust memory), before lxml sees it.
The search runs on the decoded text when the document is UTF-16 or UTF-32 (by its byte-order mark or, without
one, by how its first `<` is encoded: XML 1.0 appendix F), so the declaration cannot hide between zero bytes.
lxml's settings (no entities, no DTD, no network) stay as the second wall.
"""

from __future__ import annotations

import re

from lxml import etree

from .acquisition import ReadError

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)
_TEXT_DECLARATION = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.I)
# First bytes -> the encoding they announce (XML 1.0, appendix F); UTF-32 before UTF-16 (FF FE 00 00 starts both).
_WIDE = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)


def wide_encoding(data: bytes) -> str | None:
    """The UTF-16/UTF-32 encoding `data` starts in, if any."""
    for start, encoding in _WIDE:
        if data.startswith(start):
            return encoding
    return None


_ENCODING_DECLARATION = re.compile(r"""^(\s*<\?xml[^>]*?encoding\s*=\s*)(["'])[^"']*\2""")


def as_utf8(data: bytes, head: bool = False) -> bytes:
    """`data` in UTF-8 when it is written in UTF-16/UTF-32 (a console or .NET tool saving "Unicode" text: an XML
    print-out, a protocol text), else unchanged. An XML declaration's encoding is rewritten to say UTF-8. With
    `head`, `data` is the first bytes of a file only: a character cut at its end is dropped, not an error."""
    encoding = wide_encoding(data)
    if encoding is None:
        return data
    width = 4 if "32" in encoding else 2
    cut = data[: len(data) // width * width] if head else data
    text = cut.decode(encoding, errors="ignore" if head else "strict").lstrip("\ufeff")
    text = _ENCODING_DECLARATION.sub(lambda m: f"{m.group(1)}{m.group(2)}UTF-8{m.group(2)}", text, count=1)
    return text.encode("utf-8")


def declares_dtd(data: bytes) -> bool:
    """True when a DOCTYPE or ENTITY declaration appears, in whichever of UTF-8/16/32 the document is written."""
    if _DECLARATION.search(data):
        return True
    encoding = wide_encoding(data)
    return bool(encoding) and bool(_TEXT_DECLARATION.search(data.decode(encoding, errors="replace")))


def parse(data: bytes, where: str, huge: bool = False) -> etree._Element:
    """The document's root. Trailing NUL padding (Philips consoles pad ExamCards to a block size: 230 KB of
    zeros after the envelope) is not part of the document and is dropped before parsing."""
    if declares_dtd(data):
        raise ReadError(f"{where}: XML with a DOCTYPE or ENTITY declaration refused (exports never need one)")
    try:
        data = _unpadded(as_utf8(data))
    except UnicodeDecodeError as exc:
        raise ReadError(f"{where}: announces UTF-16/32 text but is not ({exc.reason})") from None
    if declares_dtd(data):
        raise ReadError(f"{where}: XML with a DOCTYPE or ENTITY declaration refused (exports never need one)")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=huge
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ReadError(f"{where}: not well-formed XML ({exc})") from None


def parse_salvaged(data: bytes, where: str, huge: bool = False) -> tuple[etree._Element, str | None]:
    """The document's root and, when it is not well-formed (a file cut short), why: the elements before the break
    are kept (lxml's recovering parser closes what the cut left open), so a reader can take what is whole. The
    same refusals as `parse` (a DTD or entity declaration) apply first."""
    try:
        return parse(data, where, huge), None
    except ReadError as exc:
        if "not well-formed" not in str(exc):
            raise
        problem = str(exc).split(": ", 1)[-1]
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=huge, recover=True
    )
    root = etree.fromstring(_unpadded(as_utf8(data)), parser)
    if root is None:
        raise ReadError(f"{where}: {problem}")
    return root, problem


def _unpadded(data: bytes) -> bytes:
    return data.rstrip(b"\0 \t\r\n")
