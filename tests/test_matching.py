"""Matching as an assignment on the real fixtures: which series is which OFSEP sequence, and what vetoes a pair.

Expected values come from outside our code: the vendors' printouts beside the spine-generic exports (what each
step is: "T1w" a 1 mm sagittal MPRAGE, "GRE-T1w" a 5 mm transversal 3D GRE, the cord DWI an 86 mm field of view),
the raw LxProtocol bytes (GE `CONTRAST "No"`), the DICOM headers (no Contrast/Bolus module), the BIDS
specification (`dir-` is the phase-encoding direction, `rec-TRACE` a reconstruction) and the OFSEP sheet
(seed 001: the reduced protocol is the quarterly PML surveillance, the standard one needs its 3D T1).
"""

from __future__ import annotations

import copy
import gzip
import itertools
import json
import re
import tarfile

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from ofsep_presets.acquisition import Acquisition, Inspection
from ofsep_presets.check import check
from ofsep_presets.cli import main
from ofsep_presets.match import assign, match
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES
from .test_render import pdf_text

EXPORTS = FIXTURES / "vendor-exports"
SPINE_GENERIC = {
    "Siemens Prisma VE11C": EXPORTS / "siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1",
    "Siemens CimaX XA61": EXPORTS / "siemens/CimaX_XA61_ZOOMit/spine-generic_CimaX_XA61_ZOOMit.exar1",
    "Siemens Trio VB17": EXPORTS / "siemens/Trio_VB17/spine_generic_siemens-trio.edx",
    "Philips R5.3": EXPORTS / "philips/spine_generic_philips_R53.ExamCard",
    "GE 750": EXPORTS / "ge/GE_750_no-FOCUS/protocol.tar",
}
SIEMENS_PRINTED = [k for k in SPINE_GENERIC if k.startswith("Siemens")]
DICOM = FIXTURES / "dicom"
REFERENCES = FIXTURES / "references"


def _inspections(*paths):
    return [i for p in paths for i in inspect_path(p)]


def _seq(report, seq_id):
    return next(s for s in report.sequences if s.id == seq_id)


def _matched(report, seq_id):
    s = _seq(report, seq_id)
    return s.matched[0].acquisition.name if s.matched else None


def _why(report, name):
    return dict((a.name, why) for a, why in report.unmatched)[name]


def _printed_step(pdf, step: str) -> dict[str, str]:
    """Slice thickness and orientation of one step, as the Siemens printout of the same protocol prints them."""
    text = pdf_text(pdf)
    start = re.search(r"\\\\[^\n]*\\" + re.escape(step) + r"\s*\n", text).end()
    end = re.search(r"\n\s*\\\\[^\n]*\\[^\n\\]+\s*\n", text[start:])
    section = text[start : start + end.start()] if end else text[start:]
    return {
        "thickness": float(re.search(r"Slice thickness\s+([\d.]+) mm", section, re.I).group(1)),
        "orientation": re.search(r"Orientation\s+(\w+)", section).group(1),
        "fov_read": re.search(r"FoV read\s+([\d.]+) mm", section, re.I).group(1),
    }


@pytest.mark.parametrize("name", sorted(SPINE_GENERIC))
def test_spine_generic_t1w_is_the_brain_3d_t1_not_the_5mm_axial_gre(spec, name):
    report = check(_inspections(SPINE_GENERIC[name]), spec)
    assert _matched(report, "brain.t1_3d") == "T1w"
    gre_t1 = next(a.name for a, _ in report.unmatched if a.name.startswith("GRE-T1"))
    why = _why(report, gre_t1)
    gre = next(a for a, _ in report.unmatched if a.name == gre_t1)
    if gre.region is None:  # without a region it fits the brain 3D T1 and loses to the T1w
        assert why.startswith("fits brain.t1_3d (score ") and "taken by 'T1w'" in why
        detail = next(u for u in report.unmatched_details if u.acquisition.name == gre_t1)
        assert detail.closest == "brain.t1_3d" and detail.score < _seq(report, "brain.t1_3d").matched[0].score
    else:  # the exam model placed it in the cord program: no brain slot is open to it, and it says why
        assert gre.region == "spine" and "vetoed: " in why, why
    # The MT scans are no OFSEP sequence, and each says why.
    for a, why in report.unmatched:
        if "MT" in a.name:
            assert why == "quantitative map or magnetization-transfer scan"
    assert _matched(report, "brain.t1_3d_gd") is None  # no contrast evidence: the post-contrast slot stays empty


