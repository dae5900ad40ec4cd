"""The exam model: what was read is grouped into exams before anything is matched, each acquisition placed in its
program and body region from the input's own evidence; several exams are refused unless the user says which."""

from __future__ import annotations

import gzip
import io
import json
import re
import shutil
import zlib

import pydicom
import pytest
from click.testing import CliRunner

from ofsep_presets.cli import main
from ofsep_presets.exams import split
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

DICOM = FIXTURES / "dicom"
BIDS = FIXTURES / "bids/spine-generic-single-subject"
EXPORTS = FIXTURES / "vendor-exports"


def _check(*args: str):
    return CliRunner().invoke(main, ["check", "--quiet", *args])


def _raw(path):
    data = path.read_bytes()
    return pydicom.dcmread(
        io.BytesIO(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data), stop_before_pixels=True
    )


def test_a_dicom_series_and_its_sidecar_in_one_folder_are_one_acquisition(tmp_path):
    series = DICOM / "Siemens/VE11_PD_T2_tse_sag_1.8mm"
    for file in series.iterdir():
        if file.is_file():
            shutil.copy(file, tmp_path / file.name)
    sidecar = next((series / "bids_json_dcm2niix").glob("*.json"))
    shutil.copy(sidecar, tmp_path / sidecar.name)  # the sidecar beside the DICOM files, not in a subfolder
    truth = json.loads(sidecar.read_text())
    result = _check(str(tmp_path), "--format", "json")
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    numbers = {_raw(f).SeriesNumber for f in tmp_path.glob("*.dcm")}
    assert len(numbers) == 1 and truth["SeriesNumber"] in numbers
    assert len(doc["acquisitions"]) == 1  # one series: not a DICOM acquisition plus a sidecar one
    [exam] = split(inspect_path(tmp_path))
    [acq] = exam.acquisitions
    assert acq.context["sidecar"] == sidecar.stem
    assert not acq.provenance["repetition_time_ms"].startswith("sidecar")  # the DICOM wins where it speaks
    filled = [p for p, source in acq.provenance.items() if source.startswith("sidecar")]
    for param in filled:  # what only the sidecar said, said to come from it
        assert acq.provenance[param].startswith(f"sidecar {sidecar.name}")


def test_a_bids_root_of_19_subjects_is_refused_as_one_exam():
    subjects = sorted(p.name for p in BIDS.iterdir() if p.is_dir() and p.name.startswith("sub-"))
    assert len(subjects) == 19
    result = _check(str(BIDS), "--spec", "spine-generic")
    assert result.exit_code == 2
    assert "19 exams" in result.stderr and "--each" in result.stderr and "Traceback" not in result.output
    each = _check(str(BIDS), "--spec", "spine-generic", "--each", "--format", "json")
    assert each.exit_code in (0, 1), each.output
    reports = json.loads(each.stdout)
    assert sorted(r["exam"]["label"].split()[1] for r in reports) == subjects
    assert all(r["exam"]["of"] == 19 for r in reports)


def test_a_folder_of_series_from_four_vendors_is_several_exams():
    folders = [p.parent for p in DICOM.glob("*/*/*") if p.is_file() and not p.name.endswith((".json", ".md"))]
    studies = set()
    for folder in set(folders):
        ds = _raw(min(f for f in folder.iterdir() if f.is_file()))
        studies.add(
            (
                ds.StudyInstanceUID,
                str(ds.get("ManufacturerModelName")),
                str(ds.get("DeviceSerialNumber") or ds.get("StationName")),
            )
        )
    vendors = {folder.parent.name for folder in folders}
    assert vendors == {"Siemens", "GE", "Philips", "Canon"}
    result = _check(str(DICOM))
    assert result.exit_code == 2 and "--exam-of" in result.stderr
    assert f"holds {len(studies)} exams" in result.stderr
    table = _check(str(DICOM), "--each")
    assert table.exit_code in (0, 1)
    verdicts = re.findall(r"^  exam (\d+): (PASS|WARN|FAIL|UNKNOWN)", table.stdout, re.M)
    assert len(verdicts) == len(studies)
    assert "UID" not in table.stdout and not any(uid in table.stdout for uid, _, _ in studies)


