"""BIDS sidecars (dcm2niix JSON): the 19-site spine-generic subject, and DWI sidecars with .bval/.bvec."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ofsep_presets.cli import main
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

BIDS = FIXTURES / "bids" / "spine-generic-single-subject"


def test_every_site_and_sidecar_reads():
    sites = sorted(p for p in BIDS.iterdir() if p.is_dir() and p.name.startswith("sub-"))
    assert len(sites) == 19
    vendors = set()
    for site in sites:
        [inspection] = inspect_path(site)
        sidecars = sorted(site.rglob("*.json"))
        assert [a.name for a in inspection.acquisitions] == [p.name[:-5] for p in sidecars]
        assert inspection.warnings == []
        vendors.add(inspection.scanner["manufacturer"])
        for acq in inspection.acquisitions:
            raw = json.loads((next(p for p in sidecars if p.name[:-5] == acq.name)).read_text())
            # Seconds in the sidecar, milliseconds in the canonical model; every value carries its key.
            assert acq.get("repetition_time_ms") == round(raw["RepetitionTime"] * 1000, 7)
            assert acq.get("echo_time_ms") == round(raw["EchoTime"] * 1000, 7)
            assert acq.get("flip_angle_deg") == raw["FlipAngle"]
            assert set(acq.provenance) == set(acq.params)
    assert vendors == {"siemens", "philips", "ge"}


def test_siemens_site_matches_the_siemens_printout_of_the_same_protocol():
    # sub-unf is a Prisma running spine-generic; the Prisma VE11C printout in vendor-exports states
    # T1w TR 2000 ms, TE 3.72 ms, TI 1000 ms, flip 9; T2w TR 1500, TE 120, flip 120; MT TR 35, TE 3.13.
    [inspection] = inspect_path(BIDS / "sub-unf")
    acq = {a.name.split("_", 1)[1]: a.params for a in inspection.acquisitions}
    assert (
        acq["T1w"]["repetition_time_ms"],
        acq["T1w"]["echo_time_ms"],
        acq["T1w"]["inversion_time_ms"],
        acq["T1w"]["flip_angle_deg"],
    ) == (2000.0, 3.72, 1000.0, 9.0)
    assert (acq["T2w"]["repetition_time_ms"], acq["T2w"]["echo_time_ms"], acq["T2w"]["flip_angle_deg"]) == (
        1500.0,
        120.0,
        120.0,
    )
    assert (acq["flip-1_mt-on_MTS"]["repetition_time_ms"], acq["flip-1_mt-on_MTS"]["echo_time_ms"]) == (35.0, 3.13)
    assert acq["T1w"]["acquisition_type"] == "3D" and acq["T1w"]["orientation"] == "sagittal"
    assert acq["T1w"]["sequence_family"] == "mprage"


def test_dwi_sidecar_reads_b_values_and_directions_from_bval_bvec():
    folder = FIXTURES / "dicom/Siemens/XA30_enh_DWI_dir80_PA/bids_json_dcm2niix"
    [inspection] = inspect_path(folder / "10_DWI_dir80_PA.json")
    acq = inspection.acquisitions[0]
    bvals = [float(x) for x in (folder / "10_DWI_dir80_PA.bval").read_text().split()]
    assert acq.get("b_values") == sorted(set(bvals)) == [0.0, 2500.0]
    assert acq.get("diffusion_directions") == sum(1 for b in bvals if b > 0) == 20
    assert acq.get("sequence_family") == "epi_dwi"


def test_dti_sidecar_without_bvec_has_no_direction_count(tmp_path):
    source = FIXTURES / "dicom/Siemens/XA30_enh_DWI_dir80_PA/bids_json_dcm2niix/10_DWI_dir80_PA.json"
    (tmp_path / "dwi.json").write_bytes(source.read_bytes())
    [inspection] = inspect_path(tmp_path / "dwi.json")
    assert "diffusion_directions" not in inspection.acquisitions[0].params  # absent, never guessed


def test_tree_counts_skipped_files_and_inputs_stay_untouched():
    before = {p: p.read_bytes() for p in BIDS.rglob("*") if p.is_file()}
    [inspection] = inspect_path(BIDS)
    sidecars = sorted(p for p in BIDS.glob("sub-*/**/*.json"))
    assert [a.name for a in inspection.acquisitions] == [p.name[:-5] for p in sidecars]  # 131 sidecars
    # README.md, LICENSE, participants.tsv, participants.json, dataset_description.json are not sidecars: files
    # of the dataset (BIDS "modality agnostic files"), counted apart from files that could not be read.
    assert inspection.warnings == [
        "5 other file(s) of the BIDS dataset (images, .bval/.bvec beside their sidecars, dataset, participants, "
        "sessions and scans files) used with the sidecars or not needed for a protocol"
    ]
    assert {p: p.read_bytes() for p in BIDS.rglob("*") if p.is_file()} == before


def test_cli_json_contract_and_unreadable_input(tmp_path):
    result = CliRunner().invoke(main, ["inspect", "--format", "json", str(BIDS / "sub-poly/anat/sub-poly_T1w.json")])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["format"] == "bids-json" and set(doc) == {"source", "format", "scanner", "acquisitions", "warnings"}
    assert doc["acquisitions"][0]["provenance"]["repetition_time_ms"].endswith(" s")
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01not anything")
    result = CliRunner().invoke(main, ["inspect", str(garbage)])
    assert result.exit_code == 2
    assert "not a format ofsep-presets reads" in result.stderr and "bids-json" in result.stderr
    assert "Traceback" not in result.output
    # With --format json, one document per input, the unreadable one included in its place, saying why.
    sidecar = str(BIDS / "sub-poly/anat/sub-poly_T1w.json")
    result = CliRunner().invoke(main, ["inspect", "--format", "json", str(garbage), sidecar])
    assert result.exit_code == 2
    unreadable, read = json.loads(result.stdout)
    assert unreadable["source"] == str(garbage) and unreadable["format"] is None and unreadable["acquisitions"] == []
    assert "not a format ofsep-presets reads" in unreadable["error"]
    assert read["format"] == "bids-json" and "error" not in read


def test_family_from_what_the_sidecars_state_and_absent_when_they_do_not():
    """Families the sidecars support (their own words: "Sag_3D_IR_T1", SequenceVariant MP, an inversion time,
    "Axi_DTI"), and none where a spin echo's 2D/3D is not stated (the GE T2w is a 3D CUBE per the spine-generic
    protocol, but this sidecar does not say so)."""
    expected = {
        ("sub-chibaIngenia", "T1w"): "mprage",  # ScanningSequence GR, SequenceVariant MP
        ("sub-tokyoSigna1", "T1w"): "mprage",  # GR with InversionTime 1 s (IR-FSPGR)
        ("sub-chibaIngenia", "dwi"): "epi_dwi",  # "Axi_DTI"
        ("sub-chibaIngenia", "T2star"): "t2star",  # "Axi_T2mFFE" (multi-echo FFE)
        ("sub-tokyoSigna1", "T2w"): None,  # SE, MRAcquisitionType absent
    }
    for (site, suffix), family in expected.items():
        [inspection] = inspect_path(BIDS / site)
        acq = next(a for a in inspection.acquisitions if a.name == f"{site}_{suffix}")
        assert acq.get("sequence_family") == family, (site, suffix, acq.provenance.get("sequence_family"))


REFERENCES = FIXTURES / "references"


def test_3d_overlapping_reconstruction_is_no_negative_gap():
    """SOOP's GE 3D T1w sidecar: SliceThickness 1.2, SpacingBetweenSlices 0.6 (slices reconstructed overlapping),
    MRAcquisitionType 3D. Its partitions are contiguous: gap 0, as the DICOM reader says of a GE 3D (the dcm_qa_ge
    MP-RAGE), never 0.6 - 1.2 = -0.6."""
    path = REFERENCES / "soop/sub-1049/anat/sub-1049_T1w.json"
    raw = json.loads(path.read_text())
    assert raw["MRAcquisitionType"] == "3D" and raw["SpacingBetweenSlices"] < raw["SliceThickness"]
    [inspection] = inspect_path(path)
    [acq] = inspection.acquisitions
    assert acq.get("slice_gap_mm") == 0.0 and acq.provenance["slice_gap_mm"].startswith("implied")
    [dicom] = [
        i for i in inspect_path(FIXTURES / "dicom/GE/SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm") if i.format == "dicom"
    ]
    assert dicom.acquisitions[0].get("slice_gap_mm") == acq.get("slice_gap_mm")


def test_2d_gap_is_still_spacing_minus_thickness():
    """The same site's 2D DWI: "SliceThickness": 5, "SpacingBetweenSlices": 6: a 1 mm gap."""
    path = REFERENCES / "soop/sub-1049/dwi/sub-1049_rec-TRACE_dwi.json"
    raw = json.loads(path.read_text())
    [inspection] = inspect_path(path)
    assert inspection.acquisitions[0].get("slice_gap_mm") == raw["SpacingBetweenSlices"] - raw["SliceThickness"] == 1