@pytest.mark.parametrize("name", SIEMENS_PRINTED)
def test_the_printout_says_t1w_is_the_1mm_sagittal_and_gre_t1w_the_5mm_transversal(name):
    pdf = SPINE_GENERIC[name].with_suffix(".pdf")
    assert _printed_step(pdf, "T1w")["thickness"] == 1.0 and _printed_step(pdf, "T1w")["orientation"] == "Sagittal"
    gre = _printed_step(pdf, "GRE-T1w")
    # XA61 prints a tilted plane as "T > C-6.4" (transversal towards coronal), older versions "Transversal".
    assert gre["thickness"] == 5.0 and gre["orientation"] in ("Transversal", "T")


@pytest.mark.parametrize("name", SIEMENS_PRINTED)
def test_a_cord_dwi_of_86mm_is_never_the_brain_dwi(spec, name):
    dwi = next(
        s
        for s in ("DWI", "DWI_no-ZOOMit")
        if re.search(rf"\\{s}\s*\n", pdf_text(SPINE_GENERIC[name].with_suffix(".pdf")))
    )
    printed = float(_printed_step(SPINE_GENERIC[name].with_suffix(".pdf"), dwi)["fov_read"])
    assert printed < 150  # the printout's FoV read: no brain fits
    report = check(_inspections(SPINE_GENERIC[name]), spec)
    assert _matched(report, "brain.dwi") is None
    why = _why(report, dwi)  # its field of view, or the exam model's region (the cord program), says why
    assert f"field of view {printed:g} mm, smaller than a brain" in why or (
        "region spine" in why and "not brain" in why
    )


@pytest.mark.parametrize("name", sorted(SPINE_GENERIC))
def test_with_the_cord_region_known_the_cord_t2_is_the_spinal_t2_and_nothing_cord_fills_the_brain(spec, name):
    """The exam model decides regions (exams.py); here the cord series are told `spine` by hand, as the
    printouts describe them (the spine-generic cord protocol), the T1w (head and neck, 320 mm) is left unknown."""
    inspections = _inspections(SPINE_GENERIC[name])
    for acq in inspections[0].acquisitions:
        if acq.name in ("T2w", "GRE-ME") or acq.name.startswith("DWI"):
            acq.region, acq.region_reasons = "spine", ["spine-generic cord protocol"]
    report = check(inspections, spec)
    assert _matched(report, "spine.t2_sag") == "T2w"
    assert _matched(report, "brain.t2_3d") is None
    assert _matched(report, "brain.t2star_2d") is None and _matched(report, "brain.dwi") is None
    assert _matched(report, "brain.t1_3d") == "T1w"
    assert "region spine (spine-generic cord protocol), not brain" in _why(
        report, next(a.name for a, _ in report.unmatched if a.name.startswith("DWI"))
    )


def test_an_export_cannot_know_the_injection_so_contrast_is_not_applicable(spec):
    report = check(_inspections(SPINE_GENERIC["Siemens Prisma VE11C"]), spec)
    c = next(c for c in _seq(report, "brain.t1_3d").checks if c.param == "contrast_agent")
    assert c.observed is None and c.status == "not-applicable" and "verify at the console" in c.note
    rule = next(r for r in report.session if r.rule.startswith("gadolinium before"))
    assert rule.status == "not-applicable" and "verify at the console" in rule.detail


