"""`check`: verdicts on the real fixtures that follow from the seed's rules, and the round trip of our own sheets.

Expected values come from independent sources: dcm2niix's sidecar beside each DICOM series (slice thickness,
directions) and the OFSEP sheet (seed 001: 3D T1 ≤ 1 mm, DTI ≥ 15 directions, DWI with an ADC map, 3D FLAIR).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ofsep_presets.check import check
from ofsep_presets.cli import main
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

DICOM = FIXTURES / "dicom"
XA30_DWI = [DICOM / "Siemens" / f"XA30_classic_DWI_dir80_AP{s}" for s in ("", "_ADC", "_TRACEW")]


def _check(spec, *paths: Path, **options):
    return check([i for p in paths for i in inspect_path(p)], spec, **options)


def _sequence(report, seq_id):
    return next(s for s in report.sequences if s.id == seq_id)


def _check_of(seq, param):
    return next(c for c in seq.checks if c.param == param)


def _sidecar(folder: Path) -> dict:
    return json.loads(next((folder / "bids_json_dcm2niix").glob("*.json")).read_text())


def test_philips_2mm_dti_with_12_directions_fails_at_least_15(spec):
    folder = DICOM / "Philips" / "Ingenia_classic_DTI_Biobank_2mm_full"
    sidecars = folder / "bids_json_dcm2niix"
    bvals = [float(b) for b in next(sidecars.glob("*.bval")).read_text().split()]
    rows = [r.split() for r in next(sidecars.glob("*.bvec")).read_text().split("\n")[:3]]
    # dcm2niix's .bval/.bvec: the distinct directions of the highest b-value (the canonical definition).
    directions = {
        tuple(round(float(v), 4) for v in xyz) for b, *xyz in zip(bvals, *rows, strict=True) if b == max(bvals)
    }
    report = _check(spec, folder)
    dti = _sequence(report, "brain.dti")
    assert dti.matched[0].acquisition.name == "701 DTI_Biobank_2mm_MB3S2_EPI"
    c = _check_of(dti, "diffusion_directions")
    assert (c.observed, c.rule, c.status) == (len(directions), ">= 15", "fail") and len(directions) == 12
    # The rule judges the acquired voxel: dcm2niix says AcquisitionMatrixPE 110 (ReconMatrixPE 112) over the
    # 224 mm FoV, so the phase axis is 224 / 110 = 2.036 mm acquired (2 mm reconstructed): just over ≤ 2 mm.
    truth = _sidecar(folder)
    voxel = _check_of(dti, "voxel_size_mm")
    assert voxel.observed[1] == pytest.approx(224 / truth["AcquisitionMatrixPE"], abs=1e-3)
    assert voxel.status == "fail" and "acquired voxel" in voxel.provenance
    assert dti.status == "fail" and report.status == "fail" and not report.compliant


def test_siemens_xa30_dwi_with_its_adc_map_satisfies_dwi_and_adc(spec):
    report = _check(spec, *XA30_DWI)
    dwi = _sequence(report, "brain.dwi")
    assert dwi.matched[0].acquisition.name == "11001 DWI_dir80_AP"  # the acquired series, not its trace images
    rule = next(r for r in report.session if r.rule == "ADC map for brain.dwi")
    assert rule.status == "pass" and "DWI_dir80_AP_ADC" in rule.detail
    assert sorted(a.name for a in report.maps) == ["12001 DWI_dir80_AP_ADC", "13001 DWI_dir80_AP_TRACEW"]


def test_a_dwi_without_its_adc_series_fails_the_adc_rule(spec):
    report = _check(spec, XA30_DWI[0])
    assert next(r for r in report.session if r.rule == "ADC map for brain.dwi").status == "fail"


def test_ge_12mm_3d_t1_fails_the_1mm_rule(spec):
    folder = DICOM / "GE" / "SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"
    report = _check(spec, folder)
    t1 = _sequence(report, "brain.t1_3d")
    thickness = _check_of(t1, "slice_thickness_mm")
    assert thickness.observed == _sidecar(folder)["SliceThickness"] == 1.2
    assert (thickness.rule, thickness.status, thickness.vendor_label) == ("<= 1.0", "fail", "Slice Thickness")
    assert _check_of(t1, "voxel_size_mm").status == "fail"
    assert _check_of(t1, "contrast_agent").status == "pass"  # no Contrast/Bolus module in the header
    assert "SliceThickness" in thickness.provenance
    # Read once: the sidecars beside the DICOM files are the same series, not a second T1.
    assert len(t1.matched) == 1 and not any(s.id.startswith("spine") for s in report.sequences)


def test_a_missing_3d_flair_is_missing_and_exits_1(spec):
    report = _check(spec, *XA30_DWI, DICOM / "Siemens" / "XA30_classic_T1w_MPRAGE_tfl3d_2mm")
    assert [v.key for v in report.variants] == ["brain-standard"]
    flair = _sequence(report, "brain.flair_3d")
    assert (flair.status, flair.required, flair.matched) == ("missing", True, [])
    result = CliRunner().invoke(main, ["check", *map(str, XA30_DWI), "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert next(s for s in doc["sequences"] if s["id"] == "brain.flair_3d")["status"] == "missing"


def test_a_dti_read_from_bids_without_directions_is_unknown_never_pass(spec):
    sidecar = DICOM / "Siemens" / "VE11_DTI_ep2d_diff_20dir_mosaic" / "bids_json_dcm2niix" / "dti_nopf_x2_ortho_2.json"
    assert not sidecar.with_suffix(".bvec").exists()  # dcm2niix wrote b-values only: directions untold
    report = _check(spec, sidecar)
    dti = _sequence(report, "brain.dti")
    c = _check_of(dti, "diffusion_directions")
    assert (c.observed, c.status) == (None, "unknown")
    assert dti.status == "unknown"


def test_float_noise_never_fails_and_variant_and_field_can_be_forced(spec):
    inspections = inspect_path(DICOM / "GE" / "SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm")
    acq = next(a for i in inspections for a in i.acquisitions if i.format == "dicom")
    acq.params["slice_thickness_mm"] = 1.0000001
    acq.params["voxel_size_mm"] = [1.0, 1.0, 1.00000003]
    report = check(inspections, spec, variant="reduced", field_t=1.5)
    t1 = _sequence(report, "brain.t1_3d")
    assert _check_of(t1, "slice_thickness_mm").status == "pass"
    assert _check_of(t1, "voxel_size_mm").status == "pass"
    assert [v.key for v in report.variants] == ["brain-reduced"] and report.field_t == 1.5
    assert report.inferred["field"] == "1.5 T (--field)"


def test_map_overrides_a_match(spec):
    report = _check(spec, DICOM / "Siemens" / "XA30_classic_T1w_MPRAGE_tfl3d_2mm", forced={"5001": "brain.t1_3d_gd"})
    gd = _sequence(report, "brain.t1_3d_gd")
    assert gd.matched[0].forced and gd.matched[0].confidence == 1.0
    assert _check_of(gd, "contrast_agent").status == "fail"  # the header says no contrast was given
    assert _sequence(report, "brain.t1_3d").status == "missing"


def test_localizers_are_listed_not_errors(spec):
    report = _check(spec, DICOM / "GE" / "SIGNA_Premier_3-Plane_Localizer_ssfse")
    assert [(a.name, why) for a, why in report.unmatched] == [("1 3-Plane Localizer", "localizer or calibration")]


def test_our_rendered_sheets_pass_for_every_vendor_field_and_variant(spec, tmp_path):
    from ofsep_presets.render import Selection, render

    render(spec, tmp_path, Selection(formats=("sheet",)), force=True)
    sheets = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "index.html" and not p.name.startswith(".")]
    assert len(sheets) == 4 * 2 * 3
    for sheet in sheets:
        report = check(inspect_path(sheet), spec)
        variant = sheet.parent.name  # e.g. brain-reduced
        assert [v.key for v in report.variants] == [variant], sheet
        assert report.status == "pass", (sheet, [(s.id, s.status) for s in report.sequences if s.status != "pass"])
        matched = {s.id for s in report.sequences if s.matched}
        assert matched == set(spec.variant(*variant.split("-")).order) - {"gadolinium"}, sheet


def test_brain_before_spine_for_one_injection_is_a_spec_session_rule(spec, tmp_path):
    """Seed 001: brain and spinal cord in the same session, brain first, for a single injection."""
    from ofsep_presets.render import Selection, render

    assert {k: v for k, v in spec.session_rules[0].items() if k in ("order", "if_contrast")} == {
        "order": ["brain", "spine"],
        "if_contrast": True,
    }
    render(spec, tmp_path, Selection(vendors=("siemens",), fields=(3.0,), variants=("standard",), formats=("sheet",)))
    brain, spine = (tmp_path / "siemens" / "3T" / f"{e}-standard" / "protocol.xml" for e in ("brain", "spine"))
    rule = "Brain MRI before Spinal cord MRI (one injection)"
    in_order = check([*inspect_path(brain), *inspect_path(spine)], spec)
    assert next(r for r in in_order.session if r.rule == rule).status == "pass"
    reversed_ = check([*inspect_path(spine), *inspect_path(brain)], spec)
    result = next(r for r in reversed_.session if r.rule == rule)
    # Seed 001 says "il est préférable ... en commençant par l'IRM cérébrale": preferable, so a warning.
    assert (result.status, result.detail) == (
        "warn",
        "by order in the input; Spinal cord MRI acquired before the end of Brain MRI",
    )
    # A brain exam alone has nothing to order.
    assert next(r for r in check(inspect_path(brain), spec).session if r.rule == rule).status == "not-applicable"


@pytest.mark.parametrize(
    ("stated", "nominal", "allowed"),
    # 6.98 T: a Siemens 7 T system (flNominalB0 6.98, dcm2niix's MagneticFieldStrength 7: OpenNeuro ds005345), a
    # class the readers name 7 T (one table, units.nominal_field_t); a 1.25 T system is no 1.5 T one.
    [(2.89, 3.0, "pass"), (1.494, 1.5, "pass"), (1.0, 1.0, "fail"), (6.98, 7.0, "fail"), (1.25, 1.25, "fail")],
)
def test_field_class_is_the_nominal_field_only_near_it(spec, tmp_path, stated, nominal, allowed):
    # Siemens headers state 2.89 T for a 3 T system and 1.494 T for a 1.5 T one (flNominalB0 2.89362 in the
    # spine-generic exports); a 1.0 T system is not a 1.5 T one, whatever rounding would say. OFSEP: 1.5 or 3 T.
    src = next((FIXTURES / "references" / "on-harmony").rglob("*_T1w.json"))
    sidecar = json.loads(src.read_text())
    sidecar["MagneticFieldStrength"] = stated
    (tmp_path / "sub-01_T1w.json").write_text(json.dumps(sidecar))
    report = check(inspect_path(tmp_path), spec)
    assert report.field_t == nominal
    assert next(r for r in report.session if r.rule.startswith("field strength")).status == allowed
