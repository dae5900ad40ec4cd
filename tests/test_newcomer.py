"""What a newcomer types first: field strengths as people write them, typos refused with one clear line.

Expected behaviour from issue 17 (what a physicist types) and click's own exit code for usage errors (2).
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ofsep_presets.cli import main

from .conftest import FIXTURES, ROOT

SIEMENS_T2 = FIXTURES / "dicom/Siemens/VE11_PD_T2_tse_sag_1.8mm"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("typed", ["3T", "3", "3.0", "3 T", "1,5", "1.5T", "1.5"])
def test_field_strength_as_people_type_it(typed, tmp_path):
    result = run(
        "render",
        "--field",
        typed,
        "--vendor",
        "ge",
        "--exam",
        "brain",
        "--variant",
        "standard",
        "--lang",
        "en",
        "--format",
        "md",
        "--out",
        str(tmp_path / "out"),
        "--quiet",
    )
    assert result.exit_code == 0, result.output
    wanted = "3T" if typed.startswith("3") else "1.5T"
    folders = {p.name for p in (tmp_path / "out" / "ge").iterdir()}
    assert folders == {wanted}


@pytest.mark.parametrize("typed", ["7", "3.5", "high", ""])
def test_unknown_field_strength_is_refused(typed, tmp_path):
    result = run("check", str(SIEMENS_T2), "--field", typed)
    assert result.exit_code == 2
    assert "--field" in result.output and "Traceback" not in result.output


def test_unknown_variant_is_refused_with_a_suggestion():
    result = run("check", str(SIEMENS_T2), "--variant", "reducd")
    assert result.exit_code == 2
    assert "did you mean reduced?" in result.output


def test_map_naming_no_series_is_refused():
    result = run("check", str(SIEMENS_T2), "--map", "99=brain.t1_3d")
    assert result.exit_code == 2
    assert "no series '99'" in result.output


def test_map_naming_a_real_series_is_taken(tmp_path):
    import pydicom

    first = sorted(SIEMENS_T2.glob("*.dcm"))[0]
    number = str(pydicom.dcmread(first, stop_before_pixels=True).SeriesNumber)
    result = run("check", str(SIEMENS_T2), "--map", f"{number}=spine.t2_sag", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    assert '"spine.t2_sag"' in result.output and "--map" in result.output


def test_unknown_spec_suggests_the_bundled_name():
    result = run("check", str(SIEMENS_T2), "--spec", "magnims")
    assert result.exit_code == 2
    line = result.output.strip().splitlines()[-1]
    assert "did you mean magnims-2021?" in line
    assert ":0:" not in line


def test_empty_render_selection_says_why(tmp_path):
    result = run("render", "--exam", "spine", "--variant", "reduced", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "exam spine has no variant reduced" in result.output


def test_top_level_help_names_the_physicists_commands_in_whole_sentences():
    text = run("--help").output
    assert "ofsep-presets inspect" in text and "ofsep-presets check" in text
    listing = text.split("Commands:")[1]
    entries = " ".join(listing.split())
    assert "..." not in entries
    for command in ("audit", "check", "compare", "inspect", "plan", "render", "snapshot", "specs", "validate"):
        assert f" {command} " in f" {entries} "


def test_suite_without_shared_stops_in_one_line(tmp_path):
    """The README's test command on a clone without ../shared: one line, no traceback, not a pass."""
    clone = tmp_path / "clone"
    shutil.copytree(ROOT / "tests", clone / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    (clone / "pyproject.toml").write_text("[tool.pytest.ini_options]\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=clone,
        capture_output=True,
        text=True,
        timeout=120,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode not in (0, 5), out
    assert "../shared/fixtures" in out
    assert "Traceback" not in out and "StopIteration" not in out
    assert sum("shared/fixtures" in line for line in out.splitlines()) == 1


SERIES = [
    FIXTURES / "dicom/Philips/Ingenia_classic_DTI_Biobank_2mm_full",
    FIXTURES / "dicom/Siemens/XA30_classic_DWI_dir80_AP",
    FIXTURES / "dicom/Siemens/XA30_classic_DWI_dir80_AP_ADC",
    FIXTURES / "dicom/GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm",
]


def test_rules_print_in_words_not_python_literals():
    """The OFSEP sheet (seed 001) says '3D T1 … ≤ 1 mm' in words; the report must too, in every human format."""
    result = run("check", "--one-exam", *map(str, SERIES), "--format", "json")
    import json

    doc = json.loads(result.output)
    t1 = next(s for s in doc["sequences"] if s["id"] == "brain.t1_3d")
    words = {c["param"]: c["rule_words"] for c in t1["checks"]}
    # Seed 001 says "3D T1 millimétrique" without a family: 3D gradient echo or 3D fast spin echo T1 (issue 13).
    assert words["sequence_family"] == "one of MPRAGE, SPGR, 3D TSE (SPACE/CUBE/VISTA)"
    assert words["slice_thickness_mm"] == "≤ 1.0 mm"
    assert words["acquisition_type"] == "= 3D"
    table = run("check", "--one-exam", *map(str, SERIES)).output
    html = run("check", "--one-exam", *map(str, SERIES), "--format", "html").output
    for text in (table, html):
        assert "in ['" not in text and "in [1.5" not in text and "&#39;mprage&#39;" not in text
    assert "≤ 1.0 mm" in table and "one of MPRAGE, SPGR, 3D TSE" in html


def test_html_names_every_scanner_and_folds_not_applicable_sequences():
    html = run("check", "--one-exam", *map(str, SERIES), "--format", "html").output
    scanners = html.split("<td>Scanners</td>")[1].split("</tr>")[0]
    for model in ("SIGNA Pioneer", "Ingenia", "MAGNETOM Prisma"):  # the three scanners' ManufacturerModelName
        assert model in scanners
    assert 'class="card not-applicable"' not in html
    assert html.count('class="folded"') == 1


MEASURE = """<script>
addEventListener('load', () => {
  const bad = [];
  for (const card of document.querySelectorAll('section.card')) {
    for (const table of card.querySelectorAll('table')) {
      if (table.getBoundingClientRect().right > card.getBoundingClientRect().right + 0.5) bad.push('wide:' + card.id);
    }
    for (const cell of card.querySelectorAll('td')) {
      if (cell.textContent.trim().length > 3 && cell.clientWidth < 48) bad.push('narrow:' + card.id);
      if (cell.scrollWidth > cell.clientWidth + 1) bad.push('overflow:' + card.id);
    }
  }
  document.body.setAttribute('data-layout', bad.length ? bad.join(',') : 'ok');
});
</script>"""


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_html_report_fits_its_cards_at_1100_px(tmp_path):
    """Looked at as a physicist would, at 1100 px: no table wider than its card, no column a character wide."""
    import re

    html = run("check", "--one-exam", *map(str, SERIES), "--format", "html").output
    # A measuring copy: the report's CSP forbids scripts (rightly); this copy is for the browser's layout only.
    probe = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    probe = probe.replace("</body>", MEASURE + "</body>")
    page = tmp_path / "probe.html"
    page.write_text(probe, encoding="utf-8")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [
            shutil.which("chromium"),
            *flags,
            "--window-size=1100,1600",
            "--virtual-time-budget=5000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    found = re.search(r'data-layout="([^"]*)"', dom.stdout)
    assert found is not None, dom.stderr[-2000:]
    assert found.group(1) == "ok"


def test_a_protocol_export_is_read_without_importing_the_dicom_stack():
    """Startup (issue 15): `inspect` of one .exar1 must not pay for pydicom/numpy (about a second of imports)."""
    exar1 = FIXTURES / "vendor-exports/siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1"
    code = (
        "import sys\nfrom pathlib import Path\nfrom ofsep_presets.readers import inspect_path\n"
        f"assert inspect_path(Path({str(exar1)!r}))[0].acquisitions\n"
        "print(sorted(m for m in ('pydicom', 'numpy') if m in sys.modules))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
