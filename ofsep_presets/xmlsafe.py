"""The one way the project parses XML: no DTD, no entities, no network.

Scanner exports never need a DTD, so any document type or entity declaration is refused outright (an
external entity could read a local file; a billion-laughs payload could exhaust memory), before lxml sees it.
"""

from __future__ import annotations

import re

from lxml import etree

from .acquisition import ReadError

_DECLARATION = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.I)


def parse(data: bytes, where: str, huge: bool = False) -> etree._Element:
    """The document's root. Trailing NUL padding (Philips consoles pad ExamCards to a block size: 230 KB of
    zeros after the envelope) is not part of the document and is dropped before parsing."""
    data = _unpadded(data)
    if _DECLARATION.search(data):
        raise ReadError(f"{where}: XML with a DOCTYPE or ENTITY declaration refused (exports never need one)")
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=huge
    )
    try:
        return etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ReadError(f"{where}: not well-formed XML ({exc})") from None


def _unpadded(data: bytes) -> bytes:
    return data.rstrip(b"\0 \t\r\n")
