"""Region evidence weighed, not counted: deliberate statements place a series, console defaults need company, the
slice stack overrules a default, and a series with no evidence takes the one region of its exam.

Expected values come from outside our code: the DICOM headers read here with pydicom (BodyPartExamined, Rows ×
PixelSpacing), the spine-generic sidecars and dataset_description.json (what each site wrote), the Siemens printout
of the same cord protocol (T2w: sagittal, 64 slices per slab of 0.8 mm), and the OFSEP sheet (seed 001: the whole
cord "en 2 ou 3 acquisitions"; the cord T2* "T2 EG axiale" is optional, thickness ≤ 3 mm).
"""

from __future__ import annotations

import copy
import gzip
import io
import json
import re
import tarfile

import pydicom
import pytest
from click.testing import CliRunner

from ofsep_presets.acquisition import Inspection
from ofsep_presets.check import check
from ofsep_presets.cli import main
from ofsep_presets.exams import split
from ofsep_presets.match import explain
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES
from .test_render import pdf_text

DICOM = FIXTURES / "dicom"
BIDS = FIXTURES / "bids/spine-generic-single-subject"
EXPORTS = FIXTURES / "vendor-exports"
PRISMA = EXPORTS / "siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1"
SPINE_GENERIC = {
    "Siemens Prisma VE11C": PRISMA,
    "Siemens CimaX XA61": EXPORTS / "siemens/CimaX_XA61_ZOOMit/spine-generic_CimaX_XA61_ZOOMit.exar1",
    "Siemens Trio VB17": EXPORTS / "siemens/Trio_VB17/spine_generic_siemens-trio.edx",
    "Philips R5.3": EXPORTS / "philips/spine_generic_philips_R53.ExamCard",
    "GE 750": EXPORTS / "ge/GE_750_no-FOCUS/protocol.tar",
}


def _raw(path):
    data = path.read_bytes()
    return pydicom.dcmread(
        io.BytesIO(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data), stop_before_pixels=True
    )


def _matched(report, seq_id):
    """The series a slot took; None when empty or when its exam is not judged (nothing of that exam was found)."""
    s = next((s for s in report.sequences if s.id == seq_id), None)
    return s.matched[0].acquisition.name if s is not None and s.matched else None


def _printed_slab(pdf, step):
    text = pdf_text(pdf)
    start = text.find("\\" + step + "\n")
    section = text[start : start + 20000]
    return {
        "orientation": re.search(r"Orientation\s+(\w+)", section).group(1),
        "slices": int(re.search(r"Slices per slab\s+(\d+)", section).group(1)),
        "thickness": float(re.search(r"Slice thickness\s+([\d.]+) mm", section).group(1)),
    }


def test_a_brain_tagged_pd_t2_of_a_115_mm_field_is_never_the_spinal_t2(spec):
    """The dcm_qa_pdt2 Prisma series: BodyPartExamined BRAIN, a 64 × 1.797 mm sagittal field. OFSEP asks for the
    whole cord in 2 or 3 sagittal acquisitions: no station of a 42-45 cm cord is 115 mm long."""
    folder = DICOM / "Siemens/VE11_PD_T2_tse_sag_1.8mm"
    ds = _raw(folder / "0001.dcm")
    assert ds.BodyPartExamined == "BRAIN"
    fov = max(ds.Rows * float(ds.PixelSpacing[0]), ds.Columns * float(ds.PixelSpacing[1]))
    assert fov < 140
    report = check(inspect_path(folder), spec)
    assert _matched(report, "spine.t2_sag") is None
    [(acq, _)] = report.unmatched
    veto = next(e["veto"] for e in explain(acq, spec) if e["sequence"] == "spine.t2_sag")
    assert veto == f"field of view {fov:g} mm, shorter than a spinal station (140 mm)"


