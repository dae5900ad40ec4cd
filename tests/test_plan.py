"""`plan`: situations -> exams, variant, gadolinium and next MRI, as seeds 000, 001 and 002 state them."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ofsep_presets.cli import main


def plan(*args: str) -> dict:
    result = CliRunner().invoke(main, ["plan", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_first_diagnosis_brain_and_spine_with_one_gadolinium_injection():
    p = plan("--situation", "first-diagnosis")
    assert p["exams"] == [{"exam": "brain", "variant": "standard"}, {"exam": "spine", "variant": "standard"}]
    gado = p["gadolinium"]
    # Seed 001: 0.1 mmol/kg macrocyclic, at the start of follow-up, injected before the 3D FLAIR.
    assert gado["level"] == "indicated" and gado["indication"] == "diagnosis"
    assert gado["dose_mmol_per_kg"] == 0.1 and "macrocyclic" in gado["agent"]
    assert gado["inject_before"] == "brain.flair_3d"
    assert "brain first" in gado["single_injection"]
    # Seed 001: the axial 2D T2* GRE is optional "for a first diagnosis".
    assert p["consider_sequences"] == ["brain.t2star_2d"]
    assert p["next_mri"]["in_months"] == 12


def test_pml_surveillance_is_the_reduced_protocol_every_three_months_without_gadolinium():
    p = plan("--situation", "natalizumab-high-pml-risk")
    assert p["exams"] == [{"exam": "brain", "variant": "reduced"}]
    assert p["gadolinium"] is None
    assert p["next_mri"]["in_months"] == 3
    assert "rev-neurol-2013" in p["sources"]


@pytest.mark.parametrize(
    "situation,level",
    [
        ("dmt-start", "indicated"),
        ("dmt-6-months", "indicated"),
        ("relapse", "recommended"),
        ("treatment-decision", "optional"),
        ("annual-follow-up", None),
        ("dmt-12-months", None),
    ],
)
def test_gadolinium_follows_the_indications_of_the_sheet(situation, level):
    gado = plan("--situation", situation)["gadolinium"]
    assert (gado["level"] if gado else None) == level


def test_treatment_start_timing_and_due_date():
    p = plan("--situation", "dmt-start", "--date", "2026-11-23")
    assert p["within_months_before_treatment"] == 3
    assert p["next_mri"] == {
        "in_months": 6,
        "exams": ["brain"],
        "due": "2027-05-23",
        "note": "reference MRI at 6 months, then at 12 months, then yearly",
    }


def test_due_date_clamps_to_month_end():
    assert plan("--situation", "dmt-6-months", "--date", "2026-08-31")["next_mri"]["due"] == "2027-02-28"


@pytest.mark.parametrize(
    "situation,months",
    [
        ("treatment-dimethyl-fumarate", 12),
        ("treatment-fingolimod", 12),
        ("treatment-post-mitoxantrone", 12),
        ("treatment-natalizumab", 6),
        ("treatment-ocrelizumab", 6),
        ("treatment-post-alemtuzumab", 3),
    ],
)
def test_high_risk_treatments_review_rhythm_from_seed_002(situation, months):
    p = plan("--situation", situation)
    assert p["crc_review_every_months"] == months
    assert p["exams"] == [{"exam": "brain", "variant": "standard"}]


def test_unknown_situation_lists_the_known_ones():
    result = CliRunner().invoke(main, ["plan", "--situation", "broken-leg"])
    assert result.exit_code == 2
    assert "unknown situation 'broken-leg'" in result.stderr
    assert "first-diagnosis" in result.stderr and "natalizumab-high-pml-risk" in result.stderr


def test_text_output_in_french():
    result = CliRunner().invoke(main, ["plan", "--situation", "relapse", "--lang", "fr"])
    assert result.exit_code == 0
    assert "Poussée" in result.stdout and "gadolinium\u00a0: recommandée — En cas de poussée" in result.stdout


def test_bad_date_is_a_clear_error():
    result = CliRunner().invoke(main, ["plan", "--situation", "relapse", "--date", "23/11/2026"])
    assert result.exit_code == 2 and "--date" in result.output
