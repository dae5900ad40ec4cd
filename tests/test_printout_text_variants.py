"""The Philips printout reader on the real R5.3 printout's text with what a printout made away from the console
lacks (the scans' durations, the fold-over direction, a TR row): what the rest still states reads as before.

Each variant is the real text (pdftotext -layout of ../shared/fixtures/vendor-exports/philips/*.pdf) with rows
taken out; the expected values are the unedited printout's own, read by the same reader (tests/test_printouts.py
checks that reading against the ExamCard). Our Philips parameter sheet is such a printout: no console has timed
its scans or chosen a fold-over direction for a card whose sources state none.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess

import pytest

from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

PDF = FIXTURES / "vendor-exports/philips/spine_generic_philips_R53.pdf"
pytestmark = [
    pytest.mark.skipif(not PDF.is_file(), reason="the vendor-exports fixtures are not here"),
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (tests only) makes the text printout"),
]


@functools.cache
def real_text() -> str:
    done = subprocess.run(["pdftotext", "-layout", str(PDF), "-"], capture_output=True, check=True, timeout=120)
    return done.stdout.decode("utf-8")


def read(tmp_path, text: str, name: str = "printout.txt") -> dict[str, dict]:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    [inspection] = inspect_path(path)
    assert inspection.format == "philips-printout"
    return {a.name: a.params for a in inspection.acquisitions}


def test_scans_without_durations_read_as_the_timed_printout(tmp_path):
    """The breadcrumb "card (7) 25:06.7 |  T1w 04:22.0" without the console's timings: the same scans, values."""
    timed = read(tmp_path, real_text(), "timed.txt")
    untimed_text = re.sub(r" (?:\d+:)?\d\d:\d\d\.\d( \||$)", r"\1", real_text(), flags=re.M)
    assert "| T1w 04:22.0" in " ".join(real_text().split()) and "| T1w 04:22.0" not in " ".join(untimed_text.split())
    untimed = read(tmp_path, untimed_text, "untimed.txt")
    assert list(untimed) == list(timed) == ["SURVEY", "T1w", "T2w", "DWI", "GRE-MT", "GRE-T1", "GRE-ME"]
    assert untimed == timed


def test_a_square_fov_needs_no_fold_over_direction(tmp_path):
    """Without "fold-over direction" rows: SURVEY's square FOV (coronal, RL 300 / FH 300) is still [300, 300];
    T1w's 320 x 260 (sagittal, FH 320 / AP 260) tells neither half and is absent, as is any phase direction."""
    timed = read(tmp_path, real_text(), "timed.txt")
    text = re.sub(r"fold-over direction +(?:AP|RL|FH)", lambda m: " " * len(m.group()), real_text())
    assert "fold-over direction" not in text
    printed = read(tmp_path, text, "no-fold-over.txt")
    assert timed["SURVEY"]["fov_mm"] == printed["SURVEY"]["fov_mm"] == [300.0, 300.0]
    assert timed["T1w"]["fov_mm"] == [320.0, 260.0] and "fov_mm" not in printed["T1w"]
    derived = {"fov_mm", "voxel_size_mm"}  # the acquired voxel is refined from the FOV where there is one
    for name, params in printed.items():  # nothing else changes
        assert {k: v for k, v in params.items() if k not in derived} == {
            k: v for k, v in timed[name].items() if k not in derived
        }, name
        assert params["voxel_size_mm"] == pytest.approx(timed[name]["voxel_size_mm"], abs=0.01), name


def test_an_echo_time_row_without_its_tr_row_is_the_echo_time(tmp_path):
    """The DWI prints "Act. TR (ms) 3429" and "Act. TE (ms) 70" on rows of their own: without the TR row, the TE
    is still 70 and no TR is read."""
    text = re.sub(r"Act\. TR \(ms\) +3429", lambda m: " " * len(m.group()), real_text())
    assert text != real_text()
    dwi = read(tmp_path, text)["DWI"]
    assert dwi["echo_time_ms"] == 70.0 and "repetition_time_ms" not in dwi


def test_a_named_directional_resolution_is_its_direction_count(tmp_path):
    """ "directional resolution opt 32" reads 32 (the R5.3 DWI); "medium" is 15 directions, as dcm2niix's Philips
    notes say (rordenlab/dcm2niix Philips/README.md: Low 6, Medium 15, High 32)."""
    assert read(tmp_path, real_text(), "opt.txt")["DWI"]["diffusion_directions"] == 32
    text = re.sub(r"(directional +)opt 32", r"\1medium", real_text())
    assert read(tmp_path, text, "medium.txt")["DWI"]["diffusion_directions"] == 15


def test_the_printout_files_each_scan_in_its_examcard_as_the_examcard_does(tmp_path):
    """The breadcrumb's "spine_generic_philips_R53_2020_09_29 (7) 25:06.7 |" names the ExamCard: each scan's
    program, as the ExamCard itself names it (its <name>), timed or not."""
    [card] = inspect_path(PDF.with_suffix(".ExamCard"))
    assert {a.context["program"] for a in card.acquisitions} == {"spine_generic_philips_R53_2020_09_29"}
    for name, text in (
        ("timed.txt", real_text()),
        ("untimed.txt", re.sub(r" \d\d:\d\d\.\d( \||$)", r"\1", real_text(), flags=re.M)),
    ):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        [printed] = inspect_path(path)
        assert [a.context.get("program") for a in printed.acquisitions] == [
            a.context["program"] for a in card.acquisitions
        ]


def test_a_text_printout_cut_inside_its_last_scan_infers_no_family_from_the_rows_left(tmp_path):
    """A text copy cut short inside GRE-ME's page (its last line left without its end): the whole printout's
    GRE-ME is a multi-echo T2* ("Echoes" on its CONTRAST column); cut before that row, what is left of it (TR 600,
    TE 7.2, flip angle rows gone) would read as another family, so none is inferred and the cut is said. The
    scans before the cut read as in the whole printout."""
    whole = read(tmp_path, real_text(), "whole.txt")
    assert whole["GRE-ME"]["sequence_family"] == "t2star"
    lines = real_text().splitlines(keepends=True)
    [start] = [n for n, line in enumerate(lines) if "| " in line and line.rstrip().endswith("GRE-ME 04:30.6")]
    kept = "".join(lines[: start + 5]) + lines[start + 5].rstrip("\n")[:40]  # cut inside a line of its page
    path = tmp_path / "cut.txt"
    path.write_text(kept, encoding="utf-8")
    [inspection] = inspect_path(path)
    cut = {a.name: a.params for a in inspection.acquisitions}
    assert "sequence_family" not in cut["GRE-ME"]
    assert any("cut short" in w and "GRE-ME" in w for w in inspection.warnings)
    assert {name: cut[name] for name in list(cut)[:-1]} == {name: whole[name] for name in list(cut)[:-1]}