def test_a_ge_program_stating_contrast_no_is_read_and_never_fills_a_post_contrast_slot(spec):
    path = SPINE_GENERIC["GE 750"]
    with tarfile.open(path) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("LxProtocol") and "/T1w_" in m.name)
        assert b'set CONTRAST "No"' in tar.extractfile(member).read()
    inspections = _inspections(path)
    t1w = next(a for a in inspections[0].acquisitions if a.name == "T1w")
    assert t1w.get("contrast_agent") is False and "CONTRAST" in t1w.provenance["contrast_agent"]
    t1w.name = "T1w MP-RAGE post"  # even named so, the program says no contrast: the flag wins over the name
    t1w.params.pop("contrast_agent")
    t1w.set("contrast_agent", False, "LxProtocol CONTRAST")
    report = check(inspections, spec)
    assert _matched(report, "brain.t1_3d_gd") is None
    c = next(c for c in _seq(report, "brain.t1_3d").checks if c.param == "contrast_agent")
    assert c.status == "pass"


def test_a_second_pre_contrast_mprage_is_a_repeat_never_the_post_contrast_t1(spec):
    import pydicom

    folder = DICOM / "Siemens" / "XA30_classic_T1w_MPRAGE_tfl3d_2mm"
    first = next(p for p in sorted(folder.iterdir()) if p.is_file())
    with gzip.open(first) as raw:
        ds = pydicom.dcmread(raw, stop_before_pixels=True)
    assert "ContrastBolusAgent" not in ds and "ContrastBolusAgentSequence" not in ds  # the header: no contrast
    inspections = _inspections(folder)
    dicom = next(i for i in inspections if i.format == "dicom")
    again = copy.deepcopy(dicom.acquisitions[0])
    again.name = again.name.replace("5001", "9001")
    again.params["series_number"] = 9001
    # Acquired again, so later: a series with the first one's acquisition time is the same acquisition stored twice.
    again.set("acquisition_time", "20:15:00.000000", "test: the repeat's own AcquisitionTime")
    dicom.acquisitions.append(again)
    report = check(inspections, spec)
    assert _matched(report, "brain.t1_3d") == dicom.acquisitions[0].name
    assert _matched(report, "brain.t1_3d_gd") is None
    assert [a.name for a in _seq(report, "brain.t1_3d").repeats] == [again.name]
    assert _why(report, again.name).startswith("repeat of brain.t1_3d")


def _acq(name: str, **params) -> Acquisition:
    acq = Acquisition(name)
    for key, value in params.items():
        acq.set(key, value, "test")
    return acq


def test_qalas_and_a_ge_mprage_without_contrast_never_fill_the_post_contrast_t1(spec):
    qalas = _acq(
        "3D QALAS",
        sequence_family="mprage",
        acquisition_type="3D",
        orientation="sagittal",
        slice_thickness_mm=1.0,
        inversion_time_ms=100.0,
    )
    report = check([Inspection("x", "siemens-exar1", acquisitions=[qalas])], spec)
    assert _matched(report, "brain.t1_3d_gd") is None and _matched(report, "brain.t1_3d") is None
    assert _why(report, "3D QALAS") == "quantitative map or magnetization-transfer scan"


def test_a_2d_flair_is_never_chosen_over_3d_flairs(spec):
    flairs = _inspections(REFERENCES / "ds004199")  # two 3D FLAIRs (dcm2niix sidecars: MRAcquisitionType 3D)
    assert {a.get("acquisition_type") for a in flairs[0].acquisitions} == {"3D"}
    two_d = copy.deepcopy(flairs[0].acquisitions[0])
    two_d.name, two_d.params["acquisition_type"], two_d.params["orientation"] = "t2_tirm_tra_dark-fluid", "2D", "axial"
    two_d.params["series_description"] = "t2_tirm_tra_dark-fluid"
    flairs[0].acquisitions.insert(0, two_d)
    report = check(flairs, spec)
    assert _matched(report, "brain.flair_3d") in {a.name for a in flairs[0].acquisitions[1:]}
    assert "vetoed: acquisition_type 2D, not 3D" in _why(report, "t2_tirm_tra_dark-fluid")


