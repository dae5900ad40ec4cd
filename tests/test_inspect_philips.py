"""Philips ExamCard: agrees with Philips' own printout of the same ExamCard; R11-style cards without enum labels."""

from __future__ import annotations

import base64
import re

import pytest

from ofsep_presets.readers import inspect_path
from ofsep_presets.readers.philips_examcard import decode_table

from .conftest import FIXTURES
from .test_render import pdf_text

CARD = FIXTURES / "vendor-exports/philips/spine_generic_philips_R53.ExamCard"


def printout_sections() -> dict[str, str]:
    text = pdf_text(FIXTURES / "vendor-exports/philips/spine_generic_philips_R53.pdf")
    parts = re.split(r"\|\s+([\w-]+)\s+\d\d:\d\d\.\d\s*\n", text)
    return {name: body for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def numbers_after(section: str, label: str) -> list[float] | None:
    match = re.search(rf"{re.escape(label)}\s+((?:-?\d+(?:\.\d+)?\s*(?:/|x)?\s*)+)", section)
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", match.group(1))] if match else None


def test_examcard_agrees_with_the_printout():
    [inspection] = inspect_path(CARD)
    sections = printout_sections()
    assert [a.name for a in inspection.acquisitions] == list(sections)
    checked = 0
    for acq in inspection.acquisitions:
        s = sections[acq.name]
        act = (
            numbers_after(s, "Act. TR/TE (ms)")
            or numbers_after(s, "Act. TR/TE1/delta TE")
            or numbers_after(s, "Act. TR (ms)")
        )
        assert acq.get("repetition_time_ms") == pytest.approx(act[0]), acq.name
        checked += 1
        if "Act. TR/TE" in s:
            assert acq.get("echo_time_ms") == pytest.approx(act[1]), acq.name
            checked += 1
        pairs = (
            ("Flip angle (deg)", "flip_angle_deg", 0),
            ("NSA", "averages", 0),
            ("Act. WFS (pix) / BW (Hz)", "pixel_bandwidth_hz", 1),
            ("ACQ matrix M x P", "matrix", None),
            ("max b-factor", "b_values", -1),
        )
        for label, param, index in pairs:
            printed = numbers_after(s, label)
            if printed is None:
                continue
            ours = acq.get(param)
            expected = printed if index is None else printed[index]
            got = ours if index is None else (ours[-1] if index == -1 else ours)
            assert got == pytest.approx(expected), (acq.name, label, ours, printed)
            checked += 1
    assert checked >= 30


def test_examcard_semantics():
    [inspection] = inspect_path(CARD)
    acq = {a.name: a.params for a in inspection.acquisitions}
    t1 = acq["T1w"]
    assert (t1["inversion_time_ms"], t1["sequence_family"], t1["parallel_factor"], t1["echo_train_length"]) == (
        1000.0,
        "mprage",
        2.0,
        246,
    )
    assert t1["voxel_size_mm"] == [1.0, 1.0, 1.0] and t1["acquisition_type"] == "3D"
    assert acq["DWI"]["b_values"] == [0.0, 800.0] and acq["DWI"]["diffusion_directions"] == 32  # "opt32"
    assert "inversion_time_ms" not in acq["T2w"]


def test_card_without_enum_labels_falls_back_and_says_so(tmp_path):
    """R11 cards drop the enum label lists: simulate one by blanking every description offset."""
    import struct

    from lxml import etree

    tree = etree.parse(str(CARD), etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True))
    tables = {e.get("href")[1:] for e in tree.iter() if isinstance(e.tag, str) and e.tag == "parameterData"}
    blanked = 0
    for element in tree.iter():
        if isinstance(element.tag, str) and element.get("id") in tables:
            blob = bytearray(base64.b64decode(element.text))
            for i in range(struct.unpack_from("<8i", blob)[7]):
                struct.pack_into("<i", blob, 32 + 50 * i + 42, 0)
            element.text = base64.b64encode(bytes(blob)).decode()
            blanked += 1
    assert blanked == 7
    card = tmp_path / "r11.ExamCard"
    tree.write(str(card))
    [inspection] = inspect_path(card)
    [original] = inspect_path(CARD)
    assert [a.params for a in inspection.acquisitions] == [a.params for a in original.acquisitions]
    assert any("enum labels missing" in w for w in inspection.warnings)


def test_decode_table_rejects_a_lying_header():
    with pytest.raises(ValueError):
        decode_table(b"\0" * 28 + (10_000).to_bytes(4, "little"))


def test_epi_bandwidth_is_the_readout_one_the_printout_states():
    """An EPI's water-fat shift is along phase: its "WFS (pix) / BW (Hz) 23.594 / 18.4" is no readout bandwidth.
    The R5.3 printout's DWI states the readout's own: "BW in EPI freq. dir. (Hz) 1505.5"."""
    dwi = printout_sections()["DWI"]
    [printed] = numbers_after(dwi, "BW in EPI freq. dir. (Hz)")
    assert numbers_after(dwi, "WFS (pix) / BW (Hz)")[1] != printed
    [inspection] = inspect_path(CARD)
    acq = {a.name: a for a in inspection.acquisitions}["DWI"]
    assert acq.get("pixel_bandwidth_hz") == printed
    assert "IF_bw_per_pix_EPI_read_out" in acq.provenance["pixel_bandwidth_hz"]


def test_epi_without_its_readout_bandwidth_leaves_it_absent(tmp_path):
    """A card whose EPI lacks the readout row (the WFS pair only): absent and warned, never the phase BW."""
    from ofsep_presets.acquisition import Acquisition
    from ofsep_presets.readers.philips_examcard import _bandwidth

    acq = Acquisition("DWI")
    values = {"IF_wf_shift_bw_per_pix_echo1": "13.963 / 31.1"}
    _bandwidth(values, acq, lambda key: f"card {key}={values[key]!r}", epi=True)
    assert "pixel_bandwidth_hz" not in acq.params
    assert acq.warnings and "phase direction" in acq.warnings[0]
    other = Acquisition("T2w")
    _bandwidth(values, other, lambda key: f"card {key}={values[key]!r}", epi=False)
    assert other.get("pixel_bandwidth_hz") == 31.1
