"""Siemens .exar1 archives agree with the vendor's own printout of the same protocols, value by value."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import zlib

import pytest

from ofsep_presets.acquisition import ReadError
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES
from .test_render import pdf_text

SIEMENS = FIXTURES / "vendor-exports" / "siemens"
ARCHIVES = {
    "Prisma_VE11C_no-ZOOMit": "spine_generic_Prisma_VE11C_no-ZOOMit.exar1",
    "CimaX_XA61_ZOOMit": "spine-generic_CimaX_XA61_ZOOMit.exar1",
    "Trio_VB17": "spine_generic_siemens-trio.edx",
}
# Printout label (VE / XA spelling) -> canonical parameter; the printout's unit is the canonical one.
LABELS = {
    r"TR": "repetition_time_ms",
    r"TE": "echo_time_ms",
    r"TI": "inversion_time_ms",
    r"Flip angle": "flip_angle_deg",
    r"Slice thickness": "slice_thickness_mm",
    r"Fo[Vv] read": "fov_read",
    r"Base resolution": "matrix_read",
    r"Averages": "averages",
}

# Where the printout and the canonical reading differ on purpose, and why.
DIFFERENT_ON_PURPOSE = {
    # A b0-only MDDW scan: the VB17 card prints "Averages 4" for lAverages 1 with lRepetitions 3 (four b0 volumes,
    # kept as repetitions, not averaged). The canonical `averages` is lAverages; the repetitions are not averages.
    ("Trio_VB17", "DWI_b0", "averages"),
}


def printout_sections(text: str) -> dict[str, str]:
    """Protocol name -> its part of the printout (each starts with a \\\\...\\<name> path line)."""
    parts = re.split(r"^\s*(\\\\\S+)\s*$", text, flags=re.M)
    sections: dict[str, str] = {}
    for path, body in zip(parts[1::2], parts[2::2], strict=True):
        sections.setdefault(path.rsplit("\\", 1)[-1], body)
    return sections


def printed(section: str, label: str) -> float | None:
    match = re.search(rf"(?:^|\s{{2,}}){label}\s{{2,}}(-?[\d.]+)\s", section, re.M | re.I)
    return float(match.group(1)) if match else None


@pytest.mark.parametrize("folder", sorted(ARCHIVES))
def test_export_agrees_with_the_printout(folder):
    export = SIEMENS / folder / ARCHIVES[folder]
    [inspection] = inspect_path(export)
    sections = printout_sections(pdf_text(export.with_suffix(".pdf")))
    checked = 0
    for acq in inspection.acquisitions:
        section = sections[acq.name]
        ours = dict(acq.params)
        if "fov_mm" in ours:
            ours["fov_read"] = ours["fov_mm"][0]
        if "matrix" in ours:
            ours["matrix_read"] = ours["matrix"][0]
        for label, param in LABELS.items():
            expected = printed(section, label)
            if (folder, acq.name, param) in DIFFERENT_ON_PURPOSE:
                continue
            if expected is None:  # the printout does not print every parameter on every page
                continue
            assert ours.get(param) == pytest.approx(expected, abs=0.006), (acq.name, label, ours.get(param), expected)
            checked += 1
    assert checked >= 40


def test_exar1_diffusion_and_3d_geometry_match_the_printout():
    [inspection] = inspect_path(SIEMENS / "Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1")
    acq = {a.name: a.params for a in inspection.acquisitions}
    # Printout DWI_no-ZOOMit: "Diff. directions 30", "b-value 1 … 800 s/mm²" (b=0 is implied, not printed).
    assert acq["DWI_no-ZOOMit"]["b_values"] == [0.0, 800.0]
    assert acq["DWI_no-ZOOMit"]["diffusion_directions"] == 30
    # T1w: slab of 192 partitions of 1.00 mm, FoV 320 mm x 81.3 % -> 260 phase lines at 100 % phase resolution.
    assert acq["T1w"]["slice_thickness_mm"] == 1.0 and acq["T1w"]["slices"] == 192
    assert acq["T1w"]["fov_mm"] == [320.0, 260.0] and acq["T1w"]["matrix"] == [320, 260]
    assert acq["T1w"]["sequence_family"] == "mprage" and acq["T1w"]["orientation"] == "sagittal"
    assert inspection.scanner["field_strength_t"] == 3.0


def test_exar1_is_opened_read_only_and_left_byte_identical(tmp_path):
    source = SIEMENS / "Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1"
    copy = tmp_path / "site.exar1"
    copy.write_bytes(source.read_bytes())
    digest = hashlib.sha256(copy.read_bytes()).hexdigest()
    inspect_path(copy)
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.exar1"]  # no -journal, -wal or -shm beside it


def test_exar1_inflation_bomb_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("OFSEP_PRESETS_LIMIT_INFLATE_BYTES", str(1 << 20))
    path = tmp_path / "bomb.exar1"
    con = sqlite3.connect(path)
    con.execute("create table Content (Hash, Data, Format)")
    con.execute(
        "create table Instance (Id, Element_id, ContentHash, Children, Tags, ParentElementId, "
        "LabelElement_id, DescriptionElement_id, InstanceType, ObjectId)"
    )
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = packer.compress(b"EDF V1: x;" + b" " * (4 << 20)) + packer.flush()
    con.execute("insert into Content values ('h', ?, 0)", (bomb,))
    con.execute("insert into Instance values ('i', 'e', 'h', null, null, 'p', null, null, 'EdfProtocol', null)")
    con.execute("insert into Instance values ('s', 'p', 'h', null, null, null, 'l', null, 'EdfMeasurementStep', null)")
    con.commit()
    con.close()
    with pytest.raises(ReadError, match="inflate_bytes limit"):
        inspect_path(path)


def test_non_exar1_sqlite_is_not_taken_for_one(tmp_path):
    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("create table t (x)").connection.commit()
    with pytest.raises(ReadError, match="not a format ofsep-presets reads"):
        inspect_path(path)


def test_edx_vb17_reads_the_old_protocol_as_it_was():
    [inspection] = inspect_path(SIEMENS / "Trio_VB17/spine_generic_siemens-trio.edx")
    assert inspection.format == "siemens-edx"
    acq = {a.name: a.params for a in inspection.acquisitions}
    assert list(acq)[:4] == ["Localizer", "T1w", "T2w", "DWI_b0"]  # UTF-7 names decoded (DWI+AF8-b0)
    # The printout of this old version: T2w TR 2000 ms, flip 180 deg (spine-generic later moved to 1500 / 120).
    assert (acq["T2w"]["repetition_time_ms"], acq["T2w"]["flip_angle_deg"]) == (2000.0, 180.0)
    assert acq["DWI"]["b_values"] == [0.0, 800.0] and acq["DWI"]["diffusion_directions"] == 64
    assert acq["DWI_b0"]["b_values"] == [0.0] and "diffusion_directions" not in acq["DWI_b0"]


def test_bare_ascconv_text_reads_like_the_dicom_it_came_from(tmp_path):
    from ofsep_presets.readers import dicom

    source = next((FIXTURES / "dicom/Siemens/VE11_PD_T2_tse_sag_1.8mm").glob("*.dcm"))
    text = dicom._siemens_protocol(dicom._dcmread(source)).replace('""', '"')
    block = text[text.index("### ASCCONV BEGIN") : text.index("### ASCCONV END ###") + len("### ASCCONV END ###")]
    (tmp_path / "pd_t2.txt").write_text(block, encoding="latin-1")
    [inspection] = inspect_path(tmp_path / "pd_t2.txt")
    assert inspection.format == "siemens-ascconv"
    ours = inspection.acquisitions[0].params
    [from_dicom] = [i for i in inspect_path(source.parent) if i.format == "dicom"][0].acquisitions
    for param in (
        "repetition_time_ms",
        "flip_angle_deg",
        "slice_thickness_mm",
        "slice_gap_mm",
        "acquisition_type",
        "orientation",
        "slices",
    ):
        assert ours[param] == pytest.approx(from_dicom.params[param]), param  # DICOM stores 1.7999999523163


EXCERPT = FIXTURES.parent / "notes" / "format-excerpts" / "01_siemens_printprot_XA_xml.txt"


def test_print_protocol_xml_excerpt_reads_its_routine_card(tmp_path):
    # The excerpt (a real XA print-protocol XML, cut after the Routine card's TR) closed where it was cut.
    lines = EXCERPT.read_text(encoding="utf-8-sig").splitlines()[1:]
    target = tmp_path / "printprot.xml"
    target.write_text("\n".join(lines) + "\n</Card></SubStep></Protocol></PrintProtocol></PrintOut>\n")
    [inspection] = inspect_path(target)
    assert inspection.format == "siemens-printxml"
    [acq] = inspection.acquisitions
    assert acq.name == "t2_space_FLAIR_sag_c4_iso"
    p = acq.params
    # Values as the excerpt prints them: TR 7600 ms, Slice Thickness 1.00 mm, FoV Read 256 mm, FoV Phase 92.2 %,
    # Orientation Sagittal, Phase Encoding Dir. A >> P, header "Voxel Size: 1.0×1.0×1.0 mm".
    assert p["repetition_time_ms"] == 7600
    assert p["slice_thickness_mm"] == 1.0
    assert p["fov_mm"] == [256, pytest.approx(256 * 0.922)]
    assert p["orientation"] == "sagittal" and p["phase_encoding_direction"] == "AP"
    assert p["voxel_size_mm"] == [1.0, 1.0, 1.0]
    assert p["sequence_family"] == "flair"
    assert "TR=7600 ms" in acq.provenance["repetition_time_ms"]


PRINTED = (
    r"(TR|TE|TI(?: 1)?|Flip [Aa]ngle|Slice [Tt]hickness|Fo[Vv] [Rr]ead|Averages|Dimension|Dist(?:\. f|ance F)actor)"
)


def _print_xml_from_printout(section: str, name: str) -> str:
    """The print-to-XML form of one printout page: the same labels, spelt and valued as the PDF prints them."""
    rows = []
    for label, value in re.findall(
        rf"(?:^|\s{{2,}}){PRINTED}\s{{2,}}(-?[\d.]+(?: (?:ms|mm|deg|%))?|[23]D)(?=\s)", section, re.M
    ):
        rows.append(f"<ProtParameter><Label>{label}</Label><ValueAndUnit>{value}</ValueAndUnit></ProtParameter>")
    return (
        f"<Protocol><HeaderTitle>SIEMENS MAGNETOM</HeaderTitle><SubStep><ProtHeaderInfo>"
        f"<HeaderProtPath>\\\\USER\\x\\{name}</HeaderProtPath></ProtHeaderInfo>"
        f"<Card name='Routine'>{''.join(rows)}</Card></SubStep></Protocol>"
    )


@pytest.mark.parametrize("folder", ["Prisma_VE11C_no-ZOOMit", "CimaX_XA61_ZOOMit"])
def test_print_protocol_xml_of_the_printout_agrees_with_the_export(folder, tmp_path):
    """VE and XA spell the labels differently ("Dist. factor" / "Distance Factor"); both read to the same values."""
    export = SIEMENS / folder / ARCHIVES[folder]
    sections = printout_sections(pdf_text(export.with_suffix(".pdf")))
    [from_export] = inspect_path(export)
    pages = "".join(_print_xml_from_printout(sections[a.name], a.name) for a in from_export.acquisitions)
    target = tmp_path / "print.xml"
    target.write_text(f"<?xml version='1.0'?><PrintOut><PrintProtocol>{pages}</PrintProtocol></PrintOut>")
    [from_xml] = inspect_path(target)
    compared = 0
    for ours, theirs in zip(from_xml.acquisitions, from_export.acquisitions, strict=True):
        assert ours.name == theirs.name
        for param in (
            "repetition_time_ms",
            "echo_time_ms",
            "inversion_time_ms",
            "flip_angle_deg",
            "slice_thickness_mm",
            "averages",
            "slice_gap_mm",
            "acquisition_type",
        ):
            if param in ours.params:
                assert param in theirs.params, (ours.name, param, ours.provenance[param])
                assert ours.params[param] == (
                    pytest.approx(theirs.params[param], abs=0.006)
                    if param != "acquisition_type"
                    else theirs.params[param]
                ), (ours.name, param)
                compared += 1
    assert compared >= 30


def _pdf_contents_order(pdf) -> list[str]:
    """The steps of a printout in its order: each step's card opens with its program path and a "TA:" line."""
    return re.findall(r"\\\\[^\n]*\\([^\\\n]+?)\s*\n\s*TA:", pdf_text(pdf))


