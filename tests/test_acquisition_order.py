"""Acquisition order: what rests on it (gadolinium before the 3D FLAIR; a series after an injection being
post-contrast) is judged only in an order the input states.

An export lists its steps in the order they run; a dummy run's files (BIDS sidecars, DICOM) are listed by file
name, which says nothing of when each was acquired. The premise of each test is read from the real files: the SOOP
sidecars (ds004889) state neither AcquisitionTime nor SeriesNumber, the ON-Harmony ones (ds004712) state both.
"""

from __future__ import annotations

import json
import shutil

from ofsep_presets.check import check
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

REFS = FIXTURES / "references" / "soop"
SOOP = REFS / "sub-1049" / "anat"
HARMONY = FIXTURES / "references" / "on-harmony" / "sub-03286" / "ses-OXF3TRI001" / "anat"


def _rule(report, start: str):
    return next(r for r in report.session if r.rule.startswith(start))


def test_soop_sidecars_state_no_order(spec, tmp_path):
    sidecars = [json.loads(p.read_text()) for p in SOOP.glob("*.json")]
    assert sidecars and all("AcquisitionTime" not in d and "SeriesNumber" not in d for d in sidecars)
    for p in SOOP.glob("*.json"):
        shutil.copy(p, tmp_path / p.name)
    report = check(inspect_path(tmp_path), spec)
    # The T1w is "Sag T1 3D Post Contrast", the FLAIR's file name sorts first: which came first is not stated.
    assert _sequence_matched(report, "brain.t1_3d_gd") == "sub-1049_T1w"
    rule = _rule(report, "gadolinium before")
    assert rule.status == "unknown", rule
    assert "order is not known" in rule.detail


def test_no_post_contrast_by_file_name_order(spec, tmp_path):
    # Two SOOP Achieva 3 T sessions' 3D T1s put in one session: one named post-contrast, the other stating nothing
    # of contrast, whose file sorts after it ("sub-01_T1w" < "sub-01_run-2_T1w"). File order is no acquisition
    # order, so the plain one is not post-contrast for that; and one protocol before and after an injection is
    # the pre/post pair (OFSEP: "same parameters as #1"), not a repeat: it is the pre-contrast 3D T1.
    post, plain = REFS / "sub-1093" / "anat" / "sub-1093_T1w.json", REFS / "sub-1005" / "anat" / "sub-1005_T1w.json"
    assert "post contrast" in json.loads(post.read_text())["SeriesDescription"].lower()
    assert "contrast" not in json.loads(plain.read_text())["SeriesDescription"].lower()
    shutil.copy(post, tmp_path / "sub-01_T1w.json")
    shutil.copy(plain, tmp_path / "sub-01_run-2_T1w.json")
    report = check(inspect_path(tmp_path), spec)
    assert _sequence_matched(report, "brain.t1_3d_gd") == "sub-01_T1w"
    assert _sequence_matched(report, "brain.t1_3d") == "sub-01_run-2_T1w"


def test_stated_times_order_the_session(spec):
    times = {p.name: json.loads(p.read_text()).get("AcquisitionTime") for p in HARMONY.glob("*.json")}
    assert all(times.values())
    report = check(inspect_path(HARMONY.parent), spec)
    assert "order is not known" not in " ".join(r.detail for r in report.session)


def _sequence_matched(report, seq_id):
    seq = next(s for s in report.sequences if s.id == seq_id)
    return seq.matched[0].acquisition.name if seq.matched else None


def test_scans_tsv_acq_time_orders_a_session(spec, tmp_path):
    # BIDS "Scans file" (bids-specification, data summary files): sub-<label>[_ses-<label>]_scans.tsv beside the
    # data-type folders, `filename` relative to it, `acq_time` a datetime. Here it says the FLAIR came after the
    # post-contrast T1 (the SOOP sidecars state no time): gadolinium before the 3D FLAIR, as OFSEP wants.
    session = tmp_path / "sub-1049"
    (session / "anat").mkdir(parents=True)
    for p in SOOP.glob("*.json"):
        shutil.copy(p, session / "anat" / p.name)
    (session / "sub-1049_scans.tsv").write_text(
        "filename\tacq_time\n"
        "anat/sub-1049_T1w.nii.gz\t1900-01-01T10:12:30\n"
        "anat/sub-1049_FLAIR.nii.gz\t1900-01-01T10:20:05.500000\n"
    )
    report = check(inspect_path(tmp_path), spec)
    flair = next(a for a in report.sequences if a.id == "brain.flair_3d").matched[0].acquisition
    assert flair.get("acquisition_time") == "10:20:05.500000"
    assert "sub-1049_scans.tsv acq_time" in flair.provenance["acquisition_time"]
    rule = _rule(report, "gadolinium before")
    assert rule.status == "pass" and "acquisition time" in rule.detail, rule
    # The other order: the FLAIR acquired first is the warning the sheet's "ideally" gives.
    (session / "sub-1049_scans.tsv").write_text(
        "filename\tacq_time\nanat/sub-1049_T1w.nii.gz\t1900-01-01T10:32:30\nanat/sub-1049_FLAIR.nii.gz\t1900-01-01T10:20:05\n"
    )
    assert _rule(check(inspect_path(tmp_path), spec), "gadolinium before").status == "warn"
    # A row without a time ("n/a") leaves that scan's time unknown, and with it the order.
    (session / "sub-1049_scans.tsv").write_text(
        "filename\tacq_time\nanat/sub-1049_T1w.nii.gz\t1900-01-01T10:32:30\nanat/sub-1049_FLAIR.nii.gz\tn/a\n"
    )
    assert _rule(check(inspect_path(tmp_path), spec), "gadolinium before").status == "unknown"