def test_a_series_bval_is_read_with_its_sidecar_not_skipped(tmp_path):
    # ON-Harmony (OpenNeuro ds004712, CC0): a dwi sidecar and its .bval (the b-values are read from it), copied
    # with a file that is no BIDS file at all: only that one is "skipped: not a format".
    source = FIXTURES / "references/on-harmony/sub-03286/ses-NOT2ING001/dwi"
    dwi = tmp_path / "sub-03286/ses-NOT2ING001/dwi"
    dwi.mkdir(parents=True)
    for f in source.iterdir():
        (dwi / f.name).write_bytes(f.read_bytes())
    (tmp_path / "dataset_description.json").write_text('{"Name": "x", "BIDSVersion": "1.8.0"}')
    (tmp_path / "notes.txt").write_text("scanned on Tuesday")
    [inspection] = inspect_path(tmp_path)
    assert inspection.acquisitions[0].get("b_values") == [0.0, 1000.0, 2000.0]
    skipped = [w for w in inspection.warnings if "skipped" in w]
    assert skipped == ["1 file(s) skipped: not a format ofsep-presets reads (notes.txt)"]
    assert any(w.startswith("2 other file(s) of the BIDS dataset") for w in inspection.warnings)


def test_a_sessions_echo_sidecars_of_one_acquisition_are_one_acquisition_with_every_echo_time():
    """ON-Harmony's multi-echo GRE (OpenNeuro ds004712, CC0) is stored by dcm2niix one file per echo: `echo-1` and
    `echo-2` (Philips Ingenia, Nottingham), `echo-1` and `echo-8` (GE MR750: the two of its eight echoes kept in
    the references), each sidecar stating its "EchoNumber" and "EchoTime" with the same ProtocolName, TR and
    geometry. The session holds one such acquisition: echo 1's takes every echo time the sidecars state, the later
    echo says whose echo it is and is judged with it, never as an acquisition of its own."""
    from ofsep_presets import exams

    for session, later in (("ses-NOT2ING001", 2), ("ses-NOT3GEM001", 8)):
        folder = REFERENCES / "on-harmony/sub-03286" / session / "swi"
        stated = {}
        for sidecar in sorted(folder.glob("*_GRE.json")):
            data = json.loads(sidecar.read_text())
            stated[data["EchoNumber"]] = data["EchoTime"] * 1000
        assert sorted(stated) == [1, later]
        [exam] = exams.split(inspect_path(folder.parent))
        echoes = {a.name: a for v in exam.inspections for a in v.acquisitions if a.name.endswith("_part-mag_GRE")}
        first = echoes[f"sub-03286_{session}_echo-1_part-mag_GRE"]
        other = echoes[f"sub-03286_{session}_echo-{later}_part-mag_GRE"]
        assert first.get("echo_times_ms") == pytest.approx(sorted(stated.values()))
        assert "files of their own (the sidecars' EchoNumber" in first.provenance["echo_times_ms"]
        assert other.context["echo_of"] == first.name and "echo_of" not in first.context

    result = CliRunner().invoke(
        main, ["check", "--quiet", str(REFERENCES / "on-harmony/sub-03286/ses-NOT2ING001"), "--format", "json"]
    )
    doc = json.loads(result.stdout)
    why = doc["unmatched_reasons"]["sub-03286_ses-NOT2ING001_echo-2_part-mag_GRE"]
    assert why.startswith("another echo of the acquisition 'sub-03286_ses-NOT2ING001_echo-1_part-mag_GRE'")


