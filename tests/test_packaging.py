"""A wheel built from the checkout carries the templates and specs and renders the same bytes elsewhere."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from .conftest import ROOT

ARGS = [
    "render",
    "--vendor",
    "ge",
    "--vendor",
    "canon",
    "--field",
    "3",
    "--exam",
    "spine",
    "--lang",
    "fr",
    "--format",
    "html",
    "--format",
    "sheet",
    "--format",
    "md",
]


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def test_wheel_carries_data_and_renders_like_the_checkout(tmp_path):
    wheels = tmp_path / "wheels"
    # Built from a clean copy: a stale build/ folder in the checkout would hide a module missing from `packages`.
    source = tmp_path / "source"
    junk = shutil.ignore_patterns("build", "dist", ".venv", ".git", "*.egg-info", "__pycache__", "out", ".*cache")
    shutil.copytree(ROOT, source, ignore=junk)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(source)],
        check=True,
        capture_output=True,
    )
    wheel = next(wheels.glob("ofsep_presets-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for member in (
        "ofsep_presets/protocol_spec/ofsep-2020.yaml",
        "ofsep_presets/protocol_spec/schema/spec.schema.json",
        "ofsep_presets/protocol_spec/vendors/ge.yaml",
        "ofsep_presets/templates/common/strings.yaml",
        "ofsep_presets/templates/siemens/printprotocol.xml.j2",
        "ofsep_presets/templates/canon/sheet.csv.j2",
    ):
        assert member in names, member
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"}
    where = subprocess.run(
        [sys.executable, "-c", "import ofsep_presets.resources as r; print(r.templates_dir())"],
        cwd=elsewhere,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert Path(where) == unpacked / "ofsep_presets" / "templates"  # the wheel's copy, not the checkout's
    code = "import sys; from ofsep_presets.cli import main; sys.exit(main())"
    subprocess.run(
        [sys.executable, "-c", code, *ARGS, "--out", "from-wheel"],
        cwd=elsewhere,
        check=True,
        env=env,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-c", code, *ARGS, "--out", str(tmp_path / "from-checkout")],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert _digest(elsewhere / "from-wheel") == _digest(tmp_path / "from-checkout")
    # Every module of the checkout is in the wheel (a subpackage missing from `packages` was once left out).
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "ofsep_presets").rglob("*.py")}
    assert modules <= names, sorted(modules - names)
    # And the check job runs from the wheel alone.
    export = ROOT.parent / "shared/fixtures/vendor-exports/siemens/Trio_VB17/spine_generic_siemens-trio.edx"
    result = subprocess.run(
        [sys.executable, "-c", code, "check", "--spec", "spine-generic", "--format", "json", str(export)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1, result.stderr  # the old VB17 protocol is reported non-compliant
    assert '"status": "fail"' in result.stdout
