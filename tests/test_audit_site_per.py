"""`audit --site-per`: a folder of several DICOM studies is one site by default, a site per exam or per scanner when
asked. Expected values come from the DICOM headers themselves, read here with pydicom: how many StudyInstanceUIDs
the folder holds, and which of them share a scanner (DeviceSerialNumber).

No fixture folder holds several studies, so the test copies real fixture series (dcm_qa: GE SIGNA Pioneer, Siemens
Prisma VE11, Siemens Prisma Fit XA30 classic and enhanced) side by side, as a site's export folder would hold them.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil

import pydicom
from click.testing import CliRunner

from ofsep_presets.cli import main

from .conftest import FIXTURES

DICOM = FIXTURES / "dicom"
SERIES = [
    "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm",
    "Siemens/VE11_PD_T2_tse_sag_1.8mm",
    "Siemens/XA30_classic_T1w_MPRAGE_tfl3d_2mm",
    "Siemens/XA30_enh_DWI_dir80_PA",
]


def _headers(folder):
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or "bids_json" in str(path):
            continue
        data = path.read_bytes()
        try:
            yield pydicom.dcmread(
                io.BytesIO(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data), stop_before_pixels=True
            )
        except pydicom.errors.InvalidDicomError:
            continue


def _audit(folder, out, per=None):
    args = ["audit", str(folder), "--out", str(out), "--executor", "serial", "--quiet"]
    result = CliRunner().invoke(main, args + (["--site-per", per] if per else []))
    assert result.exit_code in (0, 1), result.output
    return json.loads((out / "audit.json").read_text())["sites"]


def test_a_folder_of_studies_is_one_site_by_default_and_a_site_per_exam_or_scanner_when_asked(tmp_path):
    folder = tmp_path / "site-a"
    for series in SERIES:
        shutil.copytree(DICOM / series, folder / series.replace("/", "_"))
    headers = list(_headers(folder))
    studies = {str(ds.StudyInstanceUID) for ds in headers}
    scanners = {(str(ds.get("ManufacturerModelName")), str(ds.get("DeviceSerialNumber"))) for ds in headers}
    assert len(studies) == 4 and len(scanners) == 3  # the two XA30 studies ran on one Prisma Fit

    [whole] = _audit(folder, tmp_path / "a-folder")
    assert whole["id"] == "site-a" and whole["report"]["exam"]["label"] == "4 exams judged as one"

    per_exam = _audit(folder, tmp_path / "a-exam", "exam")
    assert [s["id"] for s in per_exam] == [f"site-a · exam {n}" for n in range(1, 5)]
    assert all(s["report"]["exam"]["of"] == 4 for s in per_exam)

    per_scanner = _audit(folder, tmp_path / "a-scanner", "scanner")
    assert len(per_scanner) == len(scanners)
    joined = [s for s in per_scanner if "2 exams" in s["report"]["exam"]["label"]]
    assert len(joined) == 1 and "Prisma Fit" in joined[0]["report"]["exam"]["label"]
    assert (tmp_path / "a-scanner" / "sites").is_dir() and len(list((tmp_path / "a-scanner/sites").iterdir())) == 3