def test_bids_dir_is_a_phase_encoding_direction_and_field_maps_and_fmri_never_the_dir(spec):
    dwi = _inspections(REFERENCES / "on-harmony" / "sub-03286" / "ses-NOT1ACH001")
    names = [a.name for a in dwi[0].acquisitions]
    assert "sub-03286_ses-NOT1ACH001_dir-AP_dwi" in names
    assert next(a for a in dwi[0].acquisitions if "dir-AP" in a.name).get("sequence_family") == "epi_dwi"
    bold = _acq("sub-01_task-rest_dir-AP_bold", acquisition_type="2D", orientation="axial", echo_time_ms=30.0)
    fmap = _acq("sub-01_dir-PA_epi", acquisition_type="2D", orientation="axial", echo_time_ms=60.0)
    dwi[0].acquisitions += [bold, fmap]
    report = check(dwi, spec)
    assert _matched(report, "brain.dir_3d") is None
    assert _why(report, "sub-01_task-rest_dir-AP_bold") == "functional (fMRI) or perfusion"
    assert _why(report, "sub-01_dir-PA_epi") == "field map"


def test_a_t1_ffe_is_never_the_t2_star(spec):
    ffe = _acq(
        "T1_FFE_tra",
        sequence_family="gre",
        acquisition_type="2D",
        orientation="axial",
        echo_time_ms=4.6,
        slice_thickness_mm=3.0,
    )
    short = _acq(
        "FFE_tra",
        sequence_family="gre",
        acquisition_type="2D",
        orientation="axial",
        echo_time_ms=4.6,
        slice_thickness_mm=3.0,
    )
    t2star = _acq(
        "T2*_FFE_tra",
        sequence_family="t2star",
        acquisition_type="2D",
        orientation="axial",
        echo_time_ms=16.0,
        slice_thickness_mm=4.0,
    )
    report = check([Inspection("x", "philips-examcard", acquisitions=[ffe, short, t2star])], spec)
    assert _matched(report, "brain.t2star_2d") == "T2*_FFE_tra"
    assert "name says T1, not T2*" in _why(report, "T1_FFE_tra")
    assert "TE 4.6 ms: a T1-weighted spoiled gradient echo" in _why(report, "FFE_tra")


def test_trace_weighted_images_alone_are_not_the_dwi(spec):
    trace = DICOM / "Siemens" / "XA30_classic_DWI_dir80_AP_TRACEW"
    report = check(_inspections(trace), spec)
    assert _seq(report, "brain.dwi").status == "missing"
    assert [a.name for a in report.maps] == ["13001 DWI_dir80_AP_TRACEW"]
    # BIDS rec-TRACE (a GE "B1000" series without ImageType) is a reconstruction too (BIDS "rec" entity).
    soop = _inspections(REFERENCES / "soop" / "sub-1049")
    report = check(soop, spec)
    assert _matched(report, "brain.dwi") is None
    assert {a.name for a in report.maps} == {"sub-1049_rec-ADC_dwi", "sub-1049_rec-TRACE_dwi"}
    # Its "Sag T1 3D Post Contrast" (the series description) is the post-contrast 3D T1, not the pre-contrast one.
    assert _matched(report, "brain.t1_3d_gd") == "sub-1049_T1w" and _matched(report, "brain.t1_3d") is None


def _trace_dwi_session(tmp_path):
    """A clinical three-direction trace DWI as dcm2niix writes it (sidecar, b0 + three b1000 volumes): our own
    file in the layout of the ON-Harmony sidecars, since no fixture holds a trace-class DWI."""
    dwi = tmp_path / "sub-01" / "dwi"
    dwi.mkdir(parents=True)
    sidecar = {
        "Manufacturer": "Siemens",
        "MagneticFieldStrength": 3,
        "SeriesDescription": "ep2d_diff_3scan_trace",
        "ScanningSequence": "EP",
        "SequenceVariant": "SK\\SP",
        "MRAcquisitionType": "2D",
        "EchoTime": 0.089,
        "RepetitionTime": 5.2,
        "SliceThickness": 3,
        "ConversionSoftware": "dcm2niix",
        "ImageOrientationPatientDICOM": [1, 0, 0, 0, 1, 0],
    }
    (dwi / "sub-01_dwi.json").write_text(json.dumps(sidecar))
    (dwi / "sub-01_dwi.bval").write_text("0 1000 1000 1000\n")
    return dwi


