"""What could not be read, said once per reason and counted: the warnings of one inspection, summarised.

A folder of 20,000 files with 300 damaged ones gives 300 warnings that differ only by the file named first;
a reader says "<file>: <why>". The summary groups those by their reason and counts them, so a user sees each
kind of problem once, how often it happened and an example file, and never a wall of near-identical lines.
"""

from __future__ import annotations

import re

_SUBJECT = re.compile(r"^(?P<subject>[^\s:]+(?:/[^:]*)?): (?P<reason>.+)$", re.S)


def _split(warning: str) -> tuple[str | None, str]:
    """(file, reason) where the warning starts with a path, else (None, the whole warning)."""
    match = _SUBJECT.match(warning)
    if match and ("/" in match["subject"] or "." in match["subject"]):
        subject = match["subject"]
        return subject, match["reason"].replace(subject, "…")
    return None, warning


def summarise(warnings: list[str]) -> list[str]:
    """One line per distinct reason, in first-seen order; a reason shared by several files is counted."""
    groups: dict[str, list[str | None]] = {}
    for warning in warnings:
        subject, reason = _split(warning)
        groups.setdefault(reason, []).append(subject)
    lines = []
    for reason, subjects in groups.items():
        named = [s for s in subjects if s]
        if len(subjects) == 1:
            lines.append(f"{named[0]}: {reason}" if named else reason)
        elif named:
            lines.append(f"{len(subjects)} files: {reason} (first: {named[0]})")
        else:
            lines.append(f"{reason} (×{len(subjects)})")
    return lines