def test_exam_of_a_folder_checks_that_exam_and_names_it_with_its_regions():
    chosen = DICOM / "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full"
    truth = json.loads(next((chosen / "bids_json_dcm2niix").glob("*.json")).read_text())
    assert truth["BodyPartExamined"] == "BRAIN"
    result = _check(str(DICOM), "--exam-of", str(chosen), "--format", "json")
    assert result.exit_code in (0, 1), result.output
    doc = json.loads(result.stdout)
    assert doc["exam"]["kind"] == "DICOM study" and "ge" in doc["exam"]["label"]
    [dwi] = [a for a in doc["acquisitions"] if "DWI" in a["name"]]
    assert dwi["region"] == "brain" and any("BodyPartExamined BRAIN" in r for r in dwi["region_reasons"])
    missing = _check(str(DICOM), "--exam-of", "no-such-series")
    assert missing.exit_code == 2 and "no exam holds" in missing.stderr


def test_ge_regions_from_the_anatomy_code_and_the_field_of_view():
    [exam] = split(inspect_path(EXPORTS / "ge/GE_750_no-FOCUS/protocol.tar"))
    acq = {a.name: a for a in exam.acquisitions}
    # LxProtocol ANATOMY "SRT\None\T-11501": SNOMED-RT T-11501 is Cervical spine (DICOM CID 4031).
    assert acq["T2w"].region == "spine" and any("T-11501" in r for r in acq["T2w"].region_reasons)
    assert acq["DWI"].region == "spine"
    # The T1w's sagittal FoV is 32 cm (printout): taller than a head, it spans brain and cord: no single region.
    assert acq["T1w"].region is None and any("spans head and spine" in r for r in acq["T1w"].region_reasons)
    assert (
        acq["T2w"].program
        == acq["T1w"].program
        == "adult_spine_20190130_spine_generic_without_FOCUS_2019013012151030_7"
    )


def _library_edx(tmp_path):
    """The Trio .edx with its program duplicated as two programs named Head and Knee, as a site library holds."""
    text = zlib.decompress((EXPORTS / "siemens/Trio_VB17/spine_generic_siemens-trio.edx").read_bytes()).decode(
        "latin-1"
    )
    parts = re.split(r"(\r?\n@{10,}\r?\n)", text)
    header, body = parts[:2], parts[2:]
    head = "".join(body).replace("MrEdbName=spine+AF8-generic", "MrEdbName=Head")
    knee = "".join(body).replace("MrEdbName=spine+AF8-generic", "MrEdbName=Knee")
    path = tmp_path / "library.edx"
    path.write_bytes(zlib.compress(("".join(header) + head + parts[1] + knee).encode("latin-1")))
    return path


def test_a_siemens_library_places_each_program_in_its_region(tmp_path):
    [exam] = split(inspect_path(_library_edx(tmp_path)))
    by_program: dict[str, set] = {}
    for acq in exam.acquisitions:
        if acq.name in ("T1w", "Localizer"):
            continue  # their fields of view span head and neck
        by_program.setdefault(acq.program, set()).add(acq.region)
    assert by_program == {"\\Head": {"brain"}, "\\Knee": {"other"}}


@pytest.mark.parametrize("words, region", [("IRM CEREBRALE", "brain"), ("IRM MEDULLAIRE", "spine"), ("GENOU", "other")])
def test_a_study_description_names_the_region_in_french(words, region, tmp_path):
    from ofsep_presets.acquisition import Acquisition, Inspection

    acq = Acquisition("3 t2_tse_sag")
    acq.context.update(study="s", scanner="x", study_description=words)
    [exam] = split([Inspection("x", "dicom", acquisitions=[acq])])
    assert exam.acquisitions[0].region == region