def test_a_standard_brain_exam_missing_its_3d_t1_is_missing_not_a_reduced_pass(spec, tmp_path):
    flair = REFERENCES / "ds004199" / "sub-00001"
    dwi = _trace_dwi_session(tmp_path)
    report = check(_inspections(flair, dwi), spec)
    assert _matched(report, "brain.flair_3d") and _matched(report, "brain.dwi")
    assert [v.key for v in report.variants] == ["brain-standard"]
    assert _seq(report, "brain.t1_3d").status == "missing"
    assert "reduced only when a program is named so" in report.inferred["variant brain"]
    # Two subjects of two datasets are two exams: pooled here on purpose, and said so (--one-exam).
    result = CliRunner().invoke(main, ["check", "--quiet", "--one-exam", str(flair), str(dwi)])
    assert result.exit_code == 1, result.output


def test_a_program_named_reduced_is_the_reduced_variant_unless_a_standard_only_sequence_is_found(spec, tmp_path):
    from ofsep_presets.render import Selection, render

    render(spec, tmp_path, Selection(vendors=("siemens",), fields=(3.0,), formats=("sheet",)))
    reduced = tmp_path / "siemens" / "3T" / "brain-reduced" / "protocol.xml"
    assert "\\Reduced OFSEP protocol" in reduced.read_text()  # the program path names the variant
    report = check(inspect_path(reduced), spec)
    assert [v.key for v in report.variants] == ["brain-reduced"] and report.compliant
    t1 = _inspections(DICOM / "Siemens" / "XA30_classic_T1w_MPRAGE_tfl3d_2mm")
    report = check([*inspect_path(reduced), *t1], spec)
    assert [v.key for v in report.variants] == ["brain-standard"]
    assert "brain.t1_3d is not part of it" in report.inferred["variant brain"]


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda n: st.integers(1, 4).flatmap(
            lambda m: st.lists(
                st.lists(st.one_of(st.none(), st.integers(1, 30).map(float)), min_size=m, max_size=m),
                min_size=n,
                max_size=n,
            )
        )
    )
)
def test_the_assignment_is_the_best_global_one(weights):
    """Against brute force: no other one-to-one choice of allowed pairs has a larger total."""
    chosen = assign(weights)
    n, m = len(weights), len(weights[0])
    cols = [c for c in chosen if c is not None]
    assert len(cols) == len(set(cols)) and all(weights[r][c] is not None for r, c in enumerate(chosen) if c is not None)
    total = sum(weights[r][c] for r, c in enumerate(chosen) if c is not None)
    best = 0.0
    for perm in itertools.permutations(list(range(m)) + [None] * n, n):
        if any(c is not None and weights[r][c] is None for r, c in enumerate(perm)):
            continue
        best = max(best, sum(weights[r][c] for r, c in enumerate(perm) if c is not None))
    assert total == pytest.approx(best)


def test_matching_stays_fast_on_a_large_exam(spec):
    """No timing assertion (benchmarks/): only that 60 series against every slot gives a result at all."""
    series = [_acq(f"{k} t1_mprage_sag", sequence_family="mprage", acquisition_type="3D") for k in range(60)]
    result = match(series, spec, list(spec.sequences))
    assert len(result.matches["brain.t1_3d"]) == 1 and len(result.unmatched) == 59


# -- compare: canonical terms that mean the same ------------------------------------------------------------------


