"""`check`/`compare --out FILE`: replace an existing FILE only when it is provably one of our reports.

"Contains the text ofsep-presets" is not proof: a user's shell script that calls the tool contains it too. Each
report format carries a fixed, machine-readable mark in a fixed place, and only that exact structure counts:

  json   a JSON object whose `generator` is "ofsep-presets VERSION"
  html   starts with <!DOCTYPE html>; <meta name="generator" content="ofsep-presets VERSION"> inside <head>
  junit  XML whose root is <testsuites name="ofsep-presets check ...">
  csv    the first line is exactly one of our CSV headers
  table  a check table (first line "SPEC VERSION · ... · ...", a "Result: " line) or a compare table
         ("A: " and "B: " lines first, "Same." or "Different." last)

Anything that is not a regular file (a folder, a FIFO, /dev/zero, a socket, a symbolic link) is refused before it
is opened, so nothing reads forever or blocks on a pipe.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

from lxml import etree
from lxml import html as lxml_html

from .errors import OfsepError

# Our reports are kilobytes to a few megabytes; a bigger file is not one of them (and is not read whole).
MAX_REPORT_BYTES = 64 * 2**20
GENERATOR = re.compile(r"ofsep-presets \d+(\.\d+)*\S*")
CSV_HEADERS = (
    "sequence,required,sequence_status,matched,param,rule,observed,status,severity,source,vendor_label,"
    "vendor_value,provenance",
    "key,a,b,param,a_value,b_value,a_console,b_console",  # compare before the kind/caveat columns
    "key,a,b,param,a_value,b_value,a_console,b_console,kind,caveat",
)
_CHECK_TABLE_HEAD = re.compile(r"[^\n·]+ · [^\n]+ · [^\n]+")


class OutputRefused(OfsepError):
    """--out names something we must not replace or cannot write: exit 2, nothing written."""

    exit_code = 2


def check_target(target: Path) -> None:
    """Raise OutputRefused unless `target` is new or a regular file holding one of our reports."""
    try:
        info = os.lstat(target)
    except FileNotFoundError:
        return  # new (write_atomic makes its folder)
    except OSError as exc:
        raise OutputRefused(f"--out {target}: cannot be examined ({exc.strerror}); choose another path") from None
    if stat.S_ISLNK(info.st_mode):
        raise OutputRefused(f"--out {target} is a symbolic link; give the real path of the report or another path")
    if stat.S_ISDIR(info.st_mode):
        raise OutputRefused(f"--out {target} is a folder; --out takes a file name")
    if not stat.S_ISREG(info.st_mode):
        raise OutputRefused(f"--out {target} is not a regular file (a device, pipe or socket); choose another path")
    if info.st_size > MAX_REPORT_BYTES or not is_our_report(_read(target)):
        raise OutputRefused(
            f"--out {target} exists and is not an ofsep-presets report; nothing was written. Use another path."
        )


def _read(target: Path) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags)
    except OSError as exc:
        raise OutputRefused(f"--out {target}: cannot be read ({exc.strerror}); choose another path") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped since lstat
            return b""
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(MAX_REPORT_BYTES + 1)
    finally:
        os.close(fd)


def is_our_report(data: bytes) -> bool:
    """True when `data` has the exact mark of one of our report formats (see the module docstring)."""
    if len(data) > MAX_REPORT_BYTES:
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(test(text) for test in (_json, _html, _junit, _csv, _table))


def _json(text: str) -> bool:
    if not text.lstrip().startswith("{"):
        return False
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return False
    return (
        isinstance(doc, dict) and isinstance(doc.get("generator"), str) and bool(GENERATOR.fullmatch(doc["generator"]))
    )


def _html(text: str) -> bool:
    if text.lstrip()[:15].lower() != "<!doctype html>":
        return False
    try:
        root = lxml_html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        return False
    metas = root.xpath("/html/head/meta[@name='generator']/@content")
    return len(metas) == 1 and bool(GENERATOR.fullmatch(metas[0]))


def _junit(text: str) -> bool:
    if not text.startswith("<?xml"):
        return False
    from .xmlsafe import parse

    try:
        root = parse(text.encode("utf-8"), "--out")
    except OfsepError:
        return False
    return root.tag == "testsuites" and (root.get("name") or "").startswith("ofsep-presets check ")


def _csv(text: str) -> bool:
    return text.split("\n", 1)[0].rstrip("\r") in CSV_HEADERS


def _table(text: str) -> bool:
    lines = text.rstrip("\n").split("\n")
    if len(lines) < 2:
        return False
    if lines[0].startswith("A: ") and lines[1].startswith("B: "):
        return lines[-1] in ("Same.", "Different.")
    return bool(_CHECK_TABLE_HEAD.fullmatch(lines[0])) and any(line.startswith("Result: ") for line in lines)
