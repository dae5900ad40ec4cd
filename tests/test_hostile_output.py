"""Where reports go: `--out` replaces only a provable earlier report, refuses anything that is not a regular file
at once, and every environment error (read-only or full file system) is one line and exit 2.

Inputs are hand-built BIDS sidecars, so these tests need no shared fixture.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ofsep_presets.cli import main

SIDECAR = {
    "Manufacturer": "Siemens",
    "ManufacturersModelName": "Prisma",
    "MagneticFieldStrength": 3,
    "RepetitionTime": 2.3,
    "EchoTime": 0.00232,
    "InversionTime": 0.9,
    "FlipAngle": 8,
    "SliceThickness": 0.9,
    "MRAcquisitionType": "3D",
    "SeriesDescription": "t1_mprage_sag",
    "SeriesNumber": 3,
    "PulseSequenceName": "tfl3d1_16ns",
}
FORMATS = ["table", "json", "html", "junit", "csv"]


def sidecar(folder: Path, name: str = "sub-01_T1w.json", **values) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**SIDECAR, **values}), encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def exam(tmp_path) -> Path:
    return sidecar(tmp_path / "in")


# -- --out replaces only our own reports ------------------------------------------------------------------------


@pytest.mark.parametrize("first", FORMATS)
def test_our_reports_in_any_format_are_replaced(tmp_path, exam, first):
    target = tmp_path / "report"
    assert run("check", str(exam), "--format", first, "--out", str(target)).exit_code in (0, 1)
    for fmt in FORMATS:
        result = run("check", str(exam), "--format", fmt, "--out", str(target))
        assert result.exit_code in (0, 1), (first, fmt, result.output)


def test_our_compare_reports_are_replaced(tmp_path, exam):
    other = sidecar(tmp_path / "other", FlipAngle=9)
    target = tmp_path / "diff"
    for fmt in ["table", "json", "html", "csv", "table"]:
        result = run("compare", str(exam), str(other), "--format", fmt, "--out", str(target))
        assert result.exit_code == 1, (fmt, result.output)


LOOKALIKES = {
    "script.sh": "#!/bin/sh\n# runs ofsep-presets every night\nofsep-presets check /data --out report.html\n",
    "meta.sh": '#!/bin/sh\necho \'<meta name="generator" content="ofsep-presets 1.0">\'\n',
    "other.html": '<!DOCTYPE html><html><head><meta name="generator" content="hugo"></head>'
    "<body>made with ofsep-presets</body></html>",
    "body-meta.html": '<!DOCTYPE html><html><head></head><body><meta name="generator" content="ofsep-presets 1">'
    "</body></html>",
    "other.json": '{"generator": "not ofsep-presets 1.0", "note": "ofsep-presets"}\n',
    "nested.json": '{"config": {"generator": "ofsep-presets 1.0"}}\n',
    "other.xml": '<?xml version="1.0"?>\n<testsuites name="pytest"><!-- ofsep-presets --></testsuites>\n',
    "other.csv": "sequence,required,notes\nofsep-presets,yes,mine\n",
    "notes.txt": "ofsep-presets · my notes · do not delete\n",
}


@pytest.mark.parametrize("name", sorted(LOOKALIKES))
def test_a_file_that_only_mentions_us_is_never_replaced(tmp_path, exam, name):
    precious = tmp_path / name
    precious.write_text(LOOKALIKES[name], encoding="utf-8")
    result = run("check", str(exam), "--format", "html", "--out", str(precious))
    assert result.exit_code == 2, result.output
    assert "not an ofsep-presets report" in result.stderr and "another path" in result.stderr
    assert precious.read_text(encoding="utf-8") == LOOKALIKES[name]


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (1536 * 2**20, 1536 * 2**20))


def _subprocess(*args: str) -> subprocess.CompletedProcess:
    """In a subprocess with a memory limit and a timeout: a regression fails instead of hanging the suite."""
    return subprocess.run(
        [sys.executable, "-m", "ofsep_presets", *args],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limited,
    )


@pytest.mark.parametrize("kind", ["dev-zero", "dev-null", "fifo", "folder", "symlink"])
def test_out_that_is_not_a_regular_file_is_refused_at_once(tmp_path, exam, kind):
    if kind == "dev-zero":
        target = Path("/dev/zero")
    elif kind == "dev-null":
        target = Path("/dev/null")
    elif kind == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    elif kind == "folder":
        target = tmp_path / "folder"
        target.mkdir()
    else:
        real = tmp_path / "real.json"
        assert run("check", str(exam), "--format", "json", "--out", str(real)).exit_code in (0, 1)
        target = tmp_path / "link.json"
        target.symlink_to(real)
    result = _subprocess("check", str(exam), "--format", "json", "--out", str(target))
    assert result.returncode == 2, result.stderr
    assert str(target) in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    if kind == "symlink":
        assert target.is_symlink()