def test_compare_puts_vendor_meanings_side_by_side_and_one_sided_values_apart():
    """The Philips printout of the spine-generic T1w says "Act. TR/TE (ms) 7.8 / 3.5" with "shot interval (ms)
    2000"; the Siemens printout of the same protocol says TR 2000 ms: the same protocol, different meanings of TR."""
    from ofsep_presets.compare import compare
    from ofsep_presets.spec import load_spec

    philips_text = pdf_text(SPINE_GENERIC["Philips R5.3"].with_suffix(".pdf"))
    t1w = philips_text[philips_text.index("T1w 04:22.0") :]
    assert re.search(r"Act\. TR/TE \(ms\)\s+7\.8 / 3\.5", t1w) and re.search(r"shot interval.*\n.*\(ms\)\s+2000", t1w)
    assert _printed_step_value(SPINE_GENERIC["Siemens Prisma VE11C"].with_suffix(".pdf"), "T1w", "TR") == "2000.0"
    left, right = (_inspections(SPINE_GENERIC[k]) for k in ("Siemens Prisma VE11C", "Philips R5.3"))
    c = compare(left, right, load_spec("spine-generic"), "A", "B")
    t1 = next(p for p in c.pairs if p.key == "sg.t1w")
    side = {d.param: d for d in t1.caveats}
    assert (side["repetition_time_ms"].a, side["repetition_time_ms"].b) == (2000.0, 7.8)
    assert "echo spacing" in side["repetition_time_ms"].caveat and "pixel_bandwidth_hz" in side
    assert not {"repetition_time_ms", "pixel_bandwidth_hz"} & {d.param for d in t1.differences}
    # Stated on one side only: its own group, never a difference.
    for p in c.pairs:
        if p.a is None or p.b is None:
            continue
        one = {o.param for o in p.one_sided}
        assert not one & {d.param for d in p.differences}
        for o in p.one_sided:
            stated = (p.a if o.side == "A" else p.b).get(o.param)
            other = (p.b if o.side == "A" else p.a).get(o.param)
            assert stated is not None and other is None


def _printed_step_value(pdf, step: str, label: str) -> str:
    text = pdf_text(pdf)
    start = re.search(r"\\\\[^\n]*\\" + re.escape(step) + r"\s*\n", text).end()
    return re.search(rf"\n{label}\s+([\d.]+) ms", text[start:]).group(1)


def test_compare_within_one_vendor_compares_tr_as_usual_and_dedupes_like_check():
    from ofsep_presets.compare import compare
    from ofsep_presets.spec import load_spec

    left, right = (_inspections(SPINE_GENERIC[k]) for k in ("Siemens Prisma VE11C", "Siemens Trio VB17"))
    c = compare(left, right, load_spec("spine-generic"), "A", "B")
    t2 = next(p for p in c.pairs if p.key == "sg.t2w")
    assert not t2.caveats
    # The VB17 printout: T2w TR 2000 ms where VE11C has 1500 ms (test_spine_generic reads both printouts).
    tr = next(d for d in t2.differences if d.param == "repetition_time_ms")
    assert (tr.a, tr.b) == (1500.0, 2000.0)
    folder = DICOM / "GE" / "SIGNA_Pioneer_3D_Ax_T1_MP-RAGE_1.2mm"  # DICOM and its dcm2niix sidecar: one series
    spec = load_spec("ofsep-2020")
    c = compare(_inspections(folder), _inspections(folder), spec, "A", "B")
    assert [p.key for p in c.pairs] == ["brain.t1_3d"] and c.same


def test_compare_pairs_the_series_no_slot_took_when_they_are_plainly_the_same_protocol(spec):
    """The Siemens VE11C and Philips R5.3 exports of the spine-generic protocol, against OFSEP: the cord DWI
    (Siemens "DWI_no-ZOOMit", Philips "DWI": each side's only diffusion series, their printouts both list one) and
    the MT protocol's T1w GRE ("GRE-T1w" / "GRE-T1") fill no OFSEP slot, yet they are one protocol on two
    consoles: compared, not listed as "only in A" and "only in B"."""
    from ofsep_presets.compare import compare

    for key, name in (("Siemens Prisma VE11C", "DWI_no-ZOOMit"), ("Philips R5.3", "DWI")):
        assert re.search(
            rf"\\{re.escape(name)}\s*\n|{re.escape(name)} \d\d:\d\d", pdf_text(SPINE_GENERIC[key].with_suffix(".pdf"))
        )
    left, right = (_inspections(SPINE_GENERIC[k]) for k in ("Siemens Prisma VE11C", "Philips R5.3"))
    c = compare(left, right, spec, "A", "B")
    paired = {(p.a.name, p.b.name) for p in c.pairs if p.a is not None and p.b is not None}
    assert ("DWI_no-ZOOMit", "DWI") in paired and ("GRE-T1w", "GRE-T1") in paired, paired
    dwi = next(p for p in c.pairs if p.a is not None and p.a.name == "DWI_no-ZOOMit")
    assert dwi.same or dwi.differences