def test_the_console_default_brain_is_overruled_by_a_51_mm_sagittal_stack(spec):
    """sub-poly's sidecars tag the cord T2w BRAIN (Siemens Skyra, HeadNeck_20). The Siemens printout of the same
    T2w says sagittal, 64 slices of 0.8 mm: 51 mm left-right, no brain fits. With that body part the exported T2w
    is not placed in the brain, and it is the spinal T2, never a brain slot."""
    sidecar = json.loads((BIDS / "sub-poly/anat/sub-poly_T2w.json").read_text())
    assert sidecar["BodyPartExamined"] == "BRAIN"
    printed = _printed_slab(PRISMA.with_suffix(".pdf"), "T2w")
    assert printed["orientation"] == "Sagittal" and printed["slices"] * printed["thickness"] < 100
    [inspection] = inspect_path(PRISMA)
    for acq in inspection.acquisitions:
        acq.context.pop("program", None)  # no program path: the body part and the slab are all there is
        acq.context["body_part"] = sidecar["BodyPartExamined"]
    [exam] = split([inspection])
    t2 = next(a for a in exam.acquisitions if a.name == "T2w")
    assert t2.region is None
    assert any("less than a brain" in r and r.endswith("not brain") for r in t2.region_reasons), t2.region_reasons
    report = check([inspection], spec)
    assert _matched(report, "spine.t2_sag") == "T2w"
    assert "T2w" not in {_matched(report, s) for s in ("brain.t2_3d", "brain.flair_3d", "brain.pd_t2_2d")}


def test_a_deliberate_body_part_places_every_series_of_a_bids_session():
    """sub-ucl (Philips Achieva) states BodyPartExamined CSPINE on its cord scans: alone it places them."""
    [exam] = split(inspect_path(BIDS / "sub-ucl/dwi/sub-ucl_dwi.json"))
    sidecar = json.loads((BIDS / "sub-ucl/dwi/sub-ucl_dwi.json").read_text())
    assert sidecar["BodyPartExamined"] == "CSPINE"
    assert exam.acquisitions[0].region == "spine"
    assert "BodyPartExamined CSPINE → spine" in exam.acquisitions[0].region_reasons


def test_each_spine_generic_bids_session_is_a_cord_exam_never_a_brain_one():
    """The dataset names itself "Spinal Cord MRI Public Database" (dataset_description.json, the curator's
    statement): its T2w, T2star and dwi files never fill a brain slot; a T2w that is matched is the spinal T2."""
    name = json.loads((BIDS / "dataset_description.json").read_text())["Name"]
    assert "Spinal Cord" in name
    result = CliRunner().invoke(main, ["check", "--quiet", str(BIDS), "--each", "--format", "json"])
    assert result.exit_code in (0, 1), result.output
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else reports["reports"]
    assert len(reports) == 19
    for r in reports:
        filled = {s["id"]: s["matched"] for s in r["sequences"] if s["matched"]}
        for seq_id, acq in filled.items():
            suffix = acq.rsplit("_", 1)[-1]
            assert not (seq_id.startswith("brain.") and suffix in ("T2w", "T2star", "dwi")), (r["exam"], filled)
            if suffix == "T2w":
                assert seq_id == "spine.t2_sag", (r["exam"], filled)
        assert r["exam"]["regions"] == {"spine": sum(r["exam"]["regions"].values())}


def test_a_series_with_no_evidence_takes_the_one_region_of_its_exam(spec):
    """Built from real headers, as no fixture holds such a study: the GE 3D MP-RAGE (BodyPartExamined BRAIN and
    anatomy code T-A0100, brain) and the Siemens VB17 EPI, whose header states no body part and no study or series
    word of a region, given one study and scanner key. The EPI takes the exam's region, and says why; the same EPI
    beside a series placed in the spine and one placed in the brain takes nothing."""
    mprage_dir = DICOM / "GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"
    epi_dir = DICOM / "Siemens/VB17_EPI_TrioTim_jpeg_ls_ts"
    epi_file = next(p for p in sorted(epi_dir.iterdir()) if p.is_file() and not p.name.endswith((".md", ".json")))
    assert "BodyPartExamined" not in _raw(epi_file)
    assert _raw(mprage_dir / "i160.MRDC.1").AnatomicRegionSequence[0].CodeValue == "T-A0100"

    def one_study(*folders):
        out = []
        for folder in folders:
            for inspection in inspect_path(folder):
                if inspection.format != "dicom":
                    continue
                for acq in inspection.acquisitions:
                    acq.context.update(study="one", scanner="one")
                out.append(inspection)
        return out

    [exam] = split(one_study(mprage_dir, epi_dir))
    epi = next(a for a in exam.acquisitions if "ax_asc" in a.name)
    mprage = next(a for a in exam.acquisitions if a is not epi)
    assert mprage.region == "brain"
    assert epi.region == "brain" and epi.region_reasons[0].startswith("no region evidence of its own"), (
        epi.region_reasons
    )

    inspections = one_study(mprage_dir, epi_dir)
    spinal = copy.deepcopy(inspections[0].acquisitions[0])
    spinal.name, spinal.region = "sag T2 cord", None
    spinal.context.pop("anatomy", None)
    spinal.context["body_part"] = "CSPINE"
    inspections.append(Inspection("x", "dicom", acquisitions=[spinal]))
    [exam] = split(inspections)
    assert {a.name: a.region for a in exam.acquisitions}[epi.name] is None


