"""Philips PAR files (PAR/REC research image export), read against two independent readings of the same files.

The files are nibabel's public test data (nibabel/tests/data/*.PAR, MIT; nibabel is a test dependency): PAR
versions 4, 4.1 and 4.2 from several consoles (DTI, T1 3D, multi-echo, TSE, EPI phantoms, a truncated one).
nibabel's own PAR reader (nibabel.parrec.PARRECHeader) is the reference for every value both read; dcm2niix's
sidecar of the one PAR/REC pair is a second one. They were "not a format ofsep-presets reads".
"""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

from ofsep_presets.readers import inspect_path, philips_par, reader_for

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from nibabel import parrec

DATA = Path(parrec.__file__).parent / "tests" / "data"
PARS = sorted(DATA.glob("*.PAR"))


def _nibabel(path: Path):
    with warnings.catch_warnings(), path.open() as handle:
        warnings.simplefilter("ignore")
        return parrec.PARRECHeader.from_fileobj(handle, permit_truncated=True, strict_sort=False)


def _readable_by_nibabel() -> list[Path]:
    out = []
    for path in PARS:
        try:
            _nibabel(path)
        except Exception:  # a file nibabel itself refuses is no reference
            continue
        out.append(path)
    return out


READ = _readable_by_nibabel()


@pytest.mark.skipif(not READ, reason="nibabel's PAR test data not installed")
@pytest.mark.parametrize("path", READ, ids=[p.stem for p in READ])
def test_a_par_file_reads_as_nibabel_reads_it(path: Path):
    header = _nibabel(path)
    info, images = header.general_info, header.image_defs
    [inspection] = inspect_path(path)
    assert inspection.format == philips_par.FORMAT
    [acq] = inspection.acquisitions
    p = acq.params
    assert p["manufacturer"] == "philips"
    assert p["repetition_time_ms"] == pytest.approx(float(info["repetition_time"][0]))
    assert p["slices"] == int(info["max_slices"])
    mode = str(info.get("scan_mode", "")).strip()
    assert p.get("acquisition_type") == {"3D": "3D", "MS": "2D"}.get(mode)
    echoes = sorted({float(t) for t in images["echo_time"] if t > 0})
    assert p["echo_time_ms"] == pytest.approx(echoes[0], abs=1e-4)
    if len(echoes) > 1:
        assert p["echo_times_ms"] == pytest.approx(echoes, abs=1e-4)
    assert p["flip_angle_deg"] == pytest.approx(float(images["image_flip_angle"][0]))
    assert p["slice_thickness_mm"] == pytest.approx(float(images["slice thickness"][0]))
    assert p["slice_gap_mm"] == pytest.approx(float(images["slice gap"][0]))
    if "diffusion_b_factor" in images.dtype.names and images["diffusion_b_factor"].max() > 0:
        assert p["b_values"] == sorted({round(float(b), 3) for b in images["diffusion_b_factor"]})
    if int(info["epi_factor"]) > 1:
        assert p["echo_train_length"] == int(info["epi_factor"])
    name = " ".join(str(info["protocol_name"]).split())
    if name:
        assert acq.name == p["series_description"] == name
    for param in p:
        assert acq.provenance[param], param


@pytest.mark.skipif(not (DATA / "DTI.PAR").is_file(), reason="nibabel's PAR test data not installed")
def test_the_dti_par_states_its_directions():
    """DTI.PAR: b 0 and 1000; nibabel's b-vectors give 6 distinct non-zero directions at b=1000 (beside the
    console's isotropic image, whose vector is 0; "Max. number of gradient orients: 7" counts it)."""
    bvals, bvecs = _nibabel(DATA / "DTI.PAR").get_bvals_bvecs()
    directions = {
        tuple(round(float(c), 3) for c in v) for b, v in zip(bvals, bvecs, strict=True) if b == 1000 and any(v)
    }
    [acq] = inspect_path(DATA / "DTI.PAR")[0].acquisitions
    assert acq.params["b_values"] == [0.0, 1000.0]
    assert acq.params["diffusion_directions"] == len(directions) == 6
    assert acq.params["sequence_family"] == "epi_dwi"


