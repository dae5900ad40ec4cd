"""Shareable reports (`check`/`compare --shareable`): no input path, no file name, no free text.

PACS exports are often named after the patient, and DICOM file names can embed the SOP Instance UID (scanner
serial, acquisition date and time). A shareable report keeps every verdict, value and rule, and replaces:

- each input (path or folder) by "input N", in the order given on the command line;
- each file or folder name found under the inputs, wherever a reader quoted it (provenance, warnings), by
  "file", and so each member name of a .zip, .tar or .tar.gz among them, whole and by its folder parts (PACS
  exports name members by SOP Instance UID under a folder named after the patient); any other absolute path by
  "[path]";
- the name of each acquisition read from patient data (DICOM, BIDS) by "series N" (its DICOM/BIDS
  SeriesNumber, or its rank when there is none), and its study/session (`program`) by nothing. The series
  description and protocol name are operator-editable text that DICOM PS3.15's basic confidentiality profile
  removes, so they are not kept. Acquisitions of protocol exports (.exar1, ExamCard, GE protocol tar,
  printouts) keep their names: those are protocol definitions, with no patient in them.

Matching and verdicts run on the real inputs first; only the finished report is rewritten, so a shareable
report says exactly what the normal one says. `Redactor` is the reusable part (`audit` can apply it per site).
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath
from typing import Any

from .acquisition import Acquisition, Inspection
from .readers import archive
from .spec import Spec
from .textsafe import shortened

# Formats whose acquisitions are one patient's series (their names, files and folders come from a PACS).
PATIENT_FORMATS = frozenset({"dicom", "bids-json"})
MAX_NAMES = 200_000  # file names collected under the inputs (a name not collected still falls to the path rule)
_ABSOLUTE_PATH = re.compile(r"(?<![\w.\]])(?:[A-Za-z]:)?[/\\](?:[^\s/\\'\"(),;:]+[/\\]?)+")
# Fields of the report model that hold our own words (sequence ids, rules, spec source ids), never an input's.
STRUCTURAL = frozenset(
    {"id", "param", "rule", "status", "severity", "exam", "label", "source", "op", "sequence", "vendor", "formats"}
)
_FILE_LIKE = re.compile(r".*([._\d]|.{8,}).*")
_NUMBER = re.compile(r"\d{1,8}")


class Redactor:
    """Rewrites the strings and acquisitions of a finished report so nothing identifies its inputs."""

    def __init__(self, inspections: Iterable[Inspection], paths: Iterable[str | Path]):
        self.acquisitions: dict[int, str] = {}
        self.inputs: list[str] = []
        replacements: dict[str, str] = {}
        for number, raw in enumerate(paths, 1):
            label = f"input {number}"
            self.inputs.append(label)
            path = Path(raw)
            for form in {str(raw), str(path), os.path.abspath(path), str(path.resolve())}:
                replacements[form] = label
            # The names given on the command line (users name folders after patients), and every name under them
            # that looks like a file's (an extension, a digit, an underscore, or long): not words like "anat".
            for name in {path.name, path.stem}:
                if name not in ("", "/", ".", ".."):
                    replacements.setdefault(name, "file")
            if path.is_file():
                # The folder a file was given from names it where the file does not (a lone GE LxProtocol is
                # named by its series folder, which a user may have named after the patient).
                parent = Path(os.path.abspath(path)).parent.name
                if parent and _FILE_LIKE.fullmatch(parent) and not _NUMBER.fullmatch(parent):
                    replacements.setdefault(parent, "file")
            for name in _names_under(path):
                # A bare number ("900", a folder of series numbers) is no name: replaced as a word it would
                # garble the values ("TI 900 ms"); UIDs have dots and stay replaced.
                if _FILE_LIKE.fullmatch(name) and not _NUMBER.fullmatch(name):
                    replacements.setdefault(name, "file")
        inspections = list(inspections)
        several = len(inspections) > 1
        for index, inspection in enumerate(inspections, 1):
            replacements.setdefault(inspection.source, f"input {index}")
            if inspection.format not in PATIENT_FORMATS:
                for acq in inspection.acquisitions:  # named by a folder a user made, not by the protocol
                    if acq.context.get("named_by_folder") and acq.name:
                        replacements.setdefault(acq.name, "series folder")
                continue
            for rank, acq in enumerate(inspection.acquisitions, 1):
                number = acq.get("series_number")
                label = f"series {number}" if number is not None else f"acquisition {rank}"
                label = f"input {index} {label}" if several else label
                self.acquisitions[id(acq)] = label
                if acq.name:
                    replacements.setdefault(acq.name, label)
                    # The DICOM reader names a series "N description"; a reason quotes the bare description
                    # ("name 'MP-RAGE / <description>' matches mprage"), which is the operator's free text too.
                    bare = acq.name.removeprefix(f"{number} ").strip() if number is not None else ""
                    if bare and bare != acq.name:
                        replacements.setdefault(bare, label)
                # The other operator texts a reason may quote: the series description and protocol name (a
                # family's "name 'MP-RAGE / <protocol>' matches"), the study description (a region's evidence).
                for text, said in (
                    (acq.get("series_description"), label),
                    (acq.context.get("protocol_name"), label),
                    (acq.context.get("exam_protocol"), "protocol"),
                    (acq.context.get("study_description"), "study"),
                ):
                    if isinstance(text, str) and text.strip():
                        replacements.setdefault(text.strip(), said)
        # Longest first, so a path is replaced whole before any of its parts.
        ordered = sorted((k for k in replacements if k and len(k) >= 2), key=len, reverse=True)
        alternatives = "|".join(re.escape(k) for k in ordered[:MAX_NAMES])
        # Whole names only: "dwi" in "brain.dwi" is not the folder dwi/.
        self._pattern = re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w-])") if ordered else None
        self._replacements = replacements

    def text(self, value: str) -> str:
        """`value` with every input path, file name and patient series name replaced by its label."""
        if self._pattern is not None:
            value = self._pattern.sub(lambda m: self._replacements[m.group()], value)
        return _ABSOLUTE_PATH.sub("[path]", value)

    def apply(self, value: Any) -> Any:
        """A copy of `value` (a report, a comparison...) with every string and acquisition rewritten."""
        return self._map(value, {})

    def _map(self, value: Any, memo: dict[int, Any]) -> Any:
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, bool | int | float | Spec):
            return value  # the spec is ours: nothing in it comes from an input
        key = id(value)
        if key in memo:
            return memo[key]
        if isinstance(value, Acquisition):
            out: Any = dataclasses.replace(
                value,
                name=self.acquisitions.get(key) or self.text(value.name),
                params={k: self._map(v, memo) for k, v in value.params.items()},
                provenance={k: self.text(v) for k, v in value.provenance.items()},
                program=None if key in self.acquisitions else (self.text(value.program) if value.program else None),
                region_reasons=[self.text(r) for r in value.region_reasons],
            )
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {
                f.name: self._map(getattr(value, f.name), memo)
                for f in dataclasses.fields(value)
                if f.init and f.name not in STRUCTURAL
            }
            out = dataclasses.replace(value, **changes)
        elif isinstance(value, dict):
            out = {k: self._map(v, memo) for k, v in value.items()}  # keys are ours (parameter names...)
        elif isinstance(value, list):
            out = [self._map(v, memo) for v in value]
        elif isinstance(value, tuple):
            out = tuple(self._map(v, memo) for v in value)
        else:
            return value
        memo[key] = out
        return out


def _names_under(path: Path) -> list[str]:
    """The names of `path` and of every file and folder under it (not followed through links), and of every member
    of an archive among them (a member's whole name, as it cut in a warning, and each part of its path)."""
    names = [path.name] if path.name else []
    files = [path] if path.is_file() else []
    if path.is_dir() and not path.is_symlink():
        for root, dirs, found in os.walk(path):
            names += dirs + found
            files += [Path(root, name) for name in found]
            if len(names) > MAX_NAMES:
                break
    for file in files:
        if len(names) > MAX_NAMES:
            break
        if file.is_symlink() or archive.archive_kind(file) is None:
            continue
        for member in archive.member_names(file):
            names += [member, shortened(member), *PurePosixPath(member).parts]
    return [n for n in names if n not in (".", "..", "/")]