@pytest.mark.parametrize("folder", ["Prisma_VE11C_no-ZOOMit", "CimaX_XA61_ZOOMit"])
def test_exar1_steps_in_the_order_the_program_runs_them(folder):
    """An .exar1 program links its steps from `FirstStepId` through `LinksFrom` (the EdfProgram record); its child
    list is another order (XA61: GRE-MT0 first, the Localizer fifth). Read in the linked order, the steps are
    those of the printout's table of contents of the same program, in its order."""
    path = SIEMENS / folder / ARCHIVES[folder]
    [inspection] = inspect_path(path)
    printed = _pdf_contents_order(path.with_suffix(".pdf"))
    names = [a.name for a in inspection.acquisitions]
    assert names == [n for n in printed if n in names] and len(names) == 8
    assert names[:2] == ["Localizer", "T1w"]


def _edf(record: dict, content_type: str) -> bytes:
    """An .exar1 Content blob: raw DEFLATE of "EDF V1: ContentType=…;" + JSON (vendor-formats.md)."""
    import json

    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    text = f"EDF V1: ContentType={content_type};" + json.dumps(record)
    return packer.compress(text.encode("utf-8")) + packer.flush()


def test_exar1_pause_step_that_applies_the_contrast_agent_is_the_injection(tmp_path, spec):
    """The VE11C program's two EdfPauseStep records state `ApplyContrastAgent` false and an empty `ContrastAgent`
    (a coil note, "# Install PulseOx"): no injection, no step read. Re-linked after the T1w with
    `ApplyContrastAgent` true, as a program giving the agent states it, the pause is the injection: listed as the
    injection step, the steps after it post-contrast, the T1w before it still the pre-contrast 3D T1."""

    from ofsep_presets.check import check
    from ofsep_presets.match import contrast_phases
    from ofsep_presets.readers.siemens_exar1 import _inflate

    source = SIEMENS / "Prisma_VE11C_no-ZOOMit" / ARCHIVES["Prisma_VE11C_no-ZOOMit"]
    [plain] = inspect_path(source)
    assert not [a for a in plain.acquisitions if a.context.get("injection")]
    path, con, rows, blob, named = _ve11c_copy(tmp_path, "injected.exar1")

    pauses = [r for r in rows if r[0] == "EdfPauseStep"]
    for r in pauses:
        record = _inflate(blob[r[1]], "pause")
        assert record["ApplyContrastAgent"] is False and record["ContrastAgent"]["IsGiven"] is False
    pulse_ox = next(r for r in pauses if "PulseOx" in named(r))
    t1w = next(r for r in rows if r[0] == "EdfMeasurementStep" and named(r) == "T1w")
    _set_injection(con, blob, pulse_ox, True)
    [program] = [r for r in rows if r[0] == "EdfProgram"]
    record = _inflate(blob[program[1]], "program")
    links = record["LinksFrom"]

    def target(step):
        return links[step]["$values"][0]["TargetId"]

    def link(source_id, target_id):
        links[source_id]["$values"][0]["TargetId"] = target_id

    first, pulse, after_t1w = record["FirstStepId"], pulse_ox[2], target(t1w[2])
    assert target(first) == pulse  # the coil note, then the PulseOx pause, then the Localizer
    link(first, target(pulse))  # coil note → Localizer … T1w → the pause (now the injection) → what followed T1w
    link(t1w[2], pulse)
    link(pulse, after_t1w)
    con.execute(
        "update Content set Data = ? where Hash = ?",
        (_edf(record, "syngo.MR.ExamDataFoundation.Data.EdfProgram"), program[1]),
    )
    con.commit()
    con.close()
    [inspection] = inspect_path(path)
    names = [a.name for a in inspection.acquisitions]
    assert names[:3] == ["Localizer", "T1w", "# Install PulseOx (for diffusion)"], names
    injection = inspection.acquisitions[2]
    assert "ApplyContrastAgent" in injection.context["injection"] and not injection.params.get("sequence_family")
    phases = contrast_phases(inspection.acquisitions)
    assert phases[1].state == "pre" and {p.state for p in phases[3:]} == {"post"}
    # The program states the injection: the steps after it are contrast-enhanced, those before it not.
    assert inspection.acquisitions[1].get("contrast_agent") is False
    assert "before" in inspection.acquisitions[1].provenance["contrast_agent"]
    assert all(a.get("contrast_agent") is True for a in inspection.acquisitions[3:])
    assert "ApplyContrastAgent" in inspection.acquisitions[3].provenance["contrast_agent"]
    report = check([inspection], spec)
    assert ("# Install PulseOx (for diffusion)", "injection step") in [(a.name, w) for a, w in report.unmatched]
    t1 = next(s for s in report.sequences if s.id == "brain.t1_3d")
    assert [m.acquisition.name for m in t1.matched] == ["T1w"]