@pytest.mark.skipif(shutil.which("dcm2niix") is None, reason="dcm2niix makes the reference sidecar")
@pytest.mark.skipif(not (DATA / "phantom_EPI_asc_CLEAR_2_1.REC").is_file(), reason="nibabel's PAR/REC not installed")
def test_the_par_rec_pair_reads_as_dcm2niix_reads_it(tmp_path: Path):
    exam, ref = tmp_path / "exam", tmp_path / "ref"
    exam.mkdir(), ref.mkdir()
    for suffix in (".PAR", ".REC"):
        shutil.copy(DATA / f"phantom_EPI_asc_CLEAR_2_1{suffix}", exam)
    subprocess.run(
        ["dcm2niix", "-b", "o", "-f", "sidecar", "-o", str(ref), str(exam / "phantom_EPI_asc_CLEAR_2_1.PAR")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    sidecar = json.loads((ref / "sidecar.json").read_text())
    [inspection] = inspect_path(exam)  # the folder: the PAR read, the REC (pixels) skipped and counted
    [acq] = inspection.acquisitions
    assert acq.params["repetition_time_ms"] == pytest.approx(sidecar["RepetitionTime"] * 1000)
    assert acq.params["echo_time_ms"] == pytest.approx(sidecar["EchoTime"] * 1000)
    assert acq.params["manufacturer"] == sidecar["Manufacturer"].lower()


def test_one_odd_value_costs_that_value_only(tmp_path: Path):
    """A word where the TR belongs and a flip angle column of words: those two absent and said, the rest read."""
    if not (DATA / "T2.PAR").is_file():
        pytest.skip("nibabel's PAR test data not installed")
    text = (DATA / "T2.PAR").read_text(encoding="latin-1")
    lines = text.splitlines()
    tr = next(i for i, line in enumerate(lines) if line.startswith(".    Repetition time"))
    lines[tr] = lines[tr].split(":")[0] + ":   Allowed"
    target = tmp_path / "odd.PAR"
    target.write_text("\n".join(lines) + "\n", encoding="latin-1")
    [inspection] = inspect_path(target)
    [acq] = inspection.acquisitions
    assert "repetition_time_ms" not in acq.params
    assert acq.params["echo_time_ms"] == 80.0 and acq.params["slices"] == 10


def test_only_a_par_file_is_taken_for_one(tmp_path: Path):
    text = tmp_path / "notes.txt"
    text.write_text("DATA DESCRIPTION FILE is what Philips calls a PAR file\n")
    assert reader_for(text) is not philips_par
    if (DATA / "T1.PAR").is_file():
        renamed = tmp_path / "scan.txt"
        shutil.copy(DATA / "T1.PAR", renamed)
        assert reader_for(renamed) is philips_par  # by content, whatever its name


def test_a_folder_of_par_rec_pairs_reads_the_pars_and_counts_the_recs_as_theirs(tmp_path: Path):
    """The REC (pixels only) beside its PAR is part of the export: counted apart, not "skipped"; a REC without
    its PAR, or another file, is still skipped."""
    if not (DATA / "phantom_EPI_asc_CLEAR_2_1.REC").is_file():
        pytest.skip("nibabel's PAR/REC not installed")
    for suffix in (".PAR", ".REC"):
        shutil.copy(DATA / f"phantom_EPI_asc_CLEAR_2_1{suffix}", tmp_path)
    shutil.copy(DATA / "phantom_varscale.REC", tmp_path / "orphan.REC")
    [inspection] = inspect_path(tmp_path)
    assert [a.name for a in inspection.acquisitions] == ["EPI_asc CLEAR"]
    assert "1 REC file(s) beside their PAR (the images' pixels) not needed for a protocol" in inspection.warnings
    assert any(w.startswith("1 file(s) skipped") and "orphan.REC" in w for w in inspection.warnings)


# The in-plane patient axes of each slice orientation (nibabel's codes: 1 transverse, 2 sagittal, 3 coronal) and the
# axis each "Preparation direction" (Philips' phase-encoding, fold-over direction) names.
IN_PLANE = {1: ("ap", "rl"), 2: ("ap", "fh"), 3: ("fh", "rl")}
PREP_AXIS = {"Anterior-Posterior": "ap", "Right-Left": "rl", "Feet-Head": "fh"}


@pytest.mark.skipif(not READ, reason="nibabel's PAR test data not installed")
@pytest.mark.parametrize("path", READ, ids=[p.stem for p in READ])
def test_a_par_file_states_its_fov_and_matrix_as_nibabel_parses_them(path: Path):
    """FoV [read, phase] from "FOV (ap,fh,rl)" by the slice orientation and the preparation direction, as
    nibabel parses the three; the matrix from "Scan resolution (x, y)" where x, y and the scan percentage agree;
    absent where the file states zeros or contradicts itself."""
    header = _nibabel(path)
    info, images = header.general_info, header.image_defs
    [acq] = inspect_path(path)[0].acquisitions
    fov = dict(zip(("ap", "fh", "rl"), (float(v) for v in info["fov"]), strict=True))
    x, y = (int(v) for v in info["scan_resolution"])
    codes = {int(c) for c in images["slice orientation"]}
    phase = PREP_AXIS.get(str(info.get("prep_direction", "")).strip())
    if min(fov.values()) <= 0 or min(x, y) <= 0:  # an anonymised file's zeros
        assert "fov_mm" not in acq.params and "matrix" not in acq.params
        return
    if len(codes) != 1 or phase not in IN_PLANE[next(iter(codes))]:
        assert "fov_mm" not in acq.params and "matrix" not in acq.params
        return
    (read,) = set(IN_PLANE[next(iter(codes))]) - {phase}
    assert acq.params["fov_mm"] == [fov[read], fov[phase]]
    assert "Preparation direction" in acq.provenance["fov_mm"]
    [pct] = {float(v) for v in images["scan percentage"]}
    if abs(x * pct / 100 - y) > max(1.0, 0.05 * x * pct / 100):
        assert "matrix" not in acq.params
        return
    assert acq.params["matrix"] == [x, round(y * fov[phase] / fov[read])]
    assert "Scan resolution" in acq.provenance["matrix"]
    spacing = {tuple(float(v) for v in s) for s in images["pixel spacing"]}
    if len(spacing) == 1:
        [(sx, sy)] = spacing
        assert acq.params["reconstructed_voxel_mm"] == [sx, sy, float(images["slice thickness"][0])]


@pytest.mark.skipif(not (DATA / "T1_dual_echo.PAR").is_file(), reason="nibabel's PAR test data not installed")
def test_the_par_geometry_read_by_hand():
    """Values read off the files' text by hand. phantom_EPI_asc_CLEAR_2_1: transverse, FoV 240 (AP) x 240 (RL),
    scan resolution 64 x 39 (scan percentage 62): 3.75 x 6.15 mm acquired, 3.75 mm reconstructed. T1_dual_echo:
    sagittal, preparation AP, FoV FH 256 / AP 224, 256 x 256 at 100 %: 256 x 224 phase lines, the 1 mm voxel it is
    reconstructed at. DTI.PAR: transverse, preparation RL, FoV AP 130 / RL 154.375, 76 x 62 at 81 %."""
    [epi] = inspect_path(DATA / "phantom_EPI_asc_CLEAR_2_1.PAR")[0].acquisitions
    assert (epi.params["fov_mm"], epi.params["matrix"]) == ([240.0, 240.0], [64, 39])
    assert epi.params["voxel_size_mm"] == [3.75, pytest.approx(240 / 39, abs=1e-4), 6.0]
    assert epi.params["reconstructed_voxel_mm"] == [3.75, 3.75, 6.0]
    [t1] = inspect_path(DATA / "T1_dual_echo.PAR")[0].acquisitions
    assert t1.params["orientation"] == "sagittal"
    assert (t1.params["fov_mm"], t1.params["matrix"]) == ([256.0, 224.0], [256, 224])
    assert t1.params["voxel_size_mm"] == t1.params["reconstructed_voxel_mm"] == [1.0, 1.0, 1.0]
    [dti] = inspect_path(DATA / "DTI.PAR")[0].acquisitions
    assert (dti.params["fov_mm"], dti.params["matrix"]) == ([130.0, 154.375], [76, 74])


@pytest.mark.skipif(not (DATA / "R11_T2W_TSE.PAR").is_file(), reason="nibabel's PAR test data not installed")
def test_a_par_geometry_that_contradicts_itself_is_absent_and_said():
    """R11_T2W_TSE states transverse slices (orientation 1) phase-encoded Feet-Head, through its own slab: which
    FoV is read and which phase cannot be told. umass_anonymized states zeros. Neither is guessed."""
    [inspection] = inspect_path(DATA / "R11_T2W_TSE.PAR")
    [acq] = inspection.acquisitions
    assert "fov_mm" not in acq.params and "matrix" not in acq.params
    assert any("preparation direction 'Feet-Head'" in w for w in inspection.warnings), inspection.warnings
    assert acq.params["voxel_size_mm"] == acq.params["reconstructed_voxel_mm"] == [1.0, 1.0, 1.0]
    assert "reconstructed voxel" in acq.provenance["voxel_size_mm"]
    [anonymised] = inspect_path(DATA / "umass_anonymized.PAR")[0].acquisitions
    assert "fov_mm" not in anonymised.params and "matrix" not in anonymised.params


@pytest.mark.skipif(not READ, reason="nibabel's PAR test data not installed")
@pytest.mark.parametrize("path", READ, ids=[p.name for p in READ])
def test_the_mt_pulse_is_the_header_s_mtc_flag(path: Path):
    """ ".    MTC   <0=no 1=yes> ?   :   0": nibabel reads it as general_info["mtc"]."""
    stated = _nibabel(path).general_info.get("mtc")
    [acq] = inspect_path(path)[0].acquisitions
    assert acq.get("magnetization_transfer") == (None if stated is None else bool(stated))


@pytest.mark.skipif(not READ, reason="nibabel's PAR test data not installed")
def test_a_field_echo_technique_is_a_gradient_echo():
    """fieldmap.PAR: "Technique : FFE" (a Philips fast field echo, nibabel's general_info["tech"]), "Scan mode :
    MS" (multi-slice 2D): a 2D gradient echo, as a DICOM ScanningSequence GR with the same values reads."""
    path = DATA / "fieldmap.PAR"
    assert _nibabel(path).general_info["tech"] == "FFE"
    [acq] = inspect_path(path)[0].acquisitions
    assert acq.get("acquisition_type") == "2D" and acq.get("sequence_family") == "gre", acq.provenance


@pytest.mark.skipif(not READ, reason="nibabel's PAR test data not installed")
def test_a_2d_t1tfe_survey_is_a_gradient_echo_not_an_mprage():
    """NA.PAR: "Protocol name : Survey_32ch_HeadCoil", "Technique : T1TFE", "Scan mode : MS" (multi-slice 2D).
    An MP-RAGE is a 3D acquisition (Mugler & Brookeman, MRM 1990); Philips' T1-TFE is its T1-weighted, spoiled
    turbo field echo (FLASH / SPGR in the other vendors' words): a 2D gradient echo here. T1.PAR, the same technique
    in "Scan mode : 3D", stays an MPRAGE."""
    path = DATA / "NA.PAR"
    info = _nibabel(path).general_info
    assert (info["tech"], info["scan_mode"]) == ("T1TFE", "MS")
    [acq] = inspect_path(path)[0].acquisitions
    assert acq.get("acquisition_type") == "2D"
    assert acq.get("sequence_family") == "gre", acq.provenance.get("sequence_family")
    [volume] = inspect_path(DATA / "T1.PAR")[0].acquisitions
    assert volume.get("acquisition_type") == "3D" and volume.get("sequence_family") == "mprage"
