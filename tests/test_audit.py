"""`audit` over the 19-site spine-generic BIDS sidecars (data nobody here wrote): every site and vendor of the
dataset's own participants.tsv is in the report, the known old-protocol site fails for its known reasons, a re-run
reads nothing, and no output carries what the sidecars say about people."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil

import pytest
from click.testing import CliRunner

from ofsep_presets import audit as audit_module
from ofsep_presets.cli import main

from .conftest import FIXTURES

DATASET = FIXTURES / "bids" / "spine-generic-single-subject"


def _participants() -> dict[str, dict[str, str]]:
    rows = csv.DictReader(io.StringIO((DATASET / "participants.tsv").read_text()), delimiter="\t")
    return {row["participant_id"]: row for row in rows}


def _audit(*args: str):
    return CliRunner().invoke(main, ["audit", *args])


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    out = tmp_path_factory.mktemp("audit") / "out"
    result = _audit(str(DATASET), "--spec", "spine-generic", "--out", str(out))
    return out, result


def test_every_site_and_vendor_of_the_dataset_is_in_the_report(first):
    out, result = first
    assert result.exit_code == 1, result.stderr  # some sites are not compliant (below)
    doc = json.loads((out / "audit.json").read_text())
    participants = _participants()
    assert len(participants) == 19
    assert [s["id"] for s in doc["sites"]] == sorted(participants)
    # Vendor of each site, as participants.tsv states it (not through our reader).
    assert {s["id"]: s["scanner"]["vendor"] for s in doc["sites"]} == {
        pid: row["manufacturer"].lower() for pid, row in participants.items()
    }
    assert {g["vendor"] for g in doc["breakdowns"]["vendor"]} == {"siemens", "philips", "ge"}
    assert sum(len(g["sites"]) for g in doc["breakdowns"]["model"]) == 19
    html = (out / "audit.html").read_text()
    for pid in participants:
        assert f">{pid}</a>" in html
        assert (out / "sites" / f"{pid}.html").is_file()
    assert html.count("<svg") == len(audit_module.distributions(doc)) > 10
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "") and "<script" not in html
    rows = list(csv.DictReader(io.StringIO((out / "audit.csv").read_text())))
    assert {r["site"] for r in rows} == set(participants)


def test_the_old_trio_site_fails_for_the_t2w_values_its_sidecar_states(first):
    out, _ = first
    sidecar = json.loads((DATASET / "sub-mgh" / "anat" / "sub-mgh_T2w.json").read_text())
    expected = {"repetition_time_ms": sidecar["RepetitionTime"] * 1000, "flip_angle_deg": sidecar["FlipAngle"]}
    assert expected == {"repetition_time_ms": 2000, "flip_angle_deg": 180}  # the VB17 protocol (test_spine_generic)
    doc = json.loads((out / "audit.json").read_text())
    mgh = next(s for s in doc["sites"] if s["id"] == "sub-mgh")
    assert mgh["status"] == "fail" and mgh["scanner"]["software"] == "syngo_MR_B17"
    failed = {
        (seq["id"], c["param"]): c["observed"]
        for seq in mgh["report"]["sequences"]
        for c in seq["checks"]
        if c["status"] == "fail"
    }
    assert failed == {("sg.t2w", p): v for p, v in expected.items()}


def test_no_output_carries_what_the_sidecars_say_about_people(first):
    out, _ = first
    # The sidecars hold a procedure description with the operator's name and the institution's address.
    sidecar = json.loads((DATASET / "sub-chibaIngenia" / "anat" / "sub-chibaIngenia_T1w.json").read_text())
    secrets = [sidecar["ProcedureStepDescription"], sidecar["InstitutionAddress"], "julien"]
    for path in out.rglob("*"):
        if path.is_file() and path.suffix in (".html", ".csv", ".json"):
            text = path.read_text()
            assert not any(s in text for s in secrets), path


def test_a_rerun_over_unchanged_files_reads_nothing_and_a_touched_site_is_read_again(tmp_path, monkeypatch):
    data = tmp_path / "data"
    shutil.copytree(DATASET, data)
    out = tmp_path / "out"
    assert _audit(str(data), "--spec", "spine-generic", "--out", str(out)).exit_code == 1
    before = (out / "audit.json").read_text()
    reads = []
    real = audit_module.inspect_path
    monkeypatch.setattr(audit_module, "inspect_path", lambda path: reads.append(path.name) or real(path))
    result = _audit(str(data), "--spec", "spine-generic", "--out", str(out))
    assert result.exit_code == 1 and reads == []
    assert "(19 from the cache)" in result.stderr
    assert (out / "audit.json").read_text() == before
    # One sidecar changes (its modification time): that site, and only it, is read again.
    sidecar = data / "sub-unf" / "anat" / "sub-unf_T1w.json"
    os.utime(sidecar, ns=(sidecar.stat().st_atime_ns, sidecar.stat().st_mtime_ns + 10**9))
    result = _audit(str(data), "--spec", "spine-generic", "--out", str(out))
    assert reads == ["sub-unf"] and "(18 from the cache)" in result.stderr
    # Another spec is another result: nothing comes from the cache.
    reads.clear()
    _audit(str(data), "--spec", "ofsep-2020", "--out", str(out), "--executor", "serial")  # reads seen here
    assert len(reads) == 19


def test_unreadable_sites_are_reported_and_exit_2_and_a_foreign_out_is_refused(tmp_path):
    garbage = tmp_path / "site-broken.dcm"
    garbage.write_bytes(b"\x00" * 300)
    good = DATASET / "sub-unf"
    out = tmp_path / "out"
    result = _audit(str(good), str(garbage), "--spec", "spine-generic", "--out", str(out))
    assert result.exit_code == 2
    doc = json.loads((out / "audit.json").read_text())
    assert [(s["id"], s["status"]) for s in doc["sites"]][1] == ("site-broken.dcm", "unreadable")
    assert doc["summary"]["unreadable"] == 1 and "site-broken.dcm" in result.stderr
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    result = _audit(str(good), "--out", str(foreign))
    assert result.exit_code == 2 and "holds no earlier audit" in result.stderr
    assert sorted(p.name for p in foreign.iterdir()) == ["notes.txt"]


def test_an_earlier_audit_folder_is_rewritten_without_pages_of_sites_no_longer_audited(tmp_path):
    out = tmp_path / "out"
    sites = [str(DATASET / "sub-unf"), str(DATASET / "sub-mgh")]
    _audit(*sites, "--spec", "spine-generic", "--out", str(out), "--quiet")
    assert sorted(p.name for p in (out / "sites").iterdir()) == ["sub-mgh.html", "sub-unf.html"]
    result = _audit(sites[0], "--spec", "spine-generic", "--out", str(out), "--quiet")
    assert result.exit_code in (0, 1) and result.stderr == ""
    assert sorted(p.name for p in (out / "sites").iterdir()) == ["sub-unf.html"]
    assert [s["id"] for s in json.loads((out / "audit.json").read_text())["sites"]] == ["sub-unf"]


# -- issue 17: fail, missing and "cannot tell" kept apart -------------------------------------------------------
# spine-generic's own file naming (the dataset's suffixes) for each sequence of the protocol, and the sequences the
# spec file says are required. Nothing here comes from our reader or our report.
SUFFIXES = {
    "T1w": "sg.t1w",
    "T2w": "sg.t2w",
    "dwi": "sg.dwi",
    "T2star": "sg.gre_me",
    "flip-1_mt-on_MTS": "sg.gre_mt1",
    "flip-2_mt-off_MTS": "sg.gre_t1w",
    "flip-1_mt-off_MTS": "sg.gre_mt0",
}


def _required() -> set[str]:
    import yaml

    from .conftest import ROOT

    doc = yaml.safe_load((ROOT / "protocol_spec" / "spine-generic.yaml").read_text())
    return {seq for exam in doc["exams"].values() for v in exam["variants"].values() for seq in v["required"]}


STATED_BY = {"MRAcquisitionType": "acquisition_type", "SliceThickness": "slice_thickness_mm"}


def _sidecars(site: str) -> dict[str, dict]:
    """The site's sidecars of the protocol's sequences, by sequence (an extra one, e.g. acq-b0_dwi, is left out)."""
    found = {}
    for path in sorted((DATASET / site).glob("*/*.json")):
        suffix = path.stem.removeprefix(f"{site}_")
        if suffix in SUFFIXES:
            found[SUFFIXES[suffix]] = json.loads(path.read_text())
    return found


def test_the_summary_keeps_fail_missing_and_cannot_tell_apart_and_says_what_to_ask_for(first):
    out, result = first
    doc = json.loads((out / "audit.json").read_text())
    participants = _participants()
    expected_missing = {site: sorted(seq for seq in _required() if seq not in _sidecars(site)) for site in participants}
    assert {"sg.gre_mt1", "sg.gre_t1w"} <= set(expected_missing["sub-douglas"])  # the MTS files it lacks
    by_id = {s["id"]: s for s in doc["sites"]}
    for site, entry in by_id.items():
        assert sorted(entry["missing"]) == expected_missing[site], site
        not_stated = {(seq, n["param"]) for n in entry["not_stated"] for seq in n["sequences"]}
        checked = {(seq["id"], c["param"]) for seq in entry["report"]["sequences"] for c in seq["checks"]}
        matched = {q["id"]: q["matched"] for q in entry["report"]["sequences"] if q["matched"]}
        for seq, stem in matched.items():
            sidecar = json.loads(next((DATASET / site).glob(f"*/{stem}.json")).read_text())
            for key, param in STATED_BY.items():
                if (seq, param) in checked:
                    assert ((seq, param) in not_stated) == (key not in sidecar), (site, seq, key)
            # No sidecar folder of the dataset holds a .bval file: the b-values are never stated.
            if seq == "sg.dwi" and (seq, "b_values") in checked:
                assert not list((DATASET / site).glob("dwi/*.bval")) and (seq, "b_values") in not_stated
        if entry["not_stated"]:
            assert entry["ask_for"].count("(") >= len(entry["not_stated"])
    # The verdicts are disjoint and the summary counts them.
    s = doc["summary"]
    verdicts = [e["verdict"] for e in by_id.values()]
    assert {v: verdicts.count(v) for v in set(verdicts)} == s["verdicts"]
    assert s["compliant"] + s["fail"] + s["missing"] + s["unknown"] + s["unreadable"] == len(participants) == 19
    assert s["unknown"] >= 1 and s["fail"] >= 1  # not "0 compliant, 19 not"
    for e in by_id.values():
        failing = [c for q in e["report"]["sequences"] for c in q["checks"] if c["status"] == "fail"]
        if e["verdict"] == "unknown":
            assert not failing and not e["missing"] and e["not_stated"]
        if e["verdict"] == "missing":
            assert not failing and e["missing"]
    line = result.stderr
    assert f"{s['fail']} fail" in line and f"{s['unknown']} cannot tell (the input does not say)" in line
    # Every site says what to ask it for, in the HTML too (sub-chiba750's T1w sidecar states no 2D/3D).
    assert "MRAcquisitionType" not in _sidecars("sub-chiba750")["sg.t1w"]
    assert "acquisition (2D/3D)" in by_id["sub-chiba750"]["ask_for"]
    html = (out / "audit.html").read_text()
    assert html.count("Ask the site for:") == sum(1 for e in by_id.values() if e["not_stated"])
    # The CSV carries the site's verdict and which values were not stated.
    rows = list(csv.DictReader(io.StringIO((out / "audit.csv").read_text())))
    assert {r["site"]: r["site_verdict"] for r in rows} == {k: e["verdict"] for k, e in by_id.items()}
    unstated = {(r["site"], r["sequence"], r["param"]) for r in rows if r["stated"] == "no" and r["param"]}
    assert unstated == {
        (k, seq, n["param"]) for k, e in by_id.items() for n in e["not_stated"] for seq in n["sequences"]
    }


def test_the_matrix_gives_cannot_tell_and_missing_colours_of_their_own(first):
    import re

    out, _ = first
    html = (out / "audit.html").read_text()
    colours = {
        cls: re.search(rf"td\.{cls} {{ background: (#[0-9a-f]{{6}})", html).group(1)
        for cls in ("pass", "unknown", "fail", "missing")
    }
    assert len(set(colours.values())) == 4, colours
    assert (
        'class="cell unknown"' in html
        and 'class="cell missing"' in html
        and "cannot tell (the input does not say)" in html
    )