def test_exar1_program_path_is_its_folder_tree_as_the_printout_prints_it():
    """The .exar1 EdfStructure record nests the folders (`ParentDirectoryId`: a program by element id, a folder by
    object id → its folder). The XA61 program's path is then Weber_NiLab, spine-generic, the program: the nesting
    its printout prints above each step; the folder rows read flat gave spine-generic before Weber_NiLab."""
    path = SIEMENS / "CimaX_XA61_ZOOMit" / ARCHIVES["CimaX_XA61_ZOOMit"]
    assert "\\\\USER\\Weber_NiLab\\spine-generic\\spine-generic_CimaX.XA61_20251119\\T1w" in pdf_text(
        path.with_suffix(".pdf")
    )
    [inspection] = inspect_path(path)
    assert {a.context["program"] for a in inspection.acquisitions} == {
        "\\Export\\Weber_NiLab\\spine-generic\\spine-generic_CimaX.XA61_20251119"
    }


def test_exar1_library_programs_keep_their_own_folders():
    """Two programs of one library, in the EdfStructure layout of the real XA61 record (`ParentDirectoryId` keyed
    by program element id and folder object id): each program's path is its own folders, so a knee program's
    region words are not lost when the library holds several programs (only the program names were kept)."""
    from ofsep_presets.readers.siemens_exar1 import _program_folders

    rows = [
        ("s", None, None, None, None, "EdfStructure", "s-obj"),
        ("d-root", None, None, None, None, "EdfDirectory", "root"),
        ("d-head", None, None, None, None, "EdfDirectory", "head"),
        ("d-ms", None, None, None, None, "EdfDirectory", "ms"),
        ("d-knee", None, None, None, None, "EdfDirectory", "knee"),
        ("p1", None, None, None, None, "EdfProgram", "p1-obj"),
        ("p2", None, None, None, None, "EdfProgram", "p2-obj"),
    ]
    structure = {
        "ParentDirectoryId": {
            "$id": "2",
            "root": "00000000-0000-0000-0000-000000000000",
            "head": "root",
            "ms": "head",
            "knee": "root",
            "p1": "ms",
            "p2": "knee",
        }
    }
    names = {"d-root": "Root", "d-head": "Head", "d-ms": "SEP", "d-knee": "Knee", "p1": "OFSEP", "p2": "Routine"}
    folders = _program_folders(rows, lambda r: structure if r[5] == "EdfStructure" else {}, lambda r: names[r[0]])
    assert folders == {"p1": ["Head", "SEP"], "p2": ["Knee"]}