@pytest.mark.parametrize("name", sorted(SPINE_GENERIC))
def test_spine_generic_exports_against_ofsep_by_the_exam_model_alone(spec, name):
    """The done-when of issue 10: T1w → brain.t1_3d, the cord T2 → spine.t2_sag, the MT scans unmatched. The
    ME-GRE is a combined T2*-weighted axial gradient echo of the cord (BIDS suffix T2star, one image per slice):
    it is the OFSEP cord "T2 EG axiale" and fails its ≤ 3 mm thickness with the 5 mm slices its printout states."""
    report = check(inspect_path(SPINE_GENERIC[name]), spec)
    assert _matched(report, "brain.t1_3d") == "T1w"
    assert _matched(report, "spine.t2_sag") == "T2w"
    for brain in ("brain.t2_3d", "brain.t2star_2d", "brain.dwi", "brain.dti", "brain.pd_t2_2d"):
        assert _matched(report, brain) is None, brain
    for acq, why in report.unmatched:
        if "MT" in acq.name:
            assert why == "quantitative map or magnetization-transfer scan"
    t2star = next(s for s in report.sequences if s.id == "spine.t2star_ax")
    assert t2star.matched and t2star.matched[0].acquisition.name == "GRE-ME"
    thickness = next(c for c in t2star.checks if c.param == "slice_thickness_mm")
    assert thickness.status == "fail" and thickness.observed == 5