def test_echo_files_join_within_their_run_when_the_sidecars_state_no_series_number(tmp_path):
    """Two runs of ON-Harmony's Philips GRE (its real echo-1/echo-2 sidecars, the second run a repeat 6 minutes
    later), with SeriesNumber removed as de-identified datasets often do: each run's echo-2 is the echo of its own
    run's echo-1 (BIDS names the files of one acquisition's echoes apart by `echo-<index>` only; `run-` tells two
    acquisitions of one protocol apart), never of the other run's."""
    from ofsep_presets import exams

    source = REFERENCES / "on-harmony/sub-03286/ses-NOT2ING001/swi"
    folder = tmp_path / "sub-01" / "ses-01" / "swi"
    folder.mkdir(parents=True)
    for run, time in ((1, "15:57:53.320000"), (2, "16:03:53.320000")):
        for echo in (1, 2):
            data = json.loads((source / f"sub-03286_ses-NOT2ING001_echo-{echo}_part-mag_GRE.json").read_text())
            data.pop("SeriesNumber", None)
            data["AcquisitionTime"] = time
            (folder / f"sub-01_ses-01_run-{run}_echo-{echo}_part-mag_GRE.json").write_text(json.dumps(data))
    [exam] = exams.split(inspect_path(tmp_path))
    acqs = {a.name: a for v in exam.inspections for a in v.acquisitions}
    for run in (1, 2):
        first, second = (
            acqs[f"sub-01_ses-01_run-{run}_echo-1_part-mag_GRE"],
            acqs[f"sub-01_ses-01_run-{run}_echo-2_part-mag_GRE"],
        )
        assert second.context["echo_of"] == first.name
        assert first.get("echo_times_ms") == pytest.approx([9.4, 20.0])  # the two sidecars' EchoTime 0.0094, 0.02 s


def test_the_body_part_of_a_recent_dcm2niix_sidecar_is_read():
    """dcm2niix writes the DICOM Body Part Examined as "BodyPart" since 2024 (the fixture Ingenia DTI sidecar, of
    v1.0.20260416, says "BodyPart": "BRAIN"), "BodyPartExamined" before: both are the series' body part, the
    region evidence the exam model weighs (the motivating dcm_qa_sag Prisma DWI: region unknown without it)."""
    sidecar = FIXTURES / "dicom/Philips/Ingenia_classic_DTI_Biobank_2mm_full/bids_json_dcm2niix"
    path = sidecar / "701_DTI_Biobank_2mm_MB3S2_EPI_cl.json"
    raw = json.loads(path.read_text())
    assert raw["BodyPart"] == "BRAIN" and "BodyPartExamined" not in raw
    [inspection] = inspect_path(path)
    [acq] = inspection.acquisitions
    assert acq.context.get("body_part") == "BRAIN"
