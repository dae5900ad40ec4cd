"""The spine-generic spec against the real spine-generic exports: the current ones pass, the old Trio VB17 version
is reported with the differences its printout shows (T2w TR 2000 ms and flip angle 180°, where the current protocol
has 1500 ms and 120°), and the cross-sequence rule (equal TR with and without MT) is checked."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from ofsep_presets.check import check
from ofsep_presets.cli import main
from ofsep_presets.readers import inspect_path
from ofsep_presets.spec import load_spec

from .conftest import FIXTURES
from .test_render import pdf_text

EXPORTS = FIXTURES / "vendor-exports"
CURRENT = {
    "Siemens Prisma VE11C": EXPORTS / "siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1",
    "Siemens CimaX XA61": EXPORTS / "siemens/CimaX_XA61_ZOOMit/spine-generic_CimaX_XA61_ZOOMit.exar1",
    "Philips R5.3": EXPORTS / "philips/spine_generic_philips_R53.ExamCard",
    "GE 750": EXPORTS / "ge/GE_750_no-FOCUS/protocol.tar",
}
VB17 = EXPORTS / "siemens/Trio_VB17/spine_generic_siemens-trio.edx"


@pytest.fixture(scope="module")
def sg():
    return load_spec("spine-generic")


@pytest.mark.parametrize("name", sorted(CURRENT))
def test_current_exports_pass_the_spine_generic_spec(sg, name):
    report = check(inspect_path(CURRENT[name]), sg)
    # The MT ratio needs MT-off: every site acquires it. The Philips ExamCard holds it as the GRE-MT's second
    # dynamic (its printout: "Dynamic study individual, dyn scans 2"), which the card itself does not spell out: a
    # warning to verify, never a pass by guess.
    held = {"sg.gre_mt0"} if "Philips" in name else set()
    assert report.status == ("warn" if held else "pass"), [
        (c.param, c.observed, c.rule) for s in report.sequences for c in s.checks if c.status != "pass"
    ]
    required = {s.id for s in report.sequences if s.required}
    assert required == {"sg.t1w", "sg.t2w", "sg.dwi", "sg.gre_mt1", "sg.gre_mt0", "sg.gre_t1w", "sg.gre_me"}
    assert all(s.matched for s in report.sequences if s.required and s.id not in held)
    assert {s.id for s in report.sequences if s.status == "warn"} == held


def test_the_old_trio_vb17_version_is_reported_with_its_known_differences(sg):
    # What the VB17 printout itself says for T2w (independent of our reader).
    text = pdf_text(VB17.with_suffix(".pdf"))
    t2w = text[text.index("\\T2w") :]
    printed_tr = float(re.search(r"\bTR\s{2,}([\d.]+) ms", t2w).group(1))
    printed_fa = float(re.search(r"Flip angle\s{2,}([\d.]+) deg", t2w).group(1))
    assert (printed_tr, printed_fa) == (2000, 180)
    report = check(inspect_path(VB17), sg)
    failed = [(s.id, c.param, c.observed, c.rule) for s in report.sequences for c in s.checks if c.status == "fail"]
    assert failed == [
        ("sg.t2w", "repetition_time_ms", printed_tr, "== 1500"),
        ("sg.t2w", "flip_angle_deg", printed_fa, "== 120"),
    ]
    assert report.status == "fail"
    dwi = next(s for s in report.sequences if s.id == "sg.dwi")
    assert dwi.matched[0].acquisition.name == "DWI"  # the b=800 scan, not the separate b0 series


def test_equal_tr_with_and_without_mt(sg):
    inspections = inspect_path(CURRENT["Siemens Prisma VE11C"])
    rule = "repetition_time_ms equal in sg.gre_mt1 and sg.gre_mt0"
    report = check(inspections, sg)
    assert next(r for r in report.session if r.rule == rule).status == "pass"
    mt0 = next(a for a in inspections[0].acquisitions if a.name == "GRE-MT0")
    mt0.params["repetition_time_ms"] = 40.0
    report = check(inspections, sg)
    assert next(r for r in report.session if r.rule == rule).status == "fail"


def test_specs_lists_it_and_the_spine_generic_sheets_round_trip(sg, tmp_path):
    result = CliRunner().invoke(main, ["specs"])
    assert result.exit_code == 0
    assert ["spine-generic", "2021"] in [line.split("\t")[:2] for line in result.stdout.splitlines()]
    result = CliRunner().invoke(
        main, ["render", "--spec", "spine-generic", "--format", "sheet", "--out", str(tmp_path / "out"), "--quiet"]
    )
    assert result.exit_code == 0, result.stderr
    out = tmp_path / "out"
    sheets = [p for p in out.rglob("*") if p.is_file() and p.name != "index.html" and not p.name.startswith(".")]
    assert len(sheets) == 3  # Siemens, Philips, GE at 3 T
    for sheet in sheets:
        assert check(inspect_path(sheet), sg).status == "pass", sheet
