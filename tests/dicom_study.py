"""Realistic DICOM studies for tests, built in a test's tmp folder from the real fixture series.

A real study holds more than its acquisitions: a localizer, reformats, maps, a repeat, a second study. These are
made here by copying a real fixture series (its real headers, CSA protocol and pixels) and changing, in memory
with pydicom, only the elements a console changes when it writes such a series; each test cites, for every
element it sets, the DICOM standard or the public source that says what a console writes there. Nothing is
written outside the test's tmp folder; the fixtures are read only.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pydicom
from pydicom.uid import generate_uid

from .conftest import FIXTURES

DICOM = FIXTURES / "dicom"
SIDECAR_SUFFIXES = (".json", ".md", ".bval", ".bvec")


def fixture_files(series: str | Path) -> list[Path]:
    """The DICOM files of one fixture series folder (its dcm2niix sidecars left out)."""
    folder = DICOM / series if not Path(series).is_absolute() else Path(series)
    return sorted(f for f in folder.iterdir() if f.is_file() and not f.name.endswith(SIDECAR_SUFFIXES))


def read(path: Path) -> pydicom.Dataset:
    """A fixture file as a full dataset (pixels included), gzip-wrapped or not."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return pydicom.dcmread(io.BytesIO(data), force=True)


class Study:
    """Series written into `root`, one folder each; `study_uid` (when given) puts them all in one study."""

    def __init__(self, root: Path, study_uid: str | None = None):
        self.root = root
        self.study_uid = study_uid
        self.count = 0

    def add(
        self,
        series: str | Path,
        number: int,
        description: str | None = None,
        *,
        image_type: list[str] | None = None,
        edit: Callable[[pydicom.Dataset, int], None] | None = None,
        limit: int | None = None,
        keep: Callable[[pydicom.Dataset], bool] | None = None,
        **elements: Any,
    ) -> Path:
        """A copy of a fixture series as a new series (new Series and SOP Instance UIDs, PS3.3 C.7.3.1 and
        C.12.1: every series and instance has its own), with these elements set on every file; `edit(ds, i)`
        changes anything else per file; `keep(ds)` picks the files copied (all by default). Returns the folder
        written."""
        self.count += 1
        folder = self.root / f"s{number:05d}_{self.count}"
        folder.mkdir(parents=True)
        series_uid = generate_uid(entropy_srcs=[str(self.root), str(number), str(self.count)])
        datasets = [read(path) for path in fixture_files(series)[:limit]]
        for i, ds in enumerate(d for d in datasets if keep is None or keep(d)):
            ds.SeriesInstanceUID = series_uid
            ds.SOPInstanceUID = generate_uid(entropy_srcs=[series_uid, str(i)])
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
            ds.SeriesNumber = number
            if self.study_uid:
                ds.StudyInstanceUID = self.study_uid
            if description is not None:
                ds.SeriesDescription = description
            if image_type is not None:
                ds.ImageType = image_type
            for keyword, value in elements.items():
                if value is None:
                    if keyword in ds:
                        delattr(ds, keyword)
                else:
                    setattr(ds, keyword, value)
            if edit is not None:
                edit(ds, i)
            ds.save_as(folder / f"{i:04d}.dcm", enforce_file_format=True)
        return folder


def check_report(folder: Path) -> dict:
    """`check --format json` of a study folder, as a user runs it (exit 0 or 1: a verdict, not an error)."""
    import json

    from click.testing import CliRunner

    from ofsep_presets.cli import main

    result = CliRunner().invoke(main, ["check", "--quiet", str(folder), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def slot(doc: dict, seq_id: str) -> str | None:
    """The acquisition a check report puts in one spec sequence (None when it is empty)."""
    [seq] = [s for s in doc["sequences"] if s["id"] == seq_id]
    return seq["matched"]