def test_a_ge_oblique_plane_is_its_prescriptions_main_plane_and_unknown_without_one(spec, tmp_path):
    """The GE tar's LxProtocol of the ME-GRE states PLANE "OBLIQUE" (the raw bytes) and its prescription
    GRIP_SLGROUP1: centre, then the slice normal (-0.018 -0.032 -0.999), then two in-plane directions. The
    program's SAGITTAL series show the layout (T1w, T2w: normal 1 0 0, left-right). The normal is 2° from the z
    axis: an axial slice, as the Siemens exports of the same protocol state it ("GRE-ME" transversal), so the
    `orientation = axial` rule passes. The same protocol without its prescription cannot tell: unknown, not fail."""
    tar = SPINE_GENERIC["GE 750"]
    with tarfile.open(tar) as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}
    merge = next(n for n in members if "MERGE" in n and n.endswith("/LxProtocol") and "/._" not in n)
    raw = members[merge].decode("latin-1")
    assert re.findall(r'set PLANE "([^"]+)"', raw) == ["OBLIQUE"]
    grip = re.search(r'set GRIP_SLGROUP1 "([^"]+)"', raw).group(1).split()
    assert [float(v) for v in grip[3:6]] == [-0.018184, -0.03173, -0.999331]
    sagittal = next(n for n in members if "/T1w_" in n and n.endswith("/LxProtocol"))
    t1 = members[sagittal].decode("latin-1")
    assert 'set PLANE "SAGITTAL"' in t1
    assert re.search(r'set GRIP_SLGROUP1 "([^"]+)"', t1).group(1).split()[3:6] == ["1.000000", "0.000000", "0.000000"]
    [siemens] = inspect_path(PRISMA)
    assert next(a for a in siemens.acquisitions if a.name == "GRE-ME").get("orientation") == "axial"

    def orientation_check(path):
        report = check(inspect_path(path), spec)
        t2star = next(s for s in report.sequences if s.id == "spine.t2star_ax")
        assert t2star.matched and t2star.matched[0].acquisition.name == "GRE-ME"
        return next(c for c in t2star.checks if c.param == "orientation")

    found = orientation_check(tar)
    assert (found.observed, found.status) == ("axial", "pass")
    stripped = tmp_path / "no-prescription.tar"
    with tarfile.open(stripped, "w") as archive:
        for name, data in members.items():
            if name.endswith("/LxProtocol") and "/._" not in name:
                data = re.sub(rb'[ \t]*set GRIP_SLGROUP1 "[^"]*"\r?\n', b"", data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    found = orientation_check(stripped)
    assert (found.observed, found.status) == ("oblique", "unknown")
    assert "does not say which plane" in found.note
    # A GRIP_SLGROUP1 whose vectors are not a direction frame (the in-plane directions zeroed: not the layout the
    # program's own SAGITTAL series show) is not read as one: the plane stays as stated.
    unframed = tmp_path / "unframed.tar"
    with tarfile.open(unframed, "w") as archive:
        for name, data in members.items():
            if name == merge:
                numbers = re.search(rb'set GRIP_SLGROUP1 "([^"]+)"', data).group(1).split()
                numbers[6:12] = [b"0.000000"] * 6
                framed = b'set GRIP_SLGROUP1 "' + b" ".join(numbers) + b'"'
                data = re.sub(rb'set GRIP_SLGROUP1 "[^"]+"', framed.replace(b"\\", b"\\\\"), data)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    found = orientation_check(unframed)
    assert (found.observed, found.status) == ("oblique", "unknown")


def _repacked_ge(tmp_path, program: str, anatomy: str):
    """The spine-generic GE tar re-filed as another program: its session folder renamed and every LxProtocol's
    ANATOMY set to `anatomy` (SNOMED-RT, as GE writes it), the series themselves untouched."""
    source = SPINE_GENERIC["GE 750"]
    old = "adult_spine_20190130_spine_generic_without_FOCUS"
    out = tmp_path / f"{program}.tar"
    with tarfile.open(source) as src, tarfile.open(out, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            member.name = member.name.replace(old, program)
            if data is not None:
                data = data.replace(old.encode(), program.encode()).replace(b"spine_generic", program.encode())
                data = re.sub(rb'set ANATOMY "[^"]*"', b'set ANATOMY "SRT%5CNone%5C' + anatomy.encode() + b'"', data)
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    return out


def test_a_prostate_only_ge_protocol_fills_no_ofsep_slot(spec, tmp_path):
    """Built from the real GE tar (no prostate protocol export is public): filed under SNOMED-RT T-92000,
    Prostate (DICOM CID 4031), in a program named for it. Every series is of region "other": no OFSEP slot
    is filled, and each unmatched series says why."""
    tar = _repacked_ge(tmp_path, "adult_prostate_mpMRI", "T-92000")
    report = check(inspect_path(tar), spec)
    assert [s.id for s in report.sequences if s.matched] == []
    for acq, why in report.unmatched:
        assert acq.region == "other", (acq.name, acq.region_reasons)
        assert "region other" in why or why in ("localizer or calibration",) or "magnetization" in why, why


def test_a_siemens_library_of_brain_spine_neck_and_knee_programs_fills_slots_from_brain_and_spine_only(spec, tmp_path):
    """Built from the real Trio .edx (no public library holds these programs): its program copied under the names
    Brain, Spine, Neck and Knee, as a site library files them (the .edx's own MrEdbName lines). Nothing of Neck or
    Knee fills a slot (the neck DWI is never the brain DWI, the knee T1 never a spinal T1), and each says why."""
    import zlib

    text = zlib.decompress((EXPORTS / "siemens/Trio_VB17/spine_generic_siemens-trio.edx").read_bytes()).decode(
        "latin-1"
    )
    assert "MrEdbName=spine+AF8-generic" in text
    parts = re.split(r"(\r?\n@{10,}\r?\n)", text)
    header, body = "".join(parts[:2]), "".join(parts[2:])
    programs = [
        body.replace("MrEdbName=spine+AF8-generic", f"MrEdbName={p}") for p in ("Brain", "Spine", "Neck", "Knee")
    ]
    path = tmp_path / "library.edx"
    path.write_bytes(zlib.compress((header + parts[1].join(programs)).encode("latin-1")))
    report = check(inspect_path(path), spec)
    filled = {s.id: m.acquisition.program for s in report.sequences for m in s.matched}
    assert filled and set(filled.values()) <= {"\\Brain", "\\Spine"}, filled
    assert all(program == "\\Spine" for seq, program in filled.items() if seq.startswith("spine."))
    for acq, why in report.unmatched:
        if acq.program in ("\\Neck", "\\Knee") and not acq.name.startswith(("Localizer", "GRE-MT")):
            assert "region other" in why, (acq.program, acq.name, why)


def test_a_body_part_filed_for_a_combined_exam_does_not_place_its_brain_series_in_the_spine(spec):
    """Built from real headers (no fixture holds a combined brain and cord study): the XA30 MPRAGE and DWI of one
    study, with the BodyPartExamined sub-juntendoPrisma's sidecars carry (CSPINE) filed for both, as a site
    registering a combined exam would (OFSEP: brain and cord "de préférence lors du même examen"). The MPRAGE's
    own slab (the header: sagittal, 96 partitions of 2 mm = 192 mm wide) is no spine: the filing is the exam's,
    so it places neither series, and the MPRAGE is the brain 3D T1. The DWI filed CSPINE alone is spine."""
    filed = json.loads((BIDS / "sub-juntendoPrisma/dwi/sub-juntendoPrisma_dwi.json").read_text())["BodyPartExamined"]
    assert filed == "CSPINE"
    mprage_dir = DICOM / "Siemens/XA30_classic_T1w_MPRAGE_tfl3d_2mm"
    dwi_dir = DICOM / "Siemens/XA30_classic_DWI_dir80_AP"
    first = _raw(next(p for p in sorted(mprage_dir.iterdir()) if p.is_file()))
    assert first.MRAcquisitionType == "3D" and float(first.SliceThickness) == 2.0

    def filed_as(folders, part):
        out = [i for folder in folders for i in inspect_path(folder) if i.format == "dicom"]
        for acq in (a for i in out for a in i.acquisitions):
            acq.context["body_part"] = part
        return out

    inspections = filed_as([mprage_dir, dwi_dir], filed)
    [exam] = split(inspections)
    by_name = {a.name: a for a in exam.acquisitions}
    mprage = next(a for n, a in by_name.items() if "T1w" in n)
    dwi = next(a for n, a in by_name.items() if "DWI" in n)
    assert mprage.get("slices") * mprage.get("slice_thickness_mm") > 130
    assert mprage.region is None and dwi.region is None, (mprage.region_reasons, dwi.region_reasons)
    assert any("filed for the whole exam" in r for r in dwi.region_reasons), dwi.region_reasons
    report = check(filed_as([mprage_dir, dwi_dir], filed), spec)
    assert _matched(report, "brain.t1_3d") == mprage.name

    [alone] = split(filed_as([dwi_dir], filed))
    assert {a.region for a in alone.acquisitions} == {"spine"}


REFS = FIXTURES / "references"


def test_a_whole_head_mprage_filed_orbit_is_the_brain_3d_t1(spec):
    """nibabel's Philips Achieva MPRAGE: the console filed BodyPartExamined ORBIT (and the orbit anatomy code), but
    the header's own geometry is a 3D sagittal slab of 256 × 256 mm (Rows × PixelSpacing): a whole head, orbits
    included. It is the brain's 3D T1, not an orbit scan kept out of every brain slot."""
    path = DICOM / "Philips/Achieva_enh_MPRAGE_nibabel_stripped/philips_mprage.dcm.gz"
    ds = _raw(path)
    assert ds.BodyPartExamined == "ORBIT" and ds.MRAcquisitionType == "3D"
    frame = ds.PerFrameFunctionalGroupsSequence[0] if "PerFrameFunctionalGroupsSequence" in ds else None
    spacing = (
        ds.PixelSpacing
        if "PixelSpacing" in ds
        else (frame or ds.SharedFunctionalGroupsSequence[0]).PixelMeasuresSequence[0].PixelSpacing
    )
    assert min(ds.Rows * float(spacing[0]), ds.Columns * float(spacing[1])) >= 170
    [exam] = split(inspect_path(path.parent))
    [acq] = exam.acquisitions
    assert acq.region == "brain", acq.region_reasons
    assert any("covers the whole head" in r for r in acq.region_reasons)
    report = check(inspect_path(path.parent), spec)
    assert _matched(report, "brain.t1_3d") == acq.name


def test_a_camelcase_siemens_head_coil_nudges_a_3d_space_t2_into_the_brain(spec):
    """ARC sub-M2002: dcm2niix's sidecar says "T2 3D TSE SAG 160sl", MRAcquisitionType 3D, SequenceName *spc3d1
    (SPACE), ReceiveCoilName "HeadMatrix" (the Siemens Head Matrix coil, written in CamelCase) and nothing else about
    the body region: 160 sagittal 1 mm slices of the head. Its family is SPACE (a 3D TSE), its coil a head coil;
    it is the brain's 3D T2, never the spinal sagittal T2."""
    path = REFS / "arc/sub-M2002/ses-3770/anat/sub-M2002_ses-3770_acq-spc3_run-3_T2w.json"
    sidecar = json.loads(path.read_text())
    assert sidecar["ReceiveCoilName"] == "HeadMatrix" and sidecar["MRAcquisitionType"] == "3D"
    assert sidecar["SequenceName"].startswith("*spc3d")
    [inspection] = inspect_path(path)
    [acq] = inspection.acquisitions
    assert acq.get("sequence_family") == "space"
    report = check([inspection], spec)
    assert _matched(report, "brain.t2_3d") == acq.name
    assert _matched(report, "spine.t2_sag") is None


MRAAT = REFS / "mraat/ge_artist_and_premier_aat_example_protocols/SIGNA Artist/GE_ProtocolExchange"


@pytest.mark.parametrize("suffix", [".html", ".pdf"])
def test_a_ge_whole_spine_library_protocol_fills_spine_slots_from_what_each_series_is(spec, suffix):
    """The MR-AAT GE SIGNA Artist report "Protocol: adult_spine_Ultrafast 3 part w spine" (HTML and its PDF print):
    a whole-spine program of sagittal T2, T1 and STIR stations and axial T2s; the report prints no plane. Its
    program name places every series in the spine. "SAG STIR BOT" (TI 150 ms, as printed) is the sagittal STIR,
    never the "Sag T1" TSEs (TR 699 ms, no TI printed: no inversion); the "Ax T2 FRFSE" series, named axial,
    are no station of the sagittal T2; each of its stations (TOP, MID, BOT) is taken once."""
    path = MRAAT / f"adult_spine_Ultrafast3partwspine_20220326170523213_12{suffix}"
    [inspection] = inspect_path(path)
    stir = next(a for a in inspection.acquisitions if a.name.startswith("SAG STIR BOT"))
    assert stir.get("inversion_time_ms") == 150.0
    assert all(a.region == "spine" for a in split([inspection])[0].acquisitions)
    report = check([inspection], spec)
    stir_slot = next(s for s in report.sequences if s.id == "spine.stir_sag")
    assert [m.acquisition.name for m in stir_slot.matched] == [stir.name]
    t2 = next(s for s in report.sequences if s.id == "spine.t2_sag")
    taken = [m.acquisition.name for m in t2.matched] + [a.name for a in getattr(t2, "repeats", [])]
    assert taken and all(n.upper().startswith("SAG T2") for n in taken), taken
    # The report prints two "SAG T2 TOP" (TR 5956 and 4497 ms), one MID and one BOT: the three stations are TOP,
    # MID and BOT; the second TOP is that station again, never the lower station's place.
    stations = [re.search(r"TOP|MID|BOT", m.acquisition.name).group(0) for m in t2.matched]
    assert sorted(stations) == ["BOT", "MID", "TOP"], stations
    axial = [a for a, _ in report.unmatched if a.name.startswith("Ax T2")]
    assert len(axial) == 2
    for acq in axial:
        veto = next(e["veto"] for e in explain(acq, spec) if e["sequence"] == "spine.t2_sag")
        assert veto == "the name says axial, not sagittal"


def test_a_report_without_plane_rows_is_judged_on_the_plane_its_series_names_state(spec):
    """The MR-AAT GE report prints no plane row at all (no "Plane" among its labels) but names every series by its
    plane, as GE's defaults do ("SAG T2 TOP", "SAG STIR BOT Fast"). The sagittal rules of the spinal T2 and STIR
    are judged on that statement, shown with where it comes from; they were `unknown` on every station."""
    path = MRAAT / "adult_spine_Ultrafast3partwspine_20220326170523213_12.html"
    assert ">Plane<" not in path.read_text(errors="replace")
    report = check(inspect_path(path), spec)
    for seq_id in ("spine.t2_sag", "spine.stir_sag"):
        slot = next(s for s in report.sequences if s.id == seq_id)
        planes = [c for c in slot.checks if c.param == "orientation"]
        assert planes and all(c.status == "pass" and c.observed == "sagittal" for c in planes), seq_id
        assert all("series name" in c.provenance and "states no plane" in c.provenance for c in planes)


@pytest.mark.parametrize(
    "program",
    [
        # GE Protocol Exchange report names of the MR-AAT library (github MR-AAT-IPEM/mri_aat_protocol_library,
        # "SIGNA Artist/GE_ProtocolExchange/"): the console files programs under anatomy folders, patient type
        # first: "adult_upperExtremities_MSKSHOULDERARDL", "adult_lowerExtremities_MSK2020-KneestdARDLHR".
        "adult_upperExtremities_MSKSHOULDERARDL",
        "adult_lowerExtremities_MSK-Foot2020",
    ],
)
def test_a_ge_limb_program_is_no_spine_and_no_brain_whatever_its_series_are_named(spec, tmp_path, program):
    """The real whole-spine report re-filed under a GE limb folder ("Protocol: adult_upperExtremities_…"): its
    sagittal T2 and STIR series are then a limb program's, and fill no OFSEP slot. "MSKSHOULDERARDL" is one word
    to a reader; "upperExtremities" is the folder that says where it is."""
    original = MRAAT / "adult_spine_Ultrafast3partwspine_20220326170523213_12.html"
    text = original.read_text(encoding="latin-1")
    assert "Protocol: adult_spine_Ultrafast 3 part w spine" in text
    path = tmp_path / "limb.html"
    path.write_text(text.replace("adult_spine_Ultrafast 3 part w spine", program), encoding="latin-1")
    [inspection] = inspect_path(path)
    [exam] = split([inspection])
    assert {a.region for a in exam.acquisitions} == {"other"}
    report = check([inspection], spec)
    assert not [s.id for s in report.sequences if s.matched]


@pytest.mark.parametrize(
    ("region_code", "anatomy", "region"),
    [
        # The MR-AAT Philips R11 ExamCards (github MR-AAT-IPEM/mri_aat_protocol_library,
        # philips_ingenia_ambition_r11p1_aat_example_protocols): "AAT T&F - MSK - LOWER" is filed
        # <anatomicRegion>SRT.T-D9200.Knee</anatomicRegion> <anatomy>Lower Extremity</anatomy>,
        # "AAT T&F - BRAIN" SRT.T-A0100.Brain / Head; the R5.3 spine-generic card SRT.T-D0146.Spine / Spine.
        ("SRT.T-D9200.Knee", "Lower Extremity", "other"),
        (None, "Lower Extremity", "other"),
        ("SRT.T-D9200.Knee", None, "other"),
    ],
)
def test_a_philips_card_is_placed_by_the_anatomy_it_is_filed_under(spec, tmp_path, region_code, anatomy, region):
    """A Philips ExamCard states the anatomy it is filed under twice: a coded anatomic region (scheme, code,
    meaning) and a word of the console's anatomy list. The real spine-generic card, renamed "Routine" (a name
    that says nothing) and re-filed as the MR-AAT lower-limb card is, is a limb card: its cord series fill no
    OFSEP slot; "Lower Extremity" alone was no evidence (not a DICOM body-part term), the coded region unread."""
    path = EXPORTS / "philips/spine_generic_philips_R53.ExamCard"
    text = path.read_text(encoding="utf-8")
    assert '<anatomicRegion id="ref-11">SRT.T-D0146.Spine</anatomicRegion>' in text
    assert '<anatomy id="ref-12">Spine</anatomy>' in text
    text = text.replace(">spine_generic_philips_R53_2020_09_29<", ">Routine<")
    text = text.replace(">SRT.T-D0146.Spine<", f">{region_code or ''}<").replace(">Spine<", f">{anatomy or ''}<")
    card = tmp_path / "routine.ExamCard"
    card.write_text(text, encoding="utf-8")
    [inspection] = inspect_path(card)
    [exam] = split([inspection])
    regions = {a.region for a in exam.acquisitions if a.name != "SURVEY"}
    assert regions == {region}, regions
    report = check([inspection], spec)
    assert not [s.id for s in report.sequences if s.matched]


def _library(tmp_path, programs):
    """The real Trio .edx program copied under other program names, as a site library files them."""
    import zlib

    text = zlib.decompress((EXPORTS / "siemens/Trio_VB17/spine_generic_siemens-trio.edx").read_bytes()).decode(
        "latin-1"
    )
    parts = re.split(r"(\r?\n@{10,}\r?\n)", text)
    header, body = "".join(parts[:2]), "".join(parts[2:])
    copies = [body.replace("MrEdbName=spine+AF8-generic", f"MrEdbName={p}") for p in programs]
    path = tmp_path / "library.edx"
    path.write_bytes(zlib.compress((header + parts[1].join(copies)).encode("latin-1")))
    return path


def test_two_head_programs_of_one_library_are_two_exams_never_one_assembled(tmp_path):
    """A library holding two head programs (a routine head and the OFSEP one) holds two exams: `check` says so and
    stops (exit 2) rather than passing one program's sequences with the other's; --exam-of names a program."""
    path = _library(tmp_path, ("Head+AF8-Routine", "Head+AF8-OFSEP"))
    exams = split(inspect_path(path))
    assert [sorted({a.program for a in e.acquisitions}) for e in exams] == [["\\Head_Routine"], ["\\Head_OFSEP"]]
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2 and "holds 2 exams" in result.output, result.output
    chosen = CliRunner().invoke(main, ["check", str(path), "--exam-of", "Head_OFSEP", "--format", "json"])
    assert chosen.exit_code in (0, 1), chosen.output
    document = json.loads(chosen.output)
    assert {a["program"] for a in document["acquisitions"]} == {"\\Head_OFSEP"}


def test_a_brain_and_a_spine_program_of_one_export_stay_one_exam(tmp_path):
    """The OFSEP brain and spinal programs of one export are one combined exam (seed 001: "de préférence lors du
    même examen"): nothing competes, nothing is split."""
    path = _library(tmp_path, ("Brain", "Spine"))
    [exam] = split(inspect_path(path))
    assert {a.program for a in exam.acquisitions} == {"\\Brain", "\\Spine"}


@pytest.mark.parametrize("folder", ["Siemens/VE11_PD_T2_tse_sag_1.8mm", "Siemens/VE11_DTI_ep2d_diff_20dir_mosaic"])
def test_a_siemens_classic_dicom_names_its_coil_from_the_protocol_it_carries(folder):
    """VE11 classic DICOM leaves ReceiveCoilName (0018,1250) empty; the coil is in the protocol the CSA header
    carries. dcm2niix reads the same coil from it (its sidecar's ReceiveCoilName): the series' coil evidence."""
    sidecar = json.loads(next((DICOM / folder / "bids_json_dcm2niix").glob("*.json")).read_text())
    first = sorted(p for p in (DICOM / folder).iterdir() if p.is_file())[0]
    assert "ReceiveCoilName" not in _raw(first)
    [exam] = split(inspect_path(DICOM / folder))
    assert {a.context.get("coil") for a in exam.acquisitions} == {sidecar["ReceiveCoilName"]}
