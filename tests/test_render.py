"""`render`: every vendor x field x variant, in the vendor's words and units, reproducible, escaped."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree, html

from ofsep_presets.cli import main
from ofsep_presets.readers import inspect_path
from ofsep_presets.render import Selection, render
from ofsep_presets.spec import load_spec

from .conftest import FIXTURES

VENDOR_SHEETS = {
    "siemens": "protocol.xml",
    "philips": "examcard-printout.txt",
    "ge": "protocol.tar",
    "canon": "parameter-sheet.csv",
}


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, spec):
    out = tmp_path_factory.mktemp("render") / "out"
    render(spec, out)
    return out


def combos(spec):
    return [(v, f, var) for v in spec.vendors for f in spec.field_strengths_t for var in spec.variants()]


def folder(out: Path, vendor: str, field_t: float, variant) -> Path:
    return out / vendor / f"{'1.5' if field_t == 1.5 else '3'}T" / variant.key


def pdf_text(path: Path) -> str:
    if shutil.which("pdftotext"):
        return subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
    from pypdf import PdfReader  # fallback where poppler is not installed

    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_every_combination_has_every_document(rendered, spec):
    for vendor, field_t, variant in combos(spec):
        d = folder(rendered, vendor, field_t, variant)
        names = {p.name for p in d.iterdir()}
        expected = {VENDOR_SHEETS[vendor]} | {
            f"{kind}.{lang}.{ext}"
            for lang in ("fr", "en")
            for kind, ext in (("examcard", "html"), ("checklist", "html"), ("checklist", "md"), ("checklist", "pdf"))
        }
        assert names == expected, (d, names ^ expected)


def test_every_sequence_named_in_every_document(rendered, spec):
    for vendor, field_t, variant in combos(spec):
        d = folder(rendered, vendor, field_t, variant)
        sheet = "" if vendor == "ge" else (d / VENDOR_SHEETS[vendor]).read_text(encoding="utf-8")
        for lang in ("fr", "en"):
            pdf = words(pdf_text(d / f"checklist.{lang}.pdf"))
            card = html.fromstring((d / f"examcard.{lang}.html").read_bytes()).text_content()
            md = (d / f"checklist.{lang}.md").read_text(encoding="utf-8")
            for seq_id in variant.required + variant.optional:
                label = spec.sequences[seq_id].label[lang]
                assert words(label) in pdf, (d, lang, label)
                assert label in card, (d, lang, label)
                assert label.replace("*", "\\*") in md, (d, lang, label)
        for seq_id in variant.required + variant.optional:
            if vendor == "siemens":  # a console's print names each step by its name, never our internal id
                assert spec.sequences[seq_id].label["en"] in _step_paths(d / "protocol.xml"), (d, seq_id)
            elif vendor == "ge":  # so does a GE session's task
                assert any(name.startswith(spec.sequences[seq_id].label["en"]) for name in _ge_series(d)), (d, seq_id)
            elif vendor == "philips":  # and a Philips printout's breadcrumb
                label = " ".join(spec.sequences[seq_id].label["en"].split())
                assert re.search(rf"\|\s+{re.escape(label)}", sheet), (d, seq_id)
                assert seq_id not in sheet, (d, seq_id)
            else:
                assert seq_id in sheet, (d, seq_id)


def _ge_series(folder: Path) -> dict[str, str]:
    """A GE sheet's series, task name -> its LxProtocol text, in session.xml's order (the tar's own links)."""
    import tarfile

    with tarfile.open(folder / "protocol.tar") as archive:
        members = {m.name: m for m in archive.getmembers()}
        [session] = [name for name in members if name.endswith("/session.xml")]
        root = etree.fromstring(archive.extractfile(members[session]).read())
        exam = session.rsplit("/", 1)[0]
        out = {}
        for task in root.iter("{*}task"):
            series = next(p.get("value") for p in task.iter("{*}property") if p.get("name") == "CONTENT_PROPERTY")
            out[task.get("name")] = archive.extractfile(members[f"{exam}/{series}/LxProtocol"]).read().decode("latin-1")
    return out


def _step_paths(path: Path) -> str:
    return "\n".join(p.text for p in etree.parse(str(path)).iter("HeaderProtPath"))


def _siemens_step(path: Path, spec, seq_id: str):
    """The <Protocol> of one sequence in a Siemens sheet: the step whose program path ends in its name."""
    label = spec.sequences[seq_id].label["en"]
    tree = etree.parse(str(path))
    return next(p for p in tree.iter("Protocol") if label in p.findtext(".//HeaderProtPath").rsplit("\\", 1)[-1])


def test_required_sequences_are_marked_required(rendered, spec):
    for vendor, field_t, variant in combos(spec):
        tree = (
            etree.parse(str(folder(rendered, vendor, field_t, variant) / "protocol.xml"))
            if vendor == "siemens"
            else None
        )
        if tree is None:
            continue
        # The print's own elements carry no "required": our comment under each step says it, in program order.
        marks = [
            c.text.strip().split(";")[0]
            for p in tree.iter("Protocol")
            for c in p.find("SubStep").iter(etree.Comment)
            if c.text.strip().startswith(("required", "optional"))
        ]
        steps = [s for s in variant.order if s != "gadolinium"]
        assert marks == ["required" if s in variant.required else "optional" for s in steps]


def test_html_parses_without_errors(rendered):
    files = sorted(rendered.rglob("*.html"))
    assert len(files) == 4 * 2 * 3 * 4 + 1
    for path in files:
        parser = etree.HTMLParser(recover=False)
        etree.fromstring(path.read_bytes(), parser)
        assert not [e for e in parser.error_log if e.level >= 2], (path, list(parser.error_log))


def test_siemens_sheet_is_well_formed_xml_with_declared_purpose(rendered):
    for path in rendered.glob("siemens/*/*/protocol.xml"):
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
        assert root.tag == "PrintOut"
        purpose = root.getprevious()  # the comment before the root element says what the sheet is for
        assert purpose is not None and "Parameter sheet for entry at the console" in purpose.text
        assert "NOT a file to import into a scanner" in purpose.text


def test_ge_sheet_states_fov_in_cm_and_gap_as_spacing(rendered):
    # 256 mm field of view is "25.6" on a GE console (the GE Protocol report in the fixtures prints
    # "FOV 25.6" for the spine-generic T2w, whose field of view is 256 mm).
    report = (FIXTURES / "vendor-exports/ge/GE_750_no-FOCUS/spine_generic_ge_750_no-FOCUS.html").read_text("latin-1")
    assert re.search(r"FOV\s*(<[^>]+>\s*)*25\.6", report)
    series = _ge_series(rendered / "ge/1.5T/brain-standard")
    # The 3D DIR: no real source at any field, so its values are derived from the OFSEP requirements.
    [dir_3d] = [text for name, text in series.items() if name.startswith("3D DIR")]
    assert 'set FOV "25.6"' in dir_3d
    assert 'set SPC "0.0"' in dir_3d
    assert 'set SLTHICK "1.0"' in dir_3d
    assert 'set PLANE "SAGITTAL"' in dir_3d
    # No public GE value for its inversion times exists, so no TI is set.
    assert "set TI " not in dir_3d


def test_siemens_gap_is_a_distance_factor_in_percent(rendered):
    dir_3d = _siemens_step(
        rendered / "siemens/1.5T/brain-standard/protocol.xml", load_spec("ofsep-2020"), "brain.dir_3d"
    )  # derived values only: no source at any field
    values = {p.findtext("Label"): p.findtext("ValueAndUnit") for p in dir_3d.iter("ProtParameter")}
    assert values["Dist. factor"] == "0 %"
    assert values["Slice thickness"] == "1.00 mm"
    assert values["FoV read"] == "256 mm"
    assert values["Orientation"] == "Sagittal"


def _siemens_printout() -> str:
    path = FIXTURES / "vendor-exports/siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.pdf"
    return pdf_text(path)


def test_siemens_suggestion_matches_the_vendor_printout(rendered):
    """The 3 T MPRAGE suggestion is the spine-generic T1w; its values must be the printout's, verbatim."""
    printout = _siemens_printout()
    t1 = _siemens_step(rendered / "siemens/3T/brain-standard/protocol.xml", load_spec("ofsep-2020"), "brain.t1_3d")
    values = {p.findtext("Label"): p.findtext("ValueAndUnit") for p in t1.iter("ProtParameter")}
    for label in ("TR", "TE", "TI", "Flip angle", "FoV read", "FoV phase", "Base resolution", "PAT mode"):
        assert re.search(rf"^\s*{re.escape(label)}\s+{re.escape(values[label])}(?=\s|$)", printout, re.M), (
            label,
            values[label],
        )


def test_philips_suggestion_matches_the_vendor_printout(rendered):
    printout = pdf_text(FIXTURES / "vendor-exports/philips/spine_generic_philips_R53.pdf")
    t1_page = printout[printout.index("T1w 04:22.0") :]
    assert re.search(r"Act\. TR/TE \(ms\)\s+7\.8 / 3\.5", t1_page)
    assert re.search(r"Act\. WFS \(pix\) / BW \(Hz\)\s+2\.268 / 191\.5", t1_page)
    # The sheet is a printout in the console's layout: the T1 scan's page holds the printout's own rows.
    sheet = (rendered / "philips/3T/brain-standard/examcard-printout.txt").read_text(encoding="utf-8")
    t1 = next(page for page in sheet.split("\f") if re.search(r"\|\s+3D T1, millimetric", page))
    assert re.search(r"^  Act\. TR/TE \(ms\)\s+7\.8 / 3\.5 ", t1, re.M)
    assert re.search(r"^  Flip angle \(deg\)\s+9 ", t1, re.M)
    # Philips states bandwidth as a water-fat shift: 191.5 Hz/px at 3 T is 2.268 px (printed to 2 decimals).
    assert re.search(r"^  Act\. WFS \(pix\) / BW \(Hz\)\s+2\.27 / 191\.5 ", t1, re.M)
    assert re.search(r"^  NSA\s+1 ", t1, re.M)


def test_canon_sheet_says_labels_are_unverified_and_matrix_is_phase_first(rendered):
    import csv

    path = rendered / "canon/3T/brain-standard/parameter-sheet.csv"
    text = path.read_text(encoding="utf-8")
    assert "unverified" in text
    rows = list(csv.DictReader(line for line in text.splitlines() if not line.startswith(('"#', "#"))))
    t2 = {r["label"]: r["value"] for r in rows if r["sequence_id"] == "brain.pd_t2_2d"}
    assert t2["Matrix (PE x RO)"] == "256 x 256"
    assert t2["Gap"] == "0.0"


def test_requirements_and_suggestions_are_distinct_on_every_card(rendered):
    card = (rendered / "philips/3T/brain-standard/examcard.en.html").read_text(encoding="utf-8")
    row_badge = '<span class="basis suggested" title='
    assert row_badge in card and '<span class="basis requirement" title=' in card
    # Each source is cited by its number in the card's list of sources, which names it as people know it.
    listed = _listed_sources(card)
    assert "spine-generic protocol, Philips R5.3 ExamCard and printout" in " ".join(listed.values())
    assert listed["[1]"].startswith("(requirement) — Protocole IRM OFSEP 2020")
    assert re.search(r"Suggested values from \[\d+\]", card) and "<td>[1]</td>" in card
    card_15 = (rendered / "philips/1.5T/brain-standard/examcard.en.html").read_text(encoding="utf-8")
    # The reference coverage note lists real Philips 1.5 T 3D T1 scans (SOOP, Ingenia Ambition X): the 1.5 T card
    # cites one; sequences without any public 1.5 T source still say so, with nothing invented.
    assert row_badge in card_15 and any("SOOP" in t and "T1w" in t for t in _listed_sources(card_15).values())
    assert "No public nominal value" in card_15


def _listed_sources(card: str) -> dict[str, str]:
    """A printed card's list of sources: {"[n]": what it says of source n}."""
    from lxml import html as lxml_html

    items = lxml_html.fromstring(card).xpath("//h3[.='Sources']/following-sibling::ul[1]/li")
    out = {}
    for li in items:
        number, _, rest = " ".join(li.text_content().split()).partition(" ")
        out[number] = rest
    return out


def test_checklist_has_blank_site_fields_and_no_patient_field(rendered):
    for lang, words_ in (
        ("en", ("Site", "Scanner model", "Software version", "Operator", "Date")),
        ("fr", ("Centre", "Modèle d'IRM", "Version logicielle", "Opérateur", "Date")),
    ):
        page = (rendered / f"ge/3T/brain-standard/checklist.{lang}.html").read_text(encoding="utf-8")
        for word in words_:
            assert f"<td>{html_escape(word)}</td><td></td>" in page, word
        lowered = page.lower()
        for forbidden in ("patient name", "patient id", "birth", "nom du patient", "date de naissance", "ipp"):
            assert not re.search(rf"\b{forbidden}\b", lowered), forbidden


def html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("'", "&#39;")


def test_gadolinium_step_sits_before_the_flair(rendered, spec):
    text = words(pdf_text(rendered / "siemens/3T/brain-standard/checklist.fr.pdf"))
    order = text[text.index("Ordre d'acquisition") :]
    assert order.index("Injection de gadolinium") < order.index("3D FLAIR millimétrique")
    reduced = words(pdf_text(rendered / "siemens/3T/brain-reduced/checklist.en.pdf"))
    assert "No gadolinium in this protocol variant" in reduced


def test_rerendering_gives_identical_bytes(rendered, spec, tmp_path):
    again = tmp_path / "again"
    render(spec, again)
    first = {
        p.relative_to(rendered): hashlib.sha256(p.read_bytes()).hexdigest() for p in rendered.rglob("*") if p.is_file()
    }
    second = {p.relative_to(again): hashlib.sha256(p.read_bytes()).hexdigest() for p in again.rglob("*") if p.is_file()}
    assert first == second


def test_existing_output_is_not_overwritten_without_force(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("keep me", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(
        main, ["render", "--out", str(out), "--vendor", "ge", "--field", "3", "--exam", "spine", "--format", "sheet"]
    )
    assert result.exit_code == 1
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]
    result = runner.invoke(
        main,
        [
            "render",
            "--out",
            str(out),
            "--vendor",
            "ge",
            "--field",
            "3",
            "--exam",
            "spine",
            "--format",
            "sheet",
            "--force",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (out / "precious.txt").read_text(encoding="utf-8") == "keep me"
    assert (out / "ge/3T/spine-standard/protocol.tar").is_file()


def test_render_force_leaves_no_stale_documents_and_keeps_the_users_files(tmp_path):
    out = tmp_path / "out"
    runner = CliRunner()
    base = ["render", "--out", str(out), "--exam", "spine", "--field", "3", "--format", "sheet"]
    assert runner.invoke(main, [*base, "--vendor", "ge", "--vendor", "siemens"]).exit_code == 0
    assert (out / "siemens/3T/spine-standard/protocol.xml").is_file()
    # The user's own files, beside ours and inside our folders.
    (out / "precious.txt").write_text("keep me", encoding="utf-8")
    (out / "siemens/3T/spine-standard/my-notes.txt").write_text("mine", encoding="utf-8")
    outside = tmp_path / "outside.txt"
    outside.write_text("not ours", encoding="utf-8")
    (out / "ge/3T/spine-standard/link.txt").symlink_to(outside)
    result = runner.invoke(main, [*base, "--vendor", "ge", "--force"])
    assert result.exit_code == 0, result.output
    # The Siemens sheet of the first render is gone: only what this render wrote, and the user's files, remain.
    assert not (out / "siemens/3T/spine-standard/protocol.xml").exists()
    assert (out / "siemens/3T/spine-standard/my-notes.txt").read_text(encoding="utf-8") == "mine"
    assert (out / "precious.txt").read_text(encoding="utf-8") == "keep me"
    assert outside.read_text(encoding="utf-8") == "not ours"
    assert (out / "ge/3T/spine-standard/protocol.tar").is_file()
    # A manifest edited to name a user's file or a path outside the folder deletes nothing.
    manifest = out / ".ofsep-render.json"
    doc = json.loads(manifest.read_text(encoding="utf-8"))
    doc["files"] += ["precious.txt", "../outside.txt", "siemens/3T/spine-standard/../../../../outside.txt"]
    manifest.write_text(json.dumps(doc), encoding="utf-8")
    assert runner.invoke(main, [*base, "--vendor", "ge", "--force"]).exit_code == 0
    assert (out / "precious.txt").is_file() and outside.is_file()
    # A folder the stale documents leave empty goes too; one holding a user's file stays.
    assert (out / "siemens/3T/spine-standard").is_dir()
    (out / "siemens/3T/spine-standard/my-notes.txt").unlink()
    assert runner.invoke(main, [*base, "--vendor", "siemens", "--force"]).exit_code == 0
    assert not (out / "ge").exists() or not any((out / "ge").rglob("protocol.tar"))


def test_options_narrow_the_render(tmp_path):
    out = tmp_path / "narrow"
    result = CliRunner().invoke(
        main,
        [
            "render",
            "--out",
            str(out),
            "--vendor",
            "canon",
            "--field",
            "1.5",
            "--exam",
            "brain",
            "--variant",
            "reduced",
            "--lang",
            "fr",
            "--format",
            "md",
        ],
    )
    assert result.exit_code == 0, result.output
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    # The documents asked for, the index, and the manifest `render --force` reads to remove stale documents.
    assert files == [".ofsep-render.json", "canon/1.5T/brain-reduced/checklist.fr.md", "index.html"]


def test_unknown_exam_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["render", "--out", str(tmp_path / "x"), "--exam", "knee"])
    assert result.exit_code == 2
    assert "knee" in result.output and "brain" in result.output


def _overlay_with_label(tmp_path: Path, label: str) -> Path:
    path = tmp_path / "evil.yaml"
    path.write_text(
        "schema: ofsep-presets/spec-1\nid: evil\nextends: ofsep-2020\n"
        f"sequences:\n  brain.dwi:\n    label: {{en: '{label}', fr: '{label}'}}\n",
        encoding="utf-8",
    )
    return path


def test_markup_in_a_sequence_name_renders_as_text(tmp_path):
    label = '<script>alert(1)</script> "q" $[x] =cmd'
    spec = load_spec(_overlay_with_label(tmp_path, label))
    out = tmp_path / "out"
    render(
        spec,
        out,
        Selection(
            vendors=("siemens", "ge", "philips", "canon"),
            fields=(3.0,),
            exams=("brain",),
            variants=("reduced",),
            langs=("en",),
            formats=("html", "md", "sheet"),
        ),
    )
    # Markup formats must escape it; plain-text sheets keep it as inert text inside a quoted value (below).
    for path in out.rglob("*"):
        if path.suffix in (".html", ".xml", ".md"):
            assert "<script>" not in path.read_text(encoding="utf-8"), path
    card = html.fromstring((out / "siemens/3T/brain-reduced/examcard.en.html").read_bytes())
    assert label in card.text_content()
    assert label in _step_paths(out / "siemens/3T/brain-reduced/protocol.xml")
    # GE: the name is the session's task name (XML, escaped above), read back as it was written; in the series'
    # LxProtocol it is inert text on a comment line: every other line is one `set KEY "VALUE"` command.
    import tarfile

    with tarfile.open(out / "ge/3T/brain-reduced/protocol.tar") as archive:
        for member in archive.getmembers():
            if member.name.endswith((".xml", ".html")):  # session.xml and each series' Protocol Notes
                assert b"<script>" not in archive.extractfile(member).read(), member.name
    [ge] = inspect_path(out / "ge/3T/brain-reduced/protocol.tar")
    assert any(a.name.startswith(label) for a in ge.acquisitions)
    for lx in _ge_series(out / "ge/3T/brain-reduced").values():
        for line in lx.splitlines():
            assert line.startswith("#") or re.fullmatch(r'    set \w+ "(?:[^"\\$\[\]]|\\.)*"(?: ;#.*)?', line), line
    csv_text = (out / "canon/3T/brain-reduced/parameter-sheet.csv").read_text(encoding="utf-8")
    assert "'" + label.split(" ")[0] not in csv_text  # only a *leading* = is defused
    assert "&lt;script&gt;" in (out / "siemens/3T/brain-reduced/checklist.en.md").read_text(encoding="utf-8")


def _render_with_ge_template(tmp_path: Path, body: str):
    """Render the GE sheets with a user template folder whose lxprotocol template is `body`."""
    folder = tmp_path / "templates" / "ge"
    folder.mkdir(parents=True)
    (folder / "lxprotocol.txt.j2").write_text(body, encoding="utf-8")
    args = ["render", "--out", str(tmp_path / "out"), "--vendor", "ge", "--format", "sheet"]
    return CliRunner().invoke(main, [*args, "--templates", str(tmp_path / "templates")])


def test_broken_template_fails_naming_template_and_line(tmp_path):
    result = _render_with_ge_template(tmp_path, "# header\n# second line\n{{ sheet.no_such_thing }}\n")
    assert result.exit_code == 2, result.output
    assert "lxprotocol.txt.j2" in result.stderr and "line 3" in result.stderr
    assert "no_such_thing" in result.stderr
    assert "Traceback" not in result.output


def test_user_templates_are_sandboxed(tmp_path):
    result = _render_with_ge_template(tmp_path, "{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    assert result.exit_code == 2
    assert "lxprotocol.txt.j2" in result.stderr
    assert "unsafe" in result.stderr or "not safely accessible" in result.stderr


def test_the_index_reads_in_both_languages_and_names_documents_as_people_do(rendered):
    from lxml import html as lxml_html

    tree = lxml_html.fromstring((rendered / "index.html").read_bytes())
    text = tree.text_content()
    # Both titles and both summaries, as the spec states them.
    assert "Protocole IRM OFSEP 2020" in text and "OFSEP 2020 MRI protocol" in text
    assert "Documents de protocole générés" in text and "Rendered protocol documents" in text
    links = {a.get("href"): a.text_content() for a in tree.xpath("//a[@href]")}
    assert links["siemens/3T/brain-standard/examcard.fr.html"] == "Carte d'examen"
    assert links["siemens/3T/brain-standard/examcard.en.html"] == "Exam card"
    assert links["ge/1.5T/spine-standard/checklist.fr.pdf"] == "PDF"
    # No link is a bare file name: every document is named by what it is.
    assert not [t for t in links.values() if re.fullmatch(r"[\w.-]+\.(?:html|pdf|md|txt|xml|csv)", t)]
    # Every rendered document is linked once.
    documents = {p.relative_to(rendered).as_posix() for p in rendered.rglob("*") if p.is_file()}
    assert documents - {"index.html", ".ofsep-render.json"} == set(links)


def test_printed_documents_show_no_internal_ids(rendered):
    # Sequence ids (brain.flair_3d) are for files and tests; people read the sequence names.
    from lxml import html as lxml_html

    for path in sorted(rendered.rglob("*")):
        if path.suffix == ".html":
            tree = lxml_html.fromstring(path.read_bytes())
            for bad in tree.xpath("//style|//script"):
                bad.drop_tree()
            text = tree.text_content()
        elif path.suffix == ".md":
            text = path.read_text(encoding="utf-8")
        else:
            continue
        assert not re.search(r"\b(?:brain|spine)\.[a-z0-9_]+", text), path
        assert "seed 00" not in text.lower(), path
        # Nor the spec's source ids: a source is cited by its number in the document's list ("[2]").
        source_ids = r"\b(?:ref-[a-z0-9-]+|spine-generic-(?:siemens|philips|ge)-[a-z0-9-]+|ofsep-2020-derived)\b"
        assert not re.search(source_ids, text), path


def test_french_documents_use_french_typography(rendered):
    for name in ("examcard.fr.html", "checklist.fr.html", "checklist.fr.md"):
        for path in sorted(rendered.glob(f"*/*/*/{name}")):
            text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
            text = re.sub(r"<style>.*?</style>", " ", text, flags=re.S)
            assert "0,1 mmol/kg" in text or "mmol/kg" not in text, path
            # A colon after a French word always has its (non-breaking) space before it.
            for word in ("Séquence constructeur", "Dose", "Observé", "Champ magnétique"):
                assert not re.search(rf"{word}:", text), (path, word)


def test_siemens_card_and_sheet_print_one_protocol_path(rendered, spec):
    """Issue 12: each step's program path on the card is the sheet's HeaderProtPath, step for step, and the card's
    header is their common program folder (no second spelling of the path)."""
    for field_t in spec.field_strengths_t:
        for variant in spec.variants():
            d = folder(rendered, "siemens", field_t, variant)
            steps = [p for p in _step_paths(d / "protocol.xml").splitlines() if not p.endswith("\\Gadolinium")]
            for lang in ("en", "fr"):
                card = html.fromstring((d / f"examcard.{lang}.html").read_bytes())
                paths = [e.text_content() for e in card.find_class("protpath")]
                header, own = paths[0], paths[1:]
                if lang == "en":
                    assert own == steps, d
                assert len(own) == len(steps) and all(p.startswith(header.split(" — ")[0] + "\\") for p in own), d


def test_a_pdf_is_the_same_bytes_whichever_process_lays_it_out(spec, tmp_path):
    """PDFs laid out in this process, in a pool (work shared with this process), or from scratch each (no shared
    font configuration or parsed stylesheet: pdf.SHARE_LAYOUT_STATE off) are byte for byte the same."""
    from ofsep_presets import pdf

    selection = Selection(vendors=("philips",), formats=("pdf",))

    def digests(out: Path) -> dict[str, str]:
        return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in out.rglob("*.pdf")}

    render(spec, tmp_path / "inline", selection, workers=1)
    render(spec, tmp_path / "pool", selection, workers=2)
    pdf.SHARE_LAYOUT_STATE = False
    try:
        render(spec, tmp_path / "scratch", selection, workers=1)
    finally:
        pdf.SHARE_LAYOUT_STATE = True
    inline = digests(tmp_path / "inline")
    assert len(inline) == 2 * 3 * 2  # fields x variants x languages
    assert inline == digests(tmp_path / "pool") == digests(tmp_path / "scratch")


def test_the_cycle_collector_runs_again_after_a_pdf(monkeypatch):
    """A PDF is laid out with the cycle collector paused; it is back on afterwards, failed or not."""
    import gc

    import weasyprint

    from ofsep_presets.pdf import html_to_pdf

    assert gc.isenabled()
    assert html_to_pdf("<html><body><p>x</p></body></html>").startswith(b"%PDF-")
    assert gc.isenabled()
    seen = []

    def failing(*args, **kwargs):
        seen.append(gc.isenabled())
        raise RuntimeError("layout failed")

    monkeypatch.setattr(weasyprint, "HTML", failing)
    with pytest.raises(RuntimeError, match="layout failed"):
        html_to_pdf("<html><body><p>x</p></body></html>")
    assert seen == [False] and gc.isenabled()


def test_a_philips_epi_card_shows_the_readout_bandwidth_as_the_console_prints_it(rendered):
    """The Philips R5.3 printout prints its DWI's bandwidth as "BW in EPI freq. dir. (Hz)" and other scans' as a
    water-fat shift in pixels (pdftotext of the fixture). The 3 T DWI card's source, the ON-Harmony Ingenia sidecar,
    states PixelBandwidth 1891.61 Hz: the EPI cards show that readout bandwidth, never a 0.2-pixel water-fat shift."""
    printed = pdf_text(FIXTURES / "vendor-exports/philips/spine_generic_philips_R53.pdf")
    assert re.search(r"BW in EPI freq\. dir\. \(Hz\)\s+1505\.5", printed)
    raw = json.loads(
        (
            FIXTURES / "references/on-harmony/sub-03286/ses-NOT2ING001/dwi/sub-03286_ses-NOT2ING001_dir-AP_dwi.json"
        ).read_text(encoding="utf-8")
    )
    card = (rendered / "philips/3T/brain-standard/examcard.en.html").read_text(encoding="utf-8")
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card))
    dwi = plain[plain.index("Axial DWI + ADC map Recommended") :]
    dwi = dwi[: dwi.index("Requirement Parameter")]
    assert f"BW in EPI freq. dir. (Hz) {raw['PixelBandwidth']:.1f}" in dwi
    assert "Water-fat shift" not in dwi


def test_a_philips_card_names_each_echo_train_as_the_console_does(rendered):
    """The R5.3 printout prints "TFE factor 246" on the T1-TFE, "TSE factor 92" on the T2w VISTA and "EPI factor 47"
    on the DWI (pdftotext of the fixture): the Philips cards use the same word per kind of scan."""
    printed = pdf_text(FIXTURES / "vendor-exports/philips/spine_generic_philips_R53.pdf")
    for label, value in (("TFE factor", 246), ("TSE factor", 92), ("EPI factor", 47)):
        assert re.search(rf"{label}\s+{value}\b", printed), label
    card = (rendered / "philips/3T/brain-standard/examcard.en.html").read_text(encoding="utf-8")
    plain = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", card))

    def section(title: str) -> str:
        start = plain.index(f"{title} Recommended")
        return plain[start : plain.index("Requirement Parameter", start)]

    assert re.search(r"TFE factor \d+", section("3D T1, millimetric"))
    assert re.search(r"TSE factor \d+", section("3D FLAIR, millimetric"))
    assert re.search(r"EPI factor \d+", section("Axial DWI + ADC map"))
    assert "TSE / TFE / EPI factor" not in section("3D T1, millimetric") + section("Axial DWI + ADC map")
