"""Issue 12: console suggestions derived reproducibly from real reference acquisitions, each naming its file.

Expected values come from the reference sidecars themselves (raw JSON, seconds converted here by hand), never from
our readers' output.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from ofsep_presets.readers import inspect_path
from ofsep_presets.render import Selection, render
from ofsep_presets.spec import load_spec
from ofsep_presets.suggest import from_config

from .conftest import FIXTURES, ROOT

REFS = FIXTURES / "references"
GENERATED = ROOT / "protocol_spec" / "suggested" / "ofsep-2020.yaml"

pytestmark = pytest.mark.skipif(not REFS.exists(), reason="../shared/fixtures/references is absent")


def _generated():
    return yaml.safe_load(GENERATED.read_text(encoding="utf-8"))


def _raw(source: dict) -> dict:
    """The reference sidecar a source's URL names, read as plain JSON (for a manifest's file, the URL and the
    generated `files:` entry must name the same bytes)."""
    manifest = json.loads((REFS / "manifest.json").read_text(encoding="utf-8"))
    row = next(r for r in manifest if source["url"].endswith(f"/{r['commit']}/{r['path']}"))
    return json.loads((REFS / row["dest"]).read_text(encoding="utf-8"))


def _sidecars(generated: dict):
    """(sequence, entry, raw JSON) for every generated suggestion whose source is a JSON sidecar."""
    for seq_id, block in generated["sequences"].items():
        for entry in block["suggested"]:
            rel = generated["files"][entry["source"]]
            if not rel.endswith(".json"):
                continue  # the GE protocol report: tests/test_sourced_cells.py reads its text
            raw = json.loads((FIXTURES / rel).read_text(encoding="utf-8"))
            source = generated["sources"][entry["source"]]
            if "url" in source:
                assert _raw(source) == raw, entry["source"]
            yield seq_id, entry, raw


def _stated(entry: dict, param: str, raw_value: float | None, got: float | None, abs_: float) -> None:
    """A value the suggestion gives equals the file's; one it withholds names the file's value."""
    withheld = entry.get("withheld") or {}
    if raw_value is None:  # the file does not state it: neither does the suggestion
        assert got is None and param not in withheld, (entry["source"], param)
    elif param in withheld:
        assert withheld[param]["value"] == pytest.approx(raw_value, abs=abs_), (entry["source"], param)
    else:
        assert got == pytest.approx(raw_value, abs=abs_), (entry["source"], param)


def test_the_bundled_suggestions_are_exactly_what_the_tool_derives_from_the_references():
    doc, _ = from_config(ROOT / "tools" / "references.yaml", FIXTURES)
    assert doc == _generated()


def test_each_suggestion_equals_its_source_file():
    generated = _generated()
    assert generated["sequences"], "no suggestion derived"
    checked = 0
    for _, entry, raw in _sidecars(generated):
        values = entry["values"]
        # As the vendor's console takes it: to the precision its card shows (at most 0.05 ms off).
        tr, te = raw.get("RepetitionTime"), raw.get("EchoTime")
        _stated(entry, "repetition_time_ms", tr and tr * 1000, values.get("repetition_time_ms"), 0.05)
        _stated(entry, "echo_time_ms", te and te * 1000, values.get("echo_time_ms"), 0.05)
        _stated(entry, "flip_angle_deg", raw.get("FlipAngle"), values.get("flip_angle_deg"), 1e-6)
        _stated(entry, "slice_thickness_mm", raw.get("SliceThickness"), values.get("slice_thickness_mm"), 0.005)
        checked += 1
    assert checked >= 30


def test_cards_and_sheets_carry_the_source_values_and_round_trip(tmp_path):
    spec = load_spec("ofsep-2020")
    generated = _generated()
    render(spec, tmp_path, Selection(exams=("brain",), formats=("sheet", "md"), langs=("en",)))
    checked = 0
    for seq_id, entry, raw in _sidecars(generated):
        if spec.sequences[seq_id].exam != "brain":
            continue
        if spec.sequences[seq_id].suggestion(entry["vendor"], entry["field_t"]).source != entry["source"]:
            continue  # an earlier (spine-generic) suggestion serves this cell
        field = "1.5T" if entry["field_t"] < 2 else "3T"
        variants = [v.key for v in spec.variants() if seq_id in v.order]
        folder = tmp_path / entry["vendor"] / field / variants[0]
        sheet = next(
            p for p in folder.iterdir() if not p.name.endswith((".md", ".html")) and not p.name.startswith(".")
        )
        # Our own sheets name a step by its id; a Siemens print-protocol by the sequence's name.
        label = spec.sequences[seq_id].label["en"]
        acq = next(
            a
            for i in inspect_path(sheet)
            for a in i.acquisitions
            if a.name == seq_id or a.name == label or a.name.startswith(label + " ")
        )
        # Sheets print at the console's precision (Philips: TR to 0.1 ms).
        assert acq.get("repetition_time_ms") == pytest.approx(raw["RepetitionTime"] * 1000, abs=0.051), sheet
        assert acq.get("echo_time_ms") == pytest.approx(raw["EchoTime"] * 1000, abs=0.051), sheet
        assert acq.get("flip_angle_deg") == pytest.approx(raw["FlipAngle"]), sheet
        if "slice_thickness_mm" not in (entry.get("withheld") or {}):
            assert acq.get("slice_thickness_mm") == pytest.approx(raw["SliceThickness"], abs=0.01), sheet
        card = (folder / "checklist.en.md").read_text(encoding="utf-8")
        # The checklist cites the source by number, and its list of sources names the file the values come from.
        assert Path(generated["files"][entry["source"]]).name in _cited_title(card, label), (sheet, label)
        checked += 1
    assert checked >= 10


def test_one_and_a_half_and_three_tesla_cards_differ_where_the_sources_do(tmp_path):
    spec = load_spec("ofsep-2020")
    render(spec, tmp_path, Selection(vendors=("philips",), exams=("brain",), variants=("standard",), formats=("md",)))
    low = (tmp_path / "philips" / "1.5T" / "brain-standard" / "checklist.en.md").read_text(encoding="utf-8")
    high = (tmp_path / "philips" / "3T" / "brain-standard" / "checklist.en.md").read_text(encoding="utf-8")
    t1_low = low.split("## 1. ")[1].split("## 2. ")[0]
    t1_high = high.split("## 1. ")[1].split("## 2. ")[0]
    assert t1_low.replace("1.5 T", "3 T") != t1_high
    t1 = "3D T1, millimetric"
    assert "(SOOP)" in _cited_title(low, t1) and "(SOOP)" not in _cited_title(high, t1)


def _cited_title(checklist: str, label: str) -> str:
    """What a Markdown checklist's list of sources says of the source the step `label` cites ("[n]")."""
    plain = checklist.replace("\\[", "[").replace("\\]", "]").replace("\\_", "_")
    step = re.search(rf"## \d+\. {re.escape(label)}.*?Suggested values from \[(\d+)\]", plain, flags=re.S)
    assert step, label
    listed = re.search(rf"^- \[{step.group(1)}\] (.*)$", plain, flags=re.M)
    assert listed, step.group(1)
    return listed.group(1)
