"""Issue 13: the specs, checklists and `plan` say what their sources say, and nothing that could mislead.

Expected values come from the seeds (001: the OFSEP 2020 sheet; 002: the care pathway), the 2021 MAGNIMS-CMSC-NAIMS
consensus as reproduced by Rocca et al. 2024 (Table 3) and the 2021 CMSC abstract, and the spine-generic vendor
exports (fixtures).
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from ofsep_presets.check import check
from ofsep_presets.cli import main
from ofsep_presets.match import is_injection_step
from ofsep_presets.readers import inspect_path
from ofsep_presets.render import Selection, render
from ofsep_presets.spec import load_spec

from .conftest import FIXTURES


def _step(acquisitions, spec, seq_id: str):
    """The step of a rendered Siemens print that is this sequence: the console names it by the sequence's name
    (and its vendor sequence), never by our internal id."""
    label = spec.sequences[seq_id].label["en"]
    return next(a for a in acquisitions if a.name == label or a.name.startswith(label + " "))


def _render(spec, out, **selection):
    defaults = {"vendors": ("siemens",), "fields": (3.0,)}
    render(spec, out, Selection(**{**defaults, **selection}))
    return out


def _session(report, prefix):
    return next(r for r in report.session if r.rule.startswith(prefix))


# -- the spinal cord injection step ----------------------------------------------------------------------------


def test_spine_checklist_never_mentions_a_flair_and_says_the_brain_injection_serves(spec, tmp_path):
    """Seed 001: one injection for brain and cord, brain first; the cord exam has no FLAIR (seed 001's table)."""
    out = _render(spec, tmp_path, exams=("spine",), formats=("md", "html"))
    folder = out / "siemens" / "3T" / "spine-standard"
    for name in ("checklist.en.md", "checklist.en.html", "examcard.en.html", "checklist.fr.md", "checklist.fr.html"):
        text = (folder / name).read_text(encoding="utf-8")
        assert "FLAIR" not in text, name
    english = (folder / "checklist.en.md").read_text(encoding="utf-8")
    assert "the brain exam's injection serves" in english and "do not inject again" in english
    assert "acquire the post-contrast T1 now" in english
    french = (folder / "checklist.fr.html").read_text(encoding="utf-8")
    assert "ne pas réinjecter" in french
    # The brain checklist keeps the sheet's own timing, "idéalement avant le 3D FLAIR".
    brain = _render(spec, tmp_path / "b", exams=("brain",), variants=("standard",), formats=("md",))
    text = (brain / "siemens" / "3T" / "brain-standard" / "checklist.fr.md").read_text(encoding="utf-8")
    assert "idéalement avant le 3D FLAIR" in text


def test_ofsep_documents_say_recommended_as_the_sheet_does(spec, tmp_path):
    """Seed 001's table heads the standard sequences "Recommandées", not "required"."""
    out = _render(spec, tmp_path, exams=("brain",), variants=("standard",), formats=("md",))
    english = (out / "siemens" / "3T" / "brain-standard" / "checklist.en.md").read_text(encoding="utf-8")
    assert "3D FLAIR, millimetric (Recommended)" in english
    assert "(Required)" not in english
    assert "Acquisition order (suggested)" in english
    french = (out / "siemens" / "3T" / "brain-standard" / "checklist.fr.md").read_text(encoding="utf-8")
    assert "0,1 mmol/kg" in french and "0.1 mmol/kg" not in french
    assert "Légende\u00a0:" in french
    # The legend names each letter once ("R = requirement", never "R = R — requirement").
    assert not re.search(r"\b([RDS]) = \1 —", english)


# -- OFSEP rules that the sheet states as "ideally" / "preferably" -----------------------------------------------


def test_injection_after_the_flair_is_a_warning_and_no_rule_places_the_t1_after_it(spec, tmp_path):
    """Seed 001: "doit idéalement être réalisée avant le 3D FLAIR" — ideally, so a warning, not a failure."""
    out = _render(spec, tmp_path, exams=("brain",), variants=("standard",), formats=("sheet",))
    inspections = inspect_path(out / "siemens" / "3T" / "brain-standard" / "protocol.xml")
    acquisitions = inspections[0].acquisitions
    # Move the FLAIR to the front: acquired before any contrast-enhanced acquisition.
    # The rendered order puts the FLAIR after the injection (the program's "Gadolinium" pause step).
    flair = _step(acquisitions, spec, "brain.flair_3d")
    acquisitions.remove(flair)
    acquisitions.insert(0, flair)
    flair.set("contrast_agent", False, "test: acquired before the injection")
    report = check(inspections, spec)
    result = _session(report, "gadolinium before")
    assert result.status == "warn" and "brain.flair_3d" not in result.rule
    assert not [r for r in report.session if " after " in r.rule and "FLAIR" in r.rule]


def test_injection_before_a_flair_whose_place_is_not_stated_is_unknown(spec, tmp_path):
    """The rendered Siemens program runs the 3D FLAIR after its "Gadolinium" pause: the rule passes. A FLAIR the
    input lists without stating its place (an .exar1 step off its program's link chain, read after the chained
    steps by the child list: context `unordered`) says nothing of when it ran beside the injection: unknown."""
    out = _render(spec, tmp_path, exams=("brain",), variants=("standard",), formats=("sheet",))
    inspections = inspect_path(out / "siemens" / "3T" / "brain-standard" / "protocol.xml")
    assert _session(check(inspections, spec), "gadolinium before").status == "pass"
    flair = _step(inspections[0].acquisitions, spec, "brain.flair_3d")
    flair.context["unordered"] = "test: off its program's step chain"
    result = _session(check(inspections, spec), "gadolinium before")
    assert result.status == "unknown" and "not stated" in result.detail, result


def test_post_contrast_3d_tse_t1_passes_ofsep(spec):
    """Seed 001 says "3D T1 gadolinium millimétrique": a 3D fast spin echo T1 (SPACE/CUBE/VISTA) is one."""
    for seq_id in ("brain.t1_3d_gd", "brain.t1_3d"):
        family = next(c for c in spec.sequences[seq_id].constraints if c.param == "sequence_family")
        assert family.evaluate("space") == "pass" and family.evaluate("mprage") == "pass"
        assert family.evaluate("epi_dwi") == "fail"


def test_contrast_given_without_its_post_contrast_t1_fails_the_session_rule(spec, tmp_path):
    out = _render(spec, tmp_path, exams=("brain",), variants=("standard",), formats=("sheet",))
    inspections = inspect_path(out / "siemens" / "3T" / "brain-standard" / "protocol.xml")
    acquisitions = inspections[0].acquisitions
    with_t1 = check(inspections, spec)
    assert _session(with_t1, "gadolinium given").status == "pass"
    # The FLAIR acquired after the injection is flagged contrast-enhanced; the post-contrast 3D T1 is dropped.
    acquisitions.remove(_step(acquisitions, spec, "brain.t1_3d_gd"))
    flair = _step(acquisitions, spec, "brain.flair_3d")
    flair.set("contrast_agent", True, "test: contrast bolus agent recorded")
    report = check(inspections, spec)
    result = _session(report, "gadolinium given")
    assert result.status == "fail" and not report.compliant
    # Without any injection (no flag, no pause step for it in the program), the rule does not apply.
    flair.set("contrast_agent", False, "test")
    acquisitions[:] = [a for a in acquisitions if not is_injection_step(a)]
    assert _session(check(inspections, spec), "gadolinium given").status == "not-applicable"


# -- MAGNIMS 2021 -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def magnims():
    return load_spec("magnims-2021")


def test_magnims_monitoring_without_gadolinium_passes_and_diagnosis_fails(magnims, tmp_path):
    """CMSC 2021: gadolinium "recommended for diagnostic studies and judicious use for routine monitoring"."""
    out = _render(magnims, tmp_path, exams=("brain",), variants=("diagnosis",), formats=("sheet",))
    inspections = inspect_path(out / "siemens" / "3T" / "brain-diagnosis" / "protocol.xml")
    acquisitions = inspections[0].acquisitions
    # An exam without gadolinium: no post-contrast T1, nothing acquired after an injection.
    acquisitions.remove(_step(acquisitions, magnims, "mag.brain.t1_gd"))
    acquisitions[:] = [a for a in acquisitions if not is_injection_step(a)]  # and the program's pause step
    for a in acquisitions:
        if a.get("contrast_agent") is True:
            a.set("contrast_agent", False, "test: no injection")
    monitoring = check(inspections, magnims, variant="monitoring")
    assert monitoring.compliant, [(s.id, s.status) for s in monitoring.sequences]
    diagnosis = check(inspections, magnims, variant="diagnosis")
    assert not diagnosis.compliant
    assert next(s for s in diagnosis.sequences if s.id == "mag.brain.t1_gd").status == "missing"


def test_magnims_core_sequences_print_as_required_with_at_least_two_of(magnims, tmp_path):
    """Rocca 2024 Table 3: "At least two of: sagittal T2, PD or STIR" are recommended, not optional."""
    out = _render(magnims, tmp_path, exams=("spine",), variants=("diagnosis",), formats=("md",))
    text = (out / "siemens" / "3T" / "spine-diagnosis" / "checklist.en.md").read_text(encoding="utf-8")
    for label in ("Sagittal T2", "Sagittal PD", "Sagittal STIR"):
        line = next(x for x in text.splitlines() if x.startswith("## ") and x.endswith(")") and label in x)
        assert "Required — At least 2 of sagittal T2, PD and STIR" in line, line
        assert "(Optional)" not in line


def test_magnims_brain_mprage_matches_the_brain_pre_contrast_t1_not_the_cord_psir(magnims):
    """A brain 3D T1 export is a brain sequence: the spec has a brain pre-contrast 3D T1 for it to match."""
    assert magnims.sequences["mag.brain.t1_3d"].exam == "brain"
    assert magnims.sequences["mag.brain.t1_3d"].contrast == "pre"
    dicom = FIXTURES / "references"
    assert dicom.exists()


# -- spine-generic ------------------------------------------------------------------------------------------------


def test_spine_generic_without_mt_off_fails():
    """The MT ratio needs the MT-off scan; the GE and Siemens exports both acquire it."""
    sg = load_spec("spine-generic")
    export = FIXTURES / "vendor-exports" / "ge" / "GE_750_no-FOCUS"
    inspections = inspect_path(export)
    assert check(inspections, sg).compliant
    acquisitions = inspections[0].acquisitions
    acquisitions.remove(next(a for a in acquisitions if a.name == "GRE-MT0"))
    report = check(inspections, sg)
    assert not report.compliant
    assert next(s for s in report.sequences if s.id == "sg.gre_mt0").status == "missing"


def test_spine_generic_ge_mt_tr_cites_the_ge_export_and_philips_t1w_tr_is_shortest():
    sg = load_spec("spine-generic")
    ge = [c for c in sg.sequences["sg.gre_mt1"].constraints_for("ge", 3.0) if c.param == "repetition_time_ms"]
    assert [c.source for c in ge] == ["spine-generic-ge"]
    philips = [c for c in sg.sequences["sg.t1w"].constraints_for("philips", 3.0) if c.param == "repetition_time_ms"]
    # A Philips site at 7.5 ms ("shortest" on the console) is not failed.
    assert all(c.severity != "error" or c.evaluate(7.5) == "pass" for c in philips)


# -- plan -----------------------------------------------------------------------------------------------------------


def _plan(*args):
    result = CliRunner().invoke(main, ["plan", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_plan_in_french_says_recent_within_three_months_and_translates_levels():
    """Seed 002: "une IRM cérébrale et médullaire récente (< 3 mois) avant instauration du traitement"."""
    text = _plan("--situation", "dmt-start", "--lang", "fr")
    assert "récente (< 3 mois) avant le début du traitement" in text
    assert "à faire 3 mois avant" not in text
    assert "gadolinium\u00a0: indiquée" in text and "indicated" not in text
    assert "0,1 mmol/kg" in text
    assert not re.search(r"\b(brain|spine|mag|sg)\.[a-z0-9_]+", text)
    relapse = _plan("--situation", "relapse", "--lang", "fr")
    assert "gadolinium\u00a0: recommandée — En cas de poussée" in relapse


@pytest.mark.parametrize("lang,words", [("en", "not a medical device"), ("fr", "pas un dispositif médical")])
def test_every_plan_says_it_is_decision_support(spec, lang, words):
    for situation in spec.situations:
        assert words in _plan("--situation", situation, "--lang", lang), situation


def test_no_withdrawn_treatment_and_no_invented_schedule_after_a_relapse(spec):
    """Daclizumab's marketing authorisation was withdrawn on 2 March 2018 (EMA; SMC advice 1216/17)."""
    assert not [s for s in spec.situations if "daclizumab" in s]
    relapse = json.loads(_plan("--situation", "relapse", "--format", "json"))
    assert relapse["next_mri"]["note"] is None and relapse["next_mri"]["in_months"] is None
    assert "resumes" not in _plan("--situation", "relapse")
    # A relapse suggesting a cord lesion: the cord in the same session, for the one injection.
    assert relapse["optional_exams"][0]["exam"] == "spine" and "same session" in relapse["optional_exams"][0]["when"]


def test_spinal_due_date_from_the_last_spinal_mri():
    """Seed 001: a whole-cord MRI at least every 3 years."""
    args = ("--situation", "annual-follow-up", "--date", "2026-12-01", "--last-spine", "2024-01-15")
    p = json.loads(_plan(*args, "--format", "json"))
    assert p["spine_due"] == "2027-01-15" and p["spine_overdue"] is False
    late = _plan("--situation", "annual-follow-up", "--date", "2026-12-01", "--last-spine", "2023-06-01")
    assert "spinal cord MRI due now" in late and "2023-06-01" in late


# -- what was missing (issue 13) ------------------------------------------------------------------------------------


def test_pml_surveillance_plan_reporting_a_new_lesion_escalates():
    """MAGNIMS regimen (BMC Neurol 2016 Table 1): contrast-enhanced T1 for a suspected PML lesion."""
    for args in (
        ("--situation", "natalizumab-high-pml-risk"),
        ("--spec", "magnims-2021", "--situation", "natalizumab-high-pml-risk"),
    ):
        p = json.loads(_plan(*args, "--format", "json"))
        escalation = p["if_new_lesion"]
        assert escalation["gadolinium"]["level"] == "indicated"
        assert escalation["gadolinium"]["indication"] == "suspected-pml"
        assert escalation["sources"] == ["magnims-natalizumab-regimen"]
        assert p["gadolinium"] is None  # the surveillance itself stays without gadolinium
    # Today's high-risk definition is shown with its sources.
    text = _plan("--situation", "natalizumab-high-pml-risk")
    assert "≥ 18 months" in text and "prac-natalizumab" in text


def test_reduced_checklist_says_what_to_do_if_a_lesion_is_seen(spec, tmp_path):
    out = _render(spec, tmp_path, exams=("brain",), variants=("reduced",), formats=("md", "html"))
    for name in ("checklist.en.md", "checklist.fr.html", "examcard.en.html"):
        text = (out / "siemens" / "3T" / "brain-reduced" / name).read_text(encoding="utf-8")
        plain = re.sub(r"<[^>]+>", " ", text).replace("\\[", "[").replace("\\]", "]")
        note = re.search(r"(?:new lesion|Nouvelle lésion)[^\n]*?\[(\d+)\]", plain)
        assert note, name
        # The note cites its source by number; the document's list names it: the MAGNIMS natalizumab regimen.
        listed = re.search(rf"\[{note.group(1)}\]\s*\((?:requirement|exigence)?[^)]*\)\s*—\s*([^\n]+)", plain)
        assert listed and listed.group(1).startswith("MAGNIMS consensus guideline"), (name, listed)


def test_stopping_or_switching_natalizumab_is_monitored_for_twelve_months():
    p = json.loads(_plan("--situation", "natalizumab-stop-or-switch", "--format", "json"))
    assert p["next_mri"]["in_months"] == 3 and "12 months" in p["next_mri"]["note"]
    assert p["gadolinium"]["level"] == "recommended"


def test_postpartum_new_baseline_with_its_source():
    """CMSC (AJNR Table 5): brain MRI with gadolinium "postpartum to establish a new baseline"."""
    p = json.loads(_plan("--situation", "postpartum", "--format", "json"))
    assert p["gadolinium"]["indication"] == "postpartum" and p["gadolinium"]["source"] == "cmsc-mri-timing"


def test_gadolinium_considerations_are_shown_with_sources_never_as_rules(spec):
    p = json.loads(_plan("--situation", "first-diagnosis", "--format", "json"))
    ids = {c["id"] for c in p["considerations"]}
    assert {"renal", "dose-by-agent", "one-injection-days-apart"} <= ids
    dose = next(c for c in p["considerations"] if c["id"] == "dose-by-agent")
    # The gadopiclenol SmPC: 0.05 mmol/kg = 0.1 mL/kg; gadobutrol (1.0 M): 0.1 mmol/kg = 0.1 mL/kg.
    assert "0.05 mmol/kg" in dose["text"] and dose["sources"] == ["smpc-gadopiclenol", "smpc-gadobutrol"]
    # Without gadolinium, no injection considerations.
    annual = json.loads(_plan("--situation", "annual-follow-up", "--format", "json"))
    assert not {"renal", "dose-by-agent"} & {c["id"] for c in annual["considerations"]}


def test_plan_for_magnims_gives_its_situations():
    result = CliRunner().invoke(main, ["plan", "--spec", "magnims-2021", "--situation", "nonsense"])
    assert result.exit_code == 2
    for situation in ("diagnosis", "monitoring", "natalizumab-high-pml-risk", "natalizumab-stop-or-switch"):
        assert situation in result.stderr
    diagnosis = json.loads(_plan("--spec", "magnims-2021", "--situation", "diagnosis", "--format", "json"))
    assert diagnosis["gadolinium"]["level"] == "indicated"
    assert diagnosis["exams"] == [{"exam": "brain", "variant": "diagnosis"}, {"exam": "spine", "variant": "diagnosis"}]
    assert "mcdonald-2024-optic-nerve" in {s for c in diagnosis["considerations"] for s in c["sources"]}
    monitoring = json.loads(_plan("--spec", "magnims-2021", "--situation", "monitoring", "--format", "json"))
    assert monitoring["gadolinium"]["level"] == "optional"


@pytest.mark.parametrize("spec_id", ["ofsep-2020", "magnims-2021", "spine-generic", "myrads-2019"])
def test_every_source_a_spec_names_is_listed_by_specs_with_its_citation(spec_id):
    s = load_spec(spec_id)
    listing = CliRunner().invoke(main, ["specs", spec_id])
    assert listing.exit_code == 0, listing.output
    lines = {line.split("\t")[0].strip(): line for line in listing.stdout.splitlines()[1:]}
    named = {c.source for q in s.sequences.values() for c in q.constraints}
    named |= {i["source"] for i in s.gadolinium.get("indications", []) if "source" in i}
    named |= {
        x for c in s.gadolinium.get("considerations", []) for x in ([c["source"]] if "source" in c else c["sources"])
    }
    for situation in s.situations.values():
        named |= set(situation.get("sources", []))
        named |= {x for c in situation.get("considerations", []) for x in c.get("sources", [c.get("source")])}
        named |= set((situation.get("if_new_lesion") or {}).get("sources", []))
    named |= {r["source"] for r in s.session_rules}
    for source in named:
        assert source in lines, source
        assert s.sources[source]["title"] in lines[source]
        assert "seed 00" not in lines[source]


# -- checklists for paper (issue 12) ---------------------------------------------------------------------------------


def test_spine_checklist_has_one_tick_per_station_and_no_flair(spec, tmp_path):
    """Seed 001: "La totalité de la moelle en 2 ou 3 acquisitions"."""
    out = _render(spec, tmp_path, exams=("spine",), formats=("md", "html"), langs=("en",))
    folder = out / "siemens" / "3T" / "spine-standard"
    md = (folder / "checklist.en.md").read_text(encoding="utf-8")
    sagittal = md.split("## 1. Sagittal T2")[1].split("## 2.")[0]
    assert [f"[ ] Station {n}" in sagittal for n in (1, 2, 3)] == [True, True, True]
    assert "Station 3 (if needed)" in sagittal and "FLAIR" not in md
    html = (folder / "checklist.en.html").read_text(encoding="utf-8")
    assert html.count("☐ Station 1") == 3  # the three sagittal sequences (T2, STIR, T1 after gadolinium)


def test_checklists_have_the_dicomdir_export_step_a_dwi_b_value_item_and_observed_blanks(spec, tmp_path):
    """Seed 001: "n'oubliez pas de générer le DICOMDIR"; a DWI's b-values are written down from the console."""
    out = _render(spec, tmp_path, exams=("brain",), variants=("standard",), formats=("md", "html", "pdf"))
    folder = out / "siemens" / "3T" / "brain-standard"
    md = (folder / "checklist.en.md").read_text(encoding="utf-8")
    assert "generate the DICOMDIR" in md and "imagerie@ofsep.org" in md
    dwi = md.split("Axial DWI + ADC map (Recommended)\n")[-1].split("## ")[0]
    assert "| [ ] | b-values [s/mm²] |" in dwi
    french = (folder / "checklist.fr.html").read_text(encoding="utf-8")
    assert "DICOMDIR" in french
    html = (folder / "checklist.en.html").read_text(encoding="utf-8")
    items = re.findall(r'<span class="it[^"]*">☐ (?!Station)[^<]*</span>', html)
    assert items and all(
        "Observed: ________" in item
        for item in items
        if "DICOMDIR" not in item and "Dummy" not in item and "Send" not in item
    )
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(folder / "checklist.en.pdf").pages)
    assert "DICOMDIR" in text and "Observed" in text