def test_exar1_unreadable_tree_links_and_pauses_fall_back_to_the_plain_reading(tmp_path):
    """The folder tree, the step links and the pause records only refine the reading: with each of them damaged
    (its Content blob no DEFLATE stream), the XA61 file still reads its eight steps, as it did before they were
    read."""
    import shutil

    source = SIEMENS / "CimaX_XA61_ZOOMit" / ARCHIVES["CimaX_XA61_ZOOMit"]
    path = tmp_path / "damaged.exar1"
    shutil.copy(source, path)
    con = sqlite3.connect(path)
    for kind in ("EdfStructure", "EdfProgram", "EdfPauseStep"):
        for (digest,) in con.execute("select ContentHash from Instance where InstanceType = ?", (kind,)).fetchall():
            con.execute("update Content set Data = ? where Hash = ?", (b"not a deflate stream", digest))
    con.commit()
    con.close()
    [inspection] = inspect_path(path)
    assert len(inspection.acquisitions) == 8


def _ve11c_copy(tmp_path, name: str):
    """A copy of the VE11C .exar1 open for editing: (path, connection, Instance rows, Content blobs by hash,
    a function naming a step row by its label element)."""
    import shutil

    from ofsep_presets.readers.siemens_exar1 import _inflate

    source = SIEMENS / "Prisma_VE11C_no-ZOOMit" / ARCHIVES["Prisma_VE11C_no-ZOOMit"]
    path = tmp_path / name
    shutil.copy(source, path)
    con = sqlite3.connect(path)
    rows = con.execute(
        "select InstanceType, ContentHash, ObjectId, LabelElement_id, Element_id from Instance"
    ).fetchall()
    blob = dict(con.execute("select Hash, Data from Content").fetchall())
    labels = {r[4]: _inflate(blob[r[1]], "label") for r in rows if r[0] == "EdfString"}

    def named(row):
        texts = labels.get(row[3], {}).get("Texts", {})
        return next((v for k, v in texts.items() if not k.startswith("$")), "")

    return path, con, rows, blob, named


