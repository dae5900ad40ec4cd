"""The protocol library beyond OFSEP: MAGNIMS-CMSC-NAIMS 2021 and MY-RADS render for every vendor, their own sheets
check back to PASS, and their rules say what the guidelines say (values from ../shared/notes/protocols.md and, for
the DICOM side, from dcm2niix's .bval of the same series)."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner

from ofsep_presets.check import check
from ofsep_presets.cli import main
from ofsep_presets.readers import inspect_path
from ofsep_presets.render import Selection, render
from ofsep_presets.spec import load_spec

from .conftest import FIXTURES

NEW_SPECS = {
    # spec id: (version, {exam-variant folders}, vendors × fields)
    # MAGNIMS 2021: post-contrast T1 required at diagnosis, judicious for monitoring; DWI for PML surveillance.
    "magnims-2021": (
        "2021",
        {
            "brain-diagnosis",
            "brain-monitoring",
            "brain-pml",
            "spine-diagnosis",
            "spine-monitoring",
            "optic_nerve-standard",
        },
        4 * 2,
    ),
    "myrads-2019": ("2019", {"whole_body-core", "whole_body-comprehensive"}, 4 * 2),
}


def test_specs_lists_the_whole_library_with_versions():
    result = CliRunner().invoke(main, ["specs"])
    assert result.exit_code == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert [row[:2] for row in rows] == [
        ["magnims-2021", "2021"],
        ["myrads-2019", "2019"],
        ["ofsep-2020", "2020"],
        ["spine-generic", "2021"],
    ]
    sources = {row[0]: row[3] for row in rows}
    assert "Wattjes" in sources["magnims-2021"] and "MY-RADS" in sources["myrads-2019"]


@pytest.mark.parametrize("spec_id", sorted(NEW_SPECS))
def test_each_spec_renders_and_its_sheets_check_back_to_pass(spec_id, tmp_path):
    _, variants, combos = NEW_SPECS[spec_id]
    spec = load_spec(spec_id)
    # Every document for one vendor and field through the CLI (HTML, PDF, Markdown, sheet): exit 0.
    out = tmp_path / "all"
    result = CliRunner().invoke(
        main, ["render", "--spec", spec_id, "--vendor", "philips", "--field", "1.5", "--out", str(out), "--quiet"]
    )
    assert result.exit_code == 0, result.stderr
    assert {p.parent.name for p in out.rglob("checklist.en.pdf")} == variants
    # Every vendor's sheet, every field, every variant, checked back.
    render(spec, tmp_path / "sheets", Selection(formats=("sheet",)), force=True)
    folder = tmp_path / "sheets"
    sheets = [p for p in folder.rglob("*") if p.is_file() and p.name != "index.html" and not p.name.startswith(".")]
    assert len(sheets) == combos * len(variants)
    for sheet in sheets:
        exam, variant = sheet.parent.name.split("-")
        inferred = check(inspect_path(sheet), spec)
        # The inferred variant is this one, or a stricter one the sheet also satisfies (a MAGNIMS monitoring sheet
        # with its optional post-contrast T1 is also a diagnosis exam).
        (chosen,) = inferred.variants
        assert chosen.key == sheet.parent.name or set(chosen.required) <= set(spec.variant(exam, variant).order), sheet
        report = check(inspect_path(sheet), spec, variant=variant)
        assert [v.key for v in report.variants] == [sheet.parent.name], sheet
        assert report.status == "pass", (sheet, [(s.id, s.status) for s in report.sequences if s.status != "pass"])
        assert {s.id for s in report.sequences if s.matched} == set(spec.variant(exam, variant).order) - {"gadolinium"}


def test_magnims_spinal_cord_needs_two_of_sagittal_t2_pd_and_stir(tmp_path):
    spec = load_spec("magnims-2021")
    render(
        spec,
        tmp_path,
        Selection(vendors=("siemens",), fields=(3.0,), exams=("spine",), variants=("diagnosis",), formats=("sheet",)),
    )
    (sheet,) = [p for p in tmp_path.rglob("protocol.xml")]
    inspections = inspect_path(sheet)
    rule = "at least 2 of spine_t2"
    assert next(r for r in check(inspections, spec).session if r.rule == rule).status == "pass"
    # Keep the sagittal T2 and drop the PD and the STIR: one of the three is not enough.
    dropped = tuple(spec.sequences[s].label["en"] for s in ("mag.spine.pd_sag", "mag.spine.stir_sag"))
    kept = [a for a in inspections[0].acquisitions if not a.name.startswith(dropped)]
    only_t2 = [dataclasses.replace(inspections[0], acquisitions=kept)]
    result = next(r for r in check(only_t2, spec).session if r.rule == rule)
    assert (result.status, result.detail) == ("fail", "mag.spine.t2_sag")


def test_myrads_dwi_b_values_are_checked_by_position():
    """A Canon DTI (b 0 and 1500 in dcm2niix's .bval) is not a MY-RADS whole-body DWI: MY-RADS wants a low b of
    50–100 (not 0) and a high b of 800–1000."""
    series = FIXTURES / "dicom" / "Canon" / "Galan3T_V6.1_enh_DTI_PA-ortho_full"
    bval = next((series / "bids_json_dcm2niix").glob("*.bval")).read_text().split()
    expected = sorted({round(float(b)) for b in bval})
    assert expected == [0, 1500]
    report = check(inspect_path(series), load_spec("myrads-2019"), variant="core")
    dwi = next(s for s in report.sequences if s.id == "my.wb_dwi")
    b_checks = [(c.rule, c.observed, c.status) for c in dwi.checks if c.param == "b_values"]
    assert b_checks == [
        ("between 50 and 100", expected, "fail"),
        ("between 800 and 1000", expected, "fail"),
    ]