def test_compare_compares_epi_bandwidth_that_both_consoles_state_in_hz_per_pixel():
    """The Philips R5.3 printout prints the DWI's "BW in EPI freq. dir. (Hz) 1505.5" (the readout's Hz per pixel,
    what a Siemens "Bandwidth … Hz/Px" is), not a water-fat shift: the two are compared, not put side by side."""
    from ofsep_presets.compare import compare
    from ofsep_presets.spec import load_spec

    philips_text = pdf_text(SPINE_GENERIC["Philips R5.3"].with_suffix(".pdf"))
    assert re.search(r"BW in EPI freq\. dir\. \(Hz\)\s+1505\.5", philips_text)
    left, right = (_inspections(SPINE_GENERIC[k]) for k in ("Siemens Prisma VE11C", "Philips R5.3"))
    c = compare(left, right, load_spec("spine-generic"), "A", "B")
    dwi = next(p for p in c.pairs if p.b is not None and p.b.get("sequence_family") == "epi_dwi")
    bandwidth = next(d for d in dwi.differences if d.param == "pixel_bandwidth_hz")
    assert bandwidth.b == 1505.5 and "BW in EPI freq. dir. (Hz): 1505.5" in bandwidth.b_console
    assert "pixel_bandwidth_hz" not in {d.param for d in dwi.caveats}
    # Elsewhere the Philips value is derived from the water-fat shift: still side by side.
    t1 = next(p for p in c.pairs if p.key == "sg.t1w")
    assert "pixel_bandwidth_hz" in {d.param for d in t1.caveats}


def test_a_bids_diffusion_series_of_many_directions_is_the_dti_not_the_dwi(spec, tmp_path):
    """BIDS names every diffusion series `_dwi`: the suffix says diffusion, not which slot. A 42-direction DTI
    (ARC's "DTI_dir42_AP", its .bval without a .bvec), ON-Harmony's "diff 60dirs b=1000" (GE) and its multi-shell
    Siemens dMRI (50 + 50 volumes at b 1000 and 2000) are tensor acquisitions by their own names and .bval."""
    for session in (
        REFERENCES / "arc" / "sub-M2005" / "ses-4334",
        REFERENCES / "on-harmony" / "sub-03286" / "ses-NOT3GEM001",
        REFERENCES / "on-harmony" / "sub-03286" / "ses-OXF1PRI001",
    ):
        report = check(_inspections(session), spec)
        assert _matched(report, "brain.dti") and _matched(report, "brain.dti").endswith("_dwi"), session
        assert _matched(report, "brain.dwi") is None, session
        assert _seq(report, "brain.dwi").status == "missing"
    # A three-direction trace (b0 + 3 x b1000) stays the DWI.
    report = check(_inspections(_trace_dwi_session(tmp_path)), spec)
    assert _matched(report, "brain.dwi") == "sub-01_dwi" and _matched(report, "brain.dti") is None


def test_a_ge_six_direction_tensor_alone_is_the_dwi_not_a_dti_of_fifteen(spec):
    """dcm_qa_ge "Ax DWI TENSOR R2" (SIGNA Pioneer): its raw header states (0019,10E0) number of diffusion
    directions = 6 and b 0/1000. OFSEP's DTI asks for >= 15 directions; a 6-direction tensor acquisition is the
    exam's diffusion-weighted series (its ADC is the DWI's), so it is `brain.dwi`, never a failing `brain.dti`
    that leaves the required DWI missing."""
    inspections = [i for i in _inspections(DICOM / "GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full") if i.format == "dicom"]
    [acq] = inspections[0].acquisitions
    assert acq.get("diffusion_directions") == 6 and "(0019,10E0)" in acq.provenance["diffusion_directions"]
    report = check(inspections, spec)
    assert _matched(report, "brain.dwi") == acq.name
    assert _matched(report, "brain.dti") is None