def _set_injection(con, blob, pause, apply: bool) -> None:
    """Make the pause step row `pause` the injection (ApplyContrastAgent `apply`). Content is addressed by its
    hash, shared by the two identical pause records: the changed one gets its own."""
    from ofsep_presets.readers.siemens_exar1 import _inflate

    record = _inflate(blob[pause[1]], "pause")
    record["ApplyContrastAgent"] = apply
    fresh = hashlib.sha1(b"injection pause").hexdigest()
    con.execute(
        "insert into Content (Hash, Data, Format) select ?, ?, Format from Content where Hash = ?",
        (fresh, _edf(record, "syngo.MR.ExamDataFoundation.Data.EdfPauseStep"), pause[1]),
    )
    con.execute("update Instance set ContentHash = ? where Element_id = ?", (fresh, pause[4]))


def _program_with_injection(tmp_path, edit_links, inject=True):
    """The VE11C .exar1 with its "# Install PulseOx" pause made the injection (ApplyContrastAgent true) and the
    program's LinksFrom record edited by `edit_links(links, ids)`: `ids` maps step names to their ObjectId, as the
    real record links them ({source: {"$values": [{SourceId, TargetId, ConditionId, SelectionId}]}})."""

    from ofsep_presets.readers.siemens_exar1 import _inflate

    path, con, rows, blob, named = _ve11c_copy(tmp_path, "edited.exar1")

    ids = {named(r): r[2] for r in rows if r[0] in ("EdfMeasurementStep", "EdfPauseStep")}
    pulse_ox = next(r for r in rows if r[0] == "EdfPauseStep" and "PulseOx" in named(r))
    _set_injection(con, blob, pulse_ox, inject)
    [program] = [r for r in rows if r[0] == "EdfProgram"]
    record = _inflate(blob[program[1]], "program")
    edit_links(record["LinksFrom"], ids)
    con.execute(
        "update Content set Data = ? where Hash = ?",
        (_edf(record, "syngo.MR.ExamDataFoundation.Data.EdfProgram"), program[1]),
    )
    con.commit()
    con.close()
    return path


