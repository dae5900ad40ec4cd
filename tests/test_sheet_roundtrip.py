"""Every rendered machine sheet is read back by the reader of the vendor's real format, to every value of its card.

The Siemens sheet is a print-protocol XML read by `siemens_printxml` (the reader of a console's "print to XML"),
not by a reader of our own format. The expected side of each comparison is the card's own value: what the spec
and its suggestions state (each suggestion names the vendor file it comes from), as `sheets.sequence_view` hands
it to the templates, before any vendor conversion. The readers themselves are validated against the real vendor
files elsewhere (tests/test_printouts.py, test_inspect_siemens.py: printout against export, value by value), so a
value that survives render -> real reader is one the console would show.

Vendor vocabulary (second half): each label the cards print is asserted against the text of the vendor's own
printout in the fixtures (pdftotext, or pdfminer where pdftotext is not installed): truth from outside.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ofsep_presets import units
from ofsep_presets.match import is_injection_step
from ofsep_presets.printout_sheet import scan as printout_scan
from ofsep_presets.readers import inspect_path
from ofsep_presets.render import Selection, render
from ofsep_presets.resources import bundled_spec_names
from ofsep_presets.rules import Constraint
from ofsep_presets.sheets import sheet
from ofsep_presets.spec import load_spec
from ofsep_presets.vendors import all_vendors

from .conftest import FIXTURES

# vendor -> (the real format's reader, as `inspect` names it)
REAL_READERS = {"siemens": "siemens-printxml", "ge": "ge-protocol-tar", "philips": "philips-printout"}
# How the real format files the injection: a Siemens program has a pause step for it; a GE exam has no such task
# (its Protocol Notes say it at the series it precedes: test_ge_sheet_says_the_injection_in_the_protocol_notes).
INJECTION_STEP = {"siemens": True, "ge": False, "philips": False}
# Whether the real format states the field strength: the Siemens print's title ("SIEMENS MAGNETOM 3 T"), the GE
# session's MRSessionData; a Philips printout prints none (the R5.3 printout in the fixtures has no such row).
FIELD_STATED = {"siemens": True, "ge": True, "philips": False}
# What every read states besides the card's values: who made it, the field strength (the card's title, compared
# on its own) and the step's name.
NOT_CARD_VALUES = {"manufacturer", "field_strength_t", "series_description"}
# A value a reader states from the physics rather than the page ("implied: 3D partitions are contiguous") or
# computes from the page (the acquired voxel, from FoV, matrix and thickness) is not a value read: it must agree
# with the card where the card states it, and may stand where the card is silent.
COMPUTED = ("implied:", "acquired voxel")
# Where the reader cannot tell the card's value from the page, and why (each must still disagree: strict).
KNOWN = {
    # The step is named after the sequence ("Axial fat-suppressed T2 or STIR" + "TSE"): its name says STIR too,
    # and a print-protocol names the sequence only through the step's name.
    ("mag.optic.t2fs_ax", "sequence_family"): "the sequence's own name says 'or STIR'",
    ("mag.optic.t2fs_cor", "sequence_family"): "the sequence's own name says 'or STIR'",
}
# Printed precision bounds the round trip: Siemens FoV phase to 0.1 % (320 mm x 81.3 % = 260.16 mm).
RTOL = 0.002


def _field_dir(field_t: float) -> str:
    return "1.5T" if field_t == 1.5 else f"{field_t:g}T"


@functools.cache
def _rendered(spec_name: str, vendor_id: str, root: str) -> Path:
    spec = load_spec(spec_name)
    out = Path(root) / spec_name / vendor_id
    render(spec, out, Selection(vendors=(vendor_id,), formats=("sheet",)))
    return out


CASES = [
    (spec_name, vendor_id)
    for spec_name in bundled_spec_names()
    for vendor_id in REAL_READERS
    if vendor_id in load_spec(spec_name).vendors
]


def _family(vendor, view) -> str | None:
    return next((family for family, products in vendor.families.items() if view.product in products), None)


def card_values(view, vendor) -> dict[str, object]:
    """Each canonical parameter the card prints a value for, with the value before vendor conversion; the
    sequence the card names (the vendor's product) as its family."""
    values: dict[str, object] = {}
    families = [family for family, products in vendor.families.items() if view.product in products]
    if families:
        values["sequence_family"] = families[0]
    for row in view.rows:
        if row.has_value and row.canonical_value is not None:
            values.setdefault(row.param, row.canonical_value)
    matrix, fov = values.get("matrix"), values.get("fov_mm")
    if matrix and fov and any(f.convert == "phase_resolution" for f in vendor.fields()):
        # Siemens states the matrix as base resolution and phase resolution (whole %), as the card prints them.
        values["base_resolution"] = matrix[0]
        values["phase_resolution_pct"] = round(units.to_vendor(matrix, "phase_resolution", {"fov_mm": fov}))
    return values


def compare(spec, vendor_id: str, folder: Path) -> tuple[int, list[str]]:
    """(values compared, mismatches) over every sheet of one spec for one vendor."""
    vendor = all_vendors()[vendor_id]
    compared, wrong, skipped = 0, [], []
    for field_t in spec.field_strengths_t:
        for variant in spec.variants():
            path = folder / vendor_id / _field_dir(field_t) / variant.key / vendor.document["filename"]
            [inspection] = inspect_path(path)
            assert inspection.format == REAL_READERS[vendor_id], path
            views = sheet(spec, vendor, field_t, variant, "en").sequences
            # The program's pause step for the injection (a step of its own, as consoles file it) is no sequence.
            read = [a for a in inspection.acquisitions if not is_injection_step(a)]
            injections = len(inspection.acquisitions) - len(read)
            assert injections == (INJECTION_STEP[vendor_id] and "gadolinium" in variant.order), path
            assert len(read) == len(views), path
            text = path.read_text(encoding="utf-8") if vendor_id == "philips" else ""
            for view, acq in zip(views, read, strict=True):
                where = f"{path.relative_to(folder)} {view.id}"
                # What the Philips printout can state only with what no source says (the SENSE factor along the
                # fold-over axis...) is said in words under the scan instead: absent from the read, on the sheet.
                unprinted = printout_scan(view, _family(vendor, view)).unprinted if vendor_id == "philips" else {}
                for param, line in unprinted.items():
                    computed = any(mark in acq.provenance.get(param, "") for mark in COMPUTED)
                    if acq.get(param) is not None and not computed:  # a 3D's implied contiguity may stand
                        wrong.append(f"{where} {param}: not printed as a row, yet read {acq.get(param)!r}")
                    if line not in text:
                        wrong.append(f"{where} {param}: its note is not on the sheet")
                    skipped.append(f"{where} {param}")
                assert acq.get("field_strength_t") == (field_t if FIELD_STATED[vendor_id] else None), where
                expected = card_values(view, vendor)
                for param, value in expected.items():
                    if param in unprinted:
                        continue
                    want = tuple(value) if isinstance(value, list) else value
                    same = Constraint(param, "eq", want, "card", rtol=RTOL).evaluate(acq.get(param)) == "pass"
                    word_key = str(value).lower() if isinstance(value, bool) else value
                    if param in vendor.words and word_key not in vendor.reading(param).values():
                        # The console prints this value in a word another value shares (GE "A/P" is AP and PA):
                        # it reads back as what the vendor file says the console means by that word (Philips
                        # "SPIR" for fat saturation: spir), else absent: no real file of this console tells it.
                        printed = vendor.words[param].get(str(word_key))
                        means = vendor.reading(param).get(printed) if printed else None
                        if acq.get(param) != means:
                            read_back = acq.get(param)
                            wrong.append(f"{where} {param}: card {value!r} printed {printed!r}, read {read_back!r}")
                        continue
                    if (view.id, param) in KNOWN:
                        assert not same, f"{where} {param} now reads back: drop it from KNOWN"
                        continue
                    if not same:
                        wrong.append(f"{where} {param}: card {value!r}, read {acq.get(param)!r}")
                    compared += 1
                for param in set(acq.params) - set(expected) - NOT_CARD_VALUES:
                    if (vendor_id, param, acq.get(param)) == ("philips", "parallel_mode", "sense") and (
                        expected.get("parallel_factor") or 1
                    ) > 1:
                        continue  # Philips' in-plane parallel imaging is SENSE: a card's factor prints "SENSE yes"
                    if not any(mark in acq.provenance.get(param, "") for mark in COMPUTED):
                        wrong.append(f"{where} {param}: read {acq.get(param)!r}, which the card does not state")
    # A value said in words instead of a row is the exception: at most one in ten of the card's values (the
    # OFSEP Philips sheets: 23 beside 318 read back, most of them SENSE factors of cards without a fold-over).
    assert len(skipped) * 10 <= compared, skipped
    return compared, wrong


@pytest.mark.parametrize(("spec_name", "vendor_id"), CASES)
def test_every_sheet_reads_back_through_the_real_format_reader(spec_name, vendor_id, tmp_path_factory):
    spec = load_spec(spec_name)
    folder = _rendered(spec_name, vendor_id, str(tmp_path_factory.getbasetemp() / "sheets"))
    compared, wrong = compare(spec, vendor_id, folder)
    assert not wrong, "\n".join(wrong[:40])
    assert compared >= 10 * len(spec.variants()), compared  # every sheet has values to compare


# -- vendor vocabulary, from the vendors' own printouts -------------------------------------------------------

EXPORTS = FIXTURES / "vendor-exports"
PRINTOUTS = {
    ("siemens", "VE11C"): EXPORTS / "siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.pdf",
    ("siemens", "VB17"): EXPORTS / "siemens/Trio_VB17/spine_generic_siemens-trio.pdf",
    ("siemens", "XA61"): EXPORTS / "siemens/CimaX_XA61_ZOOMit/spine-generic_CimaX_XA61_ZOOMit.pdf",
}


@functools.cache
def printout_text(path: Path) -> str:
    """The printout's text by a tool other than our readers: pdftotext (poppler), else pdfminer's own extractor."""
    if shutil.which("pdftotext"):
        done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, timeout=120)
        text = done.stdout.decode("utf-8", errors="replace")
    else:
        from pdfminer.high_level import extract_text

        text = extract_text(str(path))
    return " ".join(text.split())