@pytest.mark.parametrize(
    ("name", "injection"),
    [
        # Series named for their contrast phase, read with no acquisition value beside the name (a cut printout):
        # each names a sequence (FLAIR, DWI, SWI, perfusion, MRA: the spec sequences' hints) or a contrast use that
        # is an acquisition of its own (a bolus test), never the injection pause. At 95c2774 each was no injection.
        ("FLAIR gado", False),
        ("DWI gado", False),
        ("SWI post contrast", False),
        ("Perfusion contrast", False),
        ("MRA contrast", False),
        ("Contrast enhanced", False),
        ("Contrast_enhanced", False),
        ("contrast bolus test", False),
        ("T1_POST_GADO", False),
        ("Pause", False),  # a pause card with no word of the injection: a coil change, a patient note
        # Pause cards named for the injection in the sites' languages (11e0275): German "Kontrastmittel", Italian
        # "mezzo di contrasto", French "Injection" with the agent, the Siemens template's own "Gadolinium"
        # (protocol_spec/vendors/siemens.yaml injection_step).
        ("Kontrastmittel", True),
        ("mezzo di contrasto", True),
        ("Injection Dotarem", True),
        ("Gadolinium", True),
        ("Pause for injection", True),
    ],
)
def test_an_injection_step_is_a_name_that_states_only_the_injection(spec, name, injection):
    """The injection step is a step acquiring nothing whose whole name states the injection (matching-evidence.yaml
    `injection_steps`): a name holding a sequence word beside the contrast word is that sequence after the
    injection, and check leaves it as an unmatched series, never as the injection step that makes every later
    step post-contrast."""
    from ofsep_presets.match import is_injection_step

    step = Acquisition(name)
    assert is_injection_step(step) is injection
    t1 = Acquisition("t1_mprage_sag_p2_iso")
    report = check([Inspection(source="printout", format="siemens-pdf", acquisitions=[step, t1])], spec)
    assert ((name, "injection step") in [(a.name, w) for a, w in report.unmatched]) is injection


def test_a_series_whose_image_type_says_perfusion_fills_no_slot(tmp_path):
    """A 3D pCASL whose name glues its word to "3D" ("3DpCASL": the motivating dcm_qa_philips_enh series, a 3D GR
    that fit the 3D T1) is perfusion by what its images state: ImageType value 3 PERFUSION (MR Image Type value 3
    defined term, PS3.3 C.8.13.1.1.1). The sidecar mirrors dcm2niix's layout (the fixture Ingenia MPRAGE
    sidecar's keys), with the values of a Philips 3D GraSE pCASL."""
    base = json.loads(
        (
            FIXTURES / "dicom/Philips/Ingenia_classic_ADNI_Sag3D_MPRAGE_1mm/bids_json_dcm2niix/"
            "1301_WIP_ADNI_Sag3D_MPRAGE_cl.json"
        ).read_text()
    )
    for key in ("InversionTime", "SequenceVariant", "SpoilingState", "SpoilingType"):
        base.pop(key, None)
    pcasl = base | {
        "SeriesDescription": "3DpCASL",
        "ProtocolName": "WIP 3DpCASL",
        "ScanningSequence": "GR",
        "PulseSequenceName": "GraSE",
        "ImageType": ["ORIGINAL", "PRIMARY", "PERFUSION", "FFE", "PERFUSION", "FFE"],
        "MRAcquisitionType": "3D",
        "SliceThickness": 4,
        "EchoTime": 0.009,
        "RepetitionTime": 4.25,
        "FlipAngle": 90,
        "SeriesNumber": 1901,
    }
    (tmp_path / "1901_WIP_3DpCASL_cl.json").write_text(json.dumps(pcasl))
    result = CliRunner().invoke(main, ["check", str(tmp_path), "--format", "json", "--quiet"])
    report = json.loads(result.output)
    assert [s["id"] for s in report["sequences"] if s.get("matched")] == []
    assert "perfusion" in report["unmatched_reasons"]["1901_WIP_3DpCASL_cl"]