def test_exar1_steps_the_chain_does_not_reach_have_no_stated_contrast(tmp_path):
    """A program that branches after its injection (a decision: the pause's link lists two targets, told apart by
    the ConditionId/SelectionId fields every EdfProgramLink of the real record carries, zero there): the chain
    follows the first target (GRE-MT1 …), the other branch's steps (T2w, DWI_no-ZOOMit) are placed after it by
    the child list, which states no exam order. Those are not "after the injection in the program's step order":
    their contrast stays unsaid; the chained steps after the pause are post-contrast, those before it pre."""
    ordered = ["Localizer", "T1w", "# Install PulseOx (for diffusion)", "GRE-MT1", "GRE-MT0", "GRE-T1w", "GRE-ME"]

    def branch(links, ids):
        coil = next(n for n in ids if n.startswith("#") and "PulseOx" not in n)
        pulse = ids["# Install PulseOx (for diffusion)"]
        links[ids[coil]]["$values"][0]["TargetId"] = ids["Localizer"]
        links[ids["T1w"]]["$values"][0]["TargetId"] = pulse
        first = links[pulse]["$values"][0]
        other = dict(first, **{"$id": "9001", "TargetId": ids["T2w"]})
        first["TargetId"] = ids["GRE-MT1"]
        for n, link in enumerate((first, other), 1):
            link["ConditionId"] = "6d1f0c52-0000-4000-8000-00000000000a"
            link["SelectionId"] = f"6d1f0c52-0000-4000-8000-00000000000{n}"
        links[pulse]["$values"] = [first, other]

    [inspection] = inspect_path(_program_with_injection(tmp_path, branch))
    read = {a.name: a for a in inspection.acquisitions}
    assert [a.name for a in inspection.acquisitions][: len(ordered)] == ordered
    assert read["Localizer"].get("contrast_agent") is False and read["T1w"].get("contrast_agent") is False
    assert all(read[n].get("contrast_agent") is True for n in ordered[3:])
    assert read["T2w"].get("contrast_agent") is None and read["DWI_no-ZOOMit"].get("contrast_agent") is None
    # Nor does matching read them as after the injection from their place in the listing.
    from ofsep_presets.match import contrast_phases

    phases = dict(zip([a.name for a in inspection.acquisitions], contrast_phases(inspection.acquisitions), strict=True))
    assert phases["T2w"].state is None and phases["DWI_no-ZOOMit"].state is None, phases
    assert phases["T1w"].state == "pre" and phases["GRE-ME"].state == "post"


def test_exar1_link_whose_targets_are_no_list_reads_like_the_plain_reading(tmp_path):
    """A link record whose `$values` (its targets: a list in the real record) is a number: the chain ends there
    and the child list places the rest; the file reads its eight steps, no longer refused with a TypeError."""
    source = SIEMENS / "Prisma_VE11C_no-ZOOMit" / ARCHIVES["Prisma_VE11C_no-ZOOMit"]
    [plain] = inspect_path(source)

    def damage(links, ids):
        links[ids["T1w"]]["$values"] = 3

    [inspection] = inspect_path(_program_with_injection(tmp_path, damage, inject=False))
    assert len(inspection.acquisitions) == len(plain.acquisitions) == 8
    assert {a.name: a.params for a in inspection.acquisitions} == {a.name: a.params for a in plain.acquisitions}