def _labels(vendor_id: str):
    for f in all_vendors()[vendor_id].fields():
        if f.printout:
            yield f.label, f.printout
        for variant in f.variants:
            if variant.printout:
                yield variant.label, variant.printout


LABELS = sorted({(v, label, p) for (v, _) in PRINTOUTS for label, p in _labels(v)})


@pytest.mark.parametrize(("vendor_id", "label", "printout"), LABELS)
def test_each_label_is_printed_in_the_printout_it_names(vendor_id, label, printout):
    path = PRINTOUTS[(vendor_id, printout)]
    assert re.search(rf"(?<!\w){re.escape(label)}(?!\w)", printout_text(path)), f"{label!r} not in {path.name}"


def test_labels_the_issue_names_are_the_consoles():
    """Issue 12: the words an engineer finds on the console, each of them found in a real printout above."""
    siemens = {label for vendor_id, label, _ in LABELS if vendor_id == "siemens"}
    wanted = {"Slices per slab", "Phase enc. dir.", "Phase resolution", "Turbo factor", "EPI factor", "PAT mode"}
    assert wanted <= siemens


GE_CASES = [spec_name for spec_name in bundled_spec_names() if "ge" in load_spec(spec_name).vendors]


@pytest.mark.parametrize("spec_name", GE_CASES)
def test_ge_sheet_says_the_injection_in_the_protocol_notes(spec_name, tmp_path_factory):
    """A GE exam has no pause task: the injection is said in the Protocol Notes (.pn/notes.html) of the series it
    precedes, in the exam's own words (the spine's "do not inject again"), and in no other series' notes."""
    import html
    import tarfile

    from ofsep_presets.sheets import gadolinium_step

    spec = load_spec(spec_name)
    folder = _rendered(spec_name, "ge", str(tmp_path_factory.getbasetemp() / "sheets"))
    checked = 0
    for field_t in spec.field_strengths_t:
        for variant in spec.variants():
            path = folder / "ge" / _field_dir(field_t) / variant.key / "protocol.tar"
            with tarfile.open(path) as archive:
                notes = [
                    html.unescape(archive.extractfile(m).read().decode("utf-8"))
                    for m in archive.getmembers()
                    if m.name.endswith("/.pn/notes.html")
                ]
            sequences = [item for item in variant.order if item != "gadolinium"]
            assert len(notes) == len(sequences), path
            said = [n for n, text in enumerate(notes) if "Before this series" in text]
            if "gadolinium" not in variant.order:
                assert said == [], path
                continue
            after = variant.order.index("gadolinium")  # the series right after the injection step
            assert said == [after], path
            step = gadolinium_step(spec, variant.exam, "en")
            wanted = step.instruction or "Inject gadolinium now, if indicated"
            assert wanted in notes[after], path
            assert "NOT a file to import into a scanner" in notes[after]
            checked += 1
    assert checked >= 1 or not any("gadolinium" in v.order for v in spec.variants())


def test_philips_card_and_sheet_name_one_examcard(tmp_path):
    """The exam card's "ExamCard: <name>" is the ExamCard the printout files every scan in (read as its program)."""
    from lxml import html as lxml_html

    spec = load_spec("ofsep-2020")
    out = tmp_path / "out"
    render(spec, out, Selection(vendors=("philips",), exams=("brain",), langs=("en",), formats=("html", "sheet")))
    checked = 0
    for sheet_path in out.rglob("examcard-printout.txt"):
        card = lxml_html.fromstring((sheet_path.parent / "examcard.en.html").read_bytes())
        [name] = [e.text_content().split(": ", 1)[1] for e in card.find_class("examcard-name")]
        [inspection] = inspect_path(sheet_path)
        assert {a.context.get("program") for a in inspection.acquisitions} == {name}, sheet_path
        checked += 1
    assert checked == 2 * 2  # fields x brain variants
