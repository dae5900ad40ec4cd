"""Reports: one model in five formats; no patient identifier in any of them; the HTML page in a real browser."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pydicom
import pytest
from click.testing import CliRunner
from lxml import etree

from ofsep_presets.cli import main

from .conftest import FIXTURES

DICOM = FIXTURES / "dicom"
PHI = {  # distinctive values, so that finding one anywhere can only mean a leak
    "PatientName": "Qzxlyn^Vrabtik",
    "PatientID": "PID7731X",
    "PatientBirthDate": "19010203",
    "AccessionNumber": "ACX55219",
    "OtherPatientIDs": "OPI88123",
    "InstitutionAddress": "Rue Quibblex 12",
    "ReferringPhysicianName": "Drmqzz^Tolvex",
    "PatientAddress": "Lane Xqvrt 7",
}
SERIES = [
    DICOM / "GE" / "SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm",
    DICOM / "Siemens" / "XA30_classic_DWI_dir80_AP",
    DICOM / "Siemens" / "XA30_classic_DWI_dir80_AP_ADC",
    DICOM / "Philips" / "Ingenia_classic_DTI_Biobank_2mm_full",
]


@pytest.fixture(scope="module")
def exam_with_phi(tmp_path_factory) -> Path:
    """Copies of fixture series with patient identifiers written into every header."""
    exam = tmp_path_factory.mktemp("deid") / "exam"
    for series in SERIES:
        for path in sorted(series.iterdir()):
            if not path.is_file() or path.suffix in (".json", ".bval", ".bvec"):
                continue
            raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
            try:
                ds = pydicom.dcmread(io.BytesIO(raw))
            except Exception:
                continue
            for keyword, value in PHI.items():
                setattr(ds, keyword, value)
            target = exam / series.name / path.name.removesuffix(".gz")
            target.parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(target)
    return exam


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout


def test_no_output_of_any_format_contains_a_patient_identifier(exam_with_phi, tmp_path):
    outputs = {}
    for fmt in ("table", "json", "html", "junit", "csv"):
        code, outputs[f"check-{fmt}"] = _run("check", "--one-exam", str(exam_with_phi), "--format", fmt)
        assert code == 1, fmt  # the exam is not compliant (no FLAIR): the report was written all the same
    code, outputs["inspect-json"] = _run("inspect", str(exam_with_phi), "--format", "json")
    code, outputs["inspect-table"] = _run("inspect", str(exam_with_phi))
    for fmt in ("table", "json", "html", "csv"):
        _, outputs[f"compare-{fmt}"] = _run("compare", str(exam_with_phi), str(SERIES[0]), "--format", fmt)
    assert "DTI_Biobank" in outputs["check-json"]  # the reports are about the exam...
    for name, text in outputs.items():
        for keyword, value in PHI.items():  # ...and say nothing about the patient
            for part in {value, *value.split("^")} - {""}:
                assert part.lower() not in text.lower(), (name, keyword)
    # The header copies really carry the identifiers (so this test can fail).
    some = next(exam_with_phi.rglob("*.dcm"))
    assert str(pydicom.dcmread(some).PatientName) == PHI["PatientName"]


def test_json_report_follows_the_contract():
    code, text = _run("check", str(DICOM / "Philips" / "Ingenia_classic_DTI_Biobank_2mm_full"), "--format", "json")
    doc = json.loads(text)
    assert code == 1
    assert {"spec", "variant", "source", "status", "sequences", "session", "unmatched"} <= set(doc)
    assert doc["spec"] == "ofsep-2020" and doc["status"] == "fail"
    dti = next(s for s in doc["sequences"] if s["id"] == "brain.dti")
    check = next(c for c in dti["checks"] if c["param"] == "diffusion_directions")
    assert check == {
        "param": "diffusion_directions",
        "rule": ">= 15",
        "rule_words": "≥ 15",
        "label": "Diffusion directions",
        "observed": 12,
        "status": "fail",
        "severity": "error",
        "source": "ofsep-2020",
        "vendor_label": "nr of directions",
        "vendor_value": "12",
        "provenance": check["provenance"],
    }
    assert dti["matched"] == "701 DTI_Biobank_2mm_MB3S2_EPI" and 0 < dti["confidence"] <= 1
    statuses = {"pass", "warn", "fail", "missing", "unknown", "not-applicable"}
    assert all(s["status"] in statuses for s in doc["sequences"] + doc["session"])


def test_junit_counts_failures_and_csv_is_one_row_per_check(tmp_path):
    folder = str(DICOM / "GE" / "SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm")
    _, xml = _run("check", folder, "--format", "junit")
    root = etree.fromstring(xml.encode())
    t1 = root.find("testsuite[@name='brain.t1_3d']")
    failed = [c.get("name") for c in t1.iter("testcase") if c.find("failure") is not None]
    assert failed == ["brain.t1_3d: voxel_size_mm <= 1.0", "brain.t1_3d: slice_thickness_mm <= 1.0"]
    assert int(root.get("failures")) == len(root.findall(".//failure"))
    _, text = _run("check", folder, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    thickness = next(r for r in rows if r["sequence"] == "brain.t1_3d" and r["param"] == "slice_thickness_mm")
    assert (thickness["observed"], thickness["status"], thickness["vendor_value"]) == ("1.2", "fail", "1.2 mm")


def test_out_writes_a_file_and_never_replaces_someone_elses(tmp_path):
    folder = str(DICOM / "GE" / "SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm")
    target = tmp_path / "report.html"
    assert _run("check", folder, "--format", "html", "--out", str(target))[0] == 1
    first = target.read_text()
    assert first.startswith("<!DOCTYPE html>")
    assert _run("check", folder, "--format", "html", "--out", str(target))[0] == 1  # our own report: replaced
    precious = tmp_path / "notes.txt"
    precious.write_text("my notes")
    code, _ = _run("check", folder, "--out", str(precious))
    assert code == 2 and precious.read_text() == "my notes"  # refused: exit 2 (issue 14), 1 means non-compliant


def test_unreadable_input_or_bad_map_exits_2(tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\0" * 300)
    result = CliRunner().invoke(main, ["check", str(junk)])
    assert result.exit_code == 2 and "not a format ofsep-presets reads" in result.stderr
    result = CliRunner().invoke(main, ["check", str(SERIES[0]), "--map", "5=brain.nope"])
    assert result.exit_code == 2 and "brain.t1_3d" in result.stderr  # lists the sequences that exist


def test_compare_two_vendors_meets_their_t1s_through_the_spec():
    philips = str(DICOM / "Philips" / "Ingenia_classic_ADNI_Sag3D_MPRAGE_1mm")
    ge = str(DICOM / "GE" / "SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm")
    code, text = _run("compare", philips, ge, "--format", "json")
    doc = json.loads(text)
    assert code == 1 and not doc["same"]
    pair = next(p for p in doc["pairs"] if p["key"] == "brain.t1_3d")
    assert (pair["a"], pair["b"]) == ("1301 ADNI_Sag3D MPRAGE", "5 3D Ax T1 MP-RAGE_R22")
    thickness = next(d for d in pair["differences"] if d["param"] == "slice_thickness_mm")
    assert (thickness["a"], thickness["b"]) == (1.0, 1.2)
    assert thickness["b_console"] == "Slice Thickness: 1.2 mm"
    code, _ = _run("compare", philips, philips)
    assert code == 0


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)")
def test_html_report_loads_without_console_errors_and_prints_in_chromium(tmp_path):
    from pypdf import PdfReader

    page = tmp_path / "report.html"
    _run("check", "--one-exam", *(str(p) for p in SERIES), "--format", "html", "--out", str(page))
    common = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*common, "--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Compliance report" in dom.stdout and "brain.dti" in dom.stdout
    console = [line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Refused to" in line]
    assert console == []
    pdf, shot = tmp_path / "report.pdf", tmp_path / "report.png"
    for output in (f"--print-to-pdf={pdf}", f"--screenshot={shot}"):
        subprocess.run(
            [*common, output, "--no-pdf-header-footer", "--window-size=1280,1600", page.as_uri()],
            capture_output=True,
            timeout=120,
            check=True,
        )
    text = unicodedata.normalize("NFKC", "\n".join(p.extract_text() for p in PdfReader(pdf).pages))  # ﬀ → ff
    assert "3D Ax T1 MP-RAGE" in text and "diffusion_directions" in text and "brain.t1_3d" in text.lower()
    assert shot.stat().st_size > 10_000
