"""The lumbar spine is a region of its own only when nothing else in the exam places a series in the spine.

OFSEP's spinal exam is the cord: "IRM médullaire", "la totalité de la moelle en 2 ou 3 acquisitions" (seed 001,
ofsep-2020.yaml exams.spine). Its lower station covers the conus, and a console or a site names or files it lumbar.
Beside any series that places the exam in the spine (a cord, cervical or thoracic name or code, a generic SPINE
filing of another series, cord words in the study description), a lumbar-stated series is a station of the spine;
a lumbar program alone (tests/test_ge_library_regions.py, the MR-AAT "adult_spine_A13_Neu_LumbarSpine" report)
stays lumbar.

The studies are built from the real Siemens sagittal TSE fixture series (tests/dicom_study.py), with only what a
console writes changed:
- Body Part Examined (0018,0015), PS3.3 C.7.3.1, defined terms of PS3.16 Annex L: SPINE, CSPINE, TSPINE, LSPINE,
  HEAD.
- Anatomic Region Sequence (0008,2218), PS3.3 10.5 General Anatomy macros, CID 4031 "Common Anatomic Regions" as
  DCMTK lists it (dcmsr/libcmr/cid4031.cc): ("T-D04FF", "SRT", "Spine"), ("T-11503", "SRT", "Lumbar spine"); GE
  writes these codes (its LxProtocol ANATOMY "SRT\\None\\T-11503", tests/test_exams.py).
- Study Description (0008,1030), Series Description (0008,103E), Acquisition Time (0008,0032): each station is its
  own acquisition, later than the one above it.
"""

from __future__ import annotations

import json

import pydicom
import pytest
from click.testing import CliRunner

from ofsep_presets.acquisition import Acquisition, Inspection
from ofsep_presets.cli import main
from ofsep_presets.exams import split

from .dicom_study import Study, fixture_files, read

T2_SAG = "Siemens/VE11_PD_T2_tse_sag_1.8mm"
T1 = "Siemens/XA30_classic_T1w_MPRAGE_tfl3d_2mm"
UID = "1.2.826.0.1.3680043.8.498.77001"


