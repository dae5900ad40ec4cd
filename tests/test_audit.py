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
    _audit(str(data), "--spec", "ofsep-2020", "--out", str(out))
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
