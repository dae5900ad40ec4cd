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
    from ofsep_presets.readers import siemens_exar1

    monkeypatch.setattr(siemens_exar1, "MAX_INFLATED", 1 << 20)
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
    with pytest.raises(ReadError, match="the cap"):
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