def _regions(folder) -> dict[str, str | None]:
    result = CliRunner().invoke(main, ["check", "--quiet", str(folder), "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    return {a["name"]: a["region"] for a in json.loads(result.stdout)["acquisitions"]}


def _code(value: str, meaning: str) -> pydicom.Sequence:
    item = pydicom.Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, "SRT", meaning
    return pydicom.Sequence([item])


def _station(number: int, name: str, study: str | None, **elements):
    # The fixture's own BodyPartExamined is BRAIN: each case states its own (None: not written, Type 3).
    return (T2_SAG, number, name, {"StudyDescription": study, "BodyPartExamined": None, **elements})


CORD = [
    # 1. A cord word in the study beside a lumbar word or code on the lower station: the tie is the spine's.
    (
        "IRM médullaire / dorso-lombaire",
        [
            _station(10, "T2 sag cervico-dorsal", "IRM médullaire"),
            _station(11, "T2 sag dorso-lombaire", "IRM médullaire"),
        ],
    ),
    (
        "IRM moelle SEP / thoraco-lumbar",
        [_station(10, "sag T2 cervical", "IRM moelle SEP"), _station(11, "sag T2 thoraco-lumbar", "IRM moelle SEP")],
    ),
    (
        "IRM moelle, SPINE / LSPINE",
        [
            _station(10, "t2_tse_sag_1", "IRM moelle", BodyPartExamined="SPINE"),
            _station(11, "t2_tse_sag_2", "IRM moelle", BodyPartExamined="LSPINE"),
        ],
    ),
    # 2. The upper station filed with the generic SPINE (or CID 4031 Spine), the lower one lumbar.
    (
        "SPINE / LSPINE",
        [
            _station(10, "t2_tse_sag_1", None, BodyPartExamined="SPINE"),
            _station(11, "t2_tse_sag_2", None, BodyPartExamined="LSPINE"),
        ],
    ),
    (
        "CID 4031 Spine / Lumbar spine",
        [
            _station(10, "Sag T2 upper", None, AnatomicRegionSequence=_code("T-D04FF", "Spine")),
            _station(11, "Sag T2 lower", None, AnatomicRegionSequence=_code("T-11503", "Lumbar spine")),
        ],
    ),
    (
        "Rachis, SPINE / LSPINE",
        [
            _station(10, "sag T2 1", "Rachis", BodyPartExamined="SPINE"),
            _station(11, "sag T2 2", "Rachis", BodyPartExamined="LSPINE"),
        ],
    ),
]


def _build(tmp_path, series) -> None:
    study = Study(tmp_path, UID)
    for i, (fixture, number, name, elements) in enumerate(series):
        study.add(fixture, number, name, AcquisitionTime=f"1{i}0000.000000", **elements)


@pytest.mark.parametrize(("case", "series"), CORD, ids=[c for c, _ in CORD])
def test_a_cord_exam_s_lumbar_station_is_of_the_spine(tmp_path, case, series):
    _build(tmp_path, series)
    regions = _regions(tmp_path)
    assert set(regions.values()) == {"spine"}, (case, regions)


def test_a_brain_and_cord_study_s_lumbar_station_is_of_the_spine(tmp_path):
    """ "SEP cerveau moelle": the brain's 3D T1 filed HEAD, the cord's stations TSPINE and LSPINE."""
    # One scanner: the 3D T1 fixture's General Equipment elements (PS3.3 C.7.5.1) set to the T2 fixture's own.
    t2 = read(fixture_files(T2_SAG)[0])
    equipment = {k: t2.get(k) for k in ("Manufacturer", "ManufacturerModelName", "DeviceSerialNumber", "StationName")}
    _build(
        tmp_path,
        [
            (
                T1,
                2,
                "t1_mprage_sag",
                {"StudyDescription": "SEP cerveau moelle", "BodyPartExamined": "HEAD", **equipment},
            ),
            _station(10, "sag T2 1", "SEP cerveau moelle", BodyPartExamined="TSPINE"),
            _station(11, "sag T2 2", "SEP cerveau moelle", BodyPartExamined="LSPINE"),
        ],
    )
    regions = _regions(tmp_path)
    assert regions["10 sag T2 1"] == regions["11 sag T2 2"] == "spine", regions


@pytest.mark.parametrize(
    "series",
    [
        [_station(10, "T2 SAG", None, BodyPartExamined="LSPINE")],
        [
            _station(10, "sag T2", "Rachis lombaire", BodyPartExamined="LSPINE"),
            _station(11, "ax T2", "Rachis lombaire"),
        ],
        # Every series filed lumbar (CID 4031 Lumbar spine): a lumbar exam, whatever else its study says.
        [
            _station(10, "Sag T2", "Rachis", AnatomicRegionSequence=_code("T-11503", "Lumbar spine")),
            _station(11, "Ax T2", "Rachis", AnatomicRegionSequence=_code("T-11503", "Lumbar spine")),
        ],
    ],
)
def test_a_lumbar_study_alone_stays_lumbar(tmp_path, series):
    _build(tmp_path, series)
    assert set(_regions(tmp_path).values()) == {"lumbar"}


def _export(programs: list[tuple[str, str]]) -> list:
    acqs = []
    for program, name in programs:
        acq = Acquisition(name, {"acquisition_type": "2D", "orientation": "sagittal", "slice_thickness_mm": 3.0})
        acq.context["program"] = program
        acqs.append(acq)
    return split([Inspection("export", "siemens-exar", acquisitions=acqs)])


def test_a_cord_done_with_a_c_spine_and_an_l_spine_program_is_one_exam_of_the_spine():
    """5. Two programs of a Siemens "Spine" tree (program paths as the .exar1 export writes them,
    tests/test_ge_library_regions.py) run in one exam: the L-Spine program's station is the cord's lower one."""
    [exam] = _export([("\\\\USER\\Spine\\C-Spine", "t2_tse_sag_320"), ("\\\\USER\\Spine\\L-Spine", "t2_tse_sag_320")])
    assert [a.region for a in exam.acquisitions] == ["spine", "spine"], [a.region_reasons for a in exam.acquisitions]


def test_a_library_s_lumbar_program_stays_lumbar_beside_its_other_programs():
    """A site library (two head programs: the export holds several exams, exams._competing_programs): each
    program is an exam of its own, and its lumbar program is no station of the C-spine program's."""
    exams = _export(
        [
            ("\\\\USER\\Head\\Routine", "t1_mprage_sag"),
            ("\\\\USER\\Head\\SEP", "t2_flair_sag"),
            ("\\\\USER\\Spine\\C-Spine", "t2_tse_sag"),
            ("\\\\USER\\Spine\\L-Spine", "t2_tse_sag"),
        ]
    )
    regions = {a.program: a.region for e in exams for a in e.acquisitions}
    assert len(exams) == 4, [e.label for e in exams]
    assert regions["\\\\USER\\Spine\\C-Spine"] == "spine" and regions["\\\\USER\\Spine\\L-Spine"] == "lumbar"


def test_an_unplaced_series_named_lumbar_is_nudged_to_the_spine_s_sequences(tmp_path, spec):
    """A "Rachis" study (the column's generic word) whose one station is named "T2 sag lombaire": the study and the
    name tie (spine, lumbar), the series is unplaced, and its lumbar word still says a spinal series, not a brain
    one (the name nudge of match.score, as before the lumbar spine was a region of its own)."""
    from ofsep_presets.match import score
    from ofsep_presets.readers import inspect_path

    _build(tmp_path, [_station(10, "T2 sag lombaire", "Rachis")])
    [exam] = split(inspect_path(tmp_path))
    [acq] = exam.acquisitions
    assert acq.region is None, acq.region_reasons
    nudge = "spine in name ('lombaire', the lumbar spine)"
    assert nudge in score(acq, spec.sequences["spine.t2_sag"])[1]
    assert nudge in score(acq, spec.sequences["brain.pd_t2_2d"])[1]


@pytest.mark.parametrize("localizer", ["3pl loc spine", "whole spine loc"])
def test_a_lumbar_study_s_spine_localizer_does_not_make_it_a_cord_exam(tmp_path, localizer):
    """A localizer places no station: it is the aid the stations are planned on, and a lumbar exam's localizer
    covers the column ("whole spine loc", GE's "3pl loc"). Its name's generic word is no statement that the
    exam is of the cord (seed 001: the spinal exam is "la totalité de la moelle en 2 ou 3 acquisitions")."""
    _build(
        tmp_path,
        [
            _station(1, localizer, "Lumbar Spine"),
            _station(10, "sag T2", "Lumbar Spine", BodyPartExamined="LSPINE"),
            _station(11, "ax T2", "Lumbar Spine", BodyPartExamined="LSPINE"),
        ],
    )
    regions = _regions(tmp_path)
    assert regions["10 sag T2"] == regions["11 ax T2"] == "lumbar", regions
