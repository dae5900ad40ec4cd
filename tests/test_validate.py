"""`validate`: the bundled spec is valid; broken specs are refused with the right file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ofsep_presets.cli import main
from ofsep_presets.validate import validate

from .conftest import BUNDLED_SPEC


def test_bundled_spec_is_valid():
    assert list(validate([BUNDLED_SPEC])) == []


def test_cli_accepts_bundled_spec():
    result = CliRunner().invoke(main, ["validate", str(BUNDLED_SPEC)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def _line_of(text: str, marker: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if marker in line]
    assert len(lines) == 1, f"marker {marker!r} must occur once, found {len(lines)}"
    return lines[0]


def _mutate(tmp_path: Path, old: str, new: str, name: str = "broken.yaml") -> tuple[Path, str]:
    text = BUNDLED_SPEC.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} must occur exactly once in the bundled spec"
    text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, text


# Each case: (what is broken, text to replace, replacement, a marker on the offending line, words the message has)
BROKEN = [
    (
        "unknown canonical parameter",
        "- {param: diffusion_directions, ge: 15,",
        "- {param: diffusion_dirs, ge: 15,",
        "diffusion_dirs",
        ["unknown canonical parameter 'diffusion_dirs'", "did you mean 'diffusion_directions'"],
    ),
    (
        "unit mismatch",
        "- {param: inversion_time_ms, ge: 1, severity: warning, source: ofsep-2020,",
        "- {param: inversion_time_ms, ge: 1, unit: s, severity: warning, source: ofsep-2020,",
        "unit: s",
        ["unit mismatch", "ms", "'s'"],
    ),
    (
        "min > max in a range",
        "- {param: diffusion_directions, ge: 15,",
        "- {param: diffusion_directions, between: [30, 15],",
        "between: [30, 15]",
        ["min > max"],
    ),
    (
        "unknown vendor",
        "vendors: [siemens, philips, ge, canon]",
        "vendors: [siemens, philips, ge, canon, hitachi]",
        "hitachi",
        ["unknown vendor 'hitachi'"],
    ),
    (
        "unknown sequence family",
        "- {param: sequence_family, eq: swi, source: ofsep-2020}",
        "- {param: sequence_family, eq: swan, source: ofsep-2020}",
        "eq: swan",
        ["unknown sequence family 'swan'"],
    ),
    (
        "variant names a missing sequence",
        "required: [brain.dwi, brain.flair_3d]",
        "required: [brain.dwi, brain.flair3d]",
        "brain.flair3d",
        ["names a missing sequence 'brain.flair3d'", "did you mean 'brain.flair_3d'"],
    ),
    (
        "unknown source",
        "- {param: sequence_family, eq: dir, source: ofsep-2020}",
        "- {param: sequence_family, eq: dir, source: ofsep-2021}",
        "ofsep-2021",
        ["unknown source 'ofsep-2021'"],
    ),
    (
        "suggested value breaks the requirement beside it",
        "values: {repetition_time_ms: 2000, echo_time_ms: 3.72, inversion_time_ms: 1000, flip_angle_deg: 9, fov_mm: [320, 260], matrix: [320, 260], slices: 192, parallel_factor: 2, parallel_mode: grappa, averages: 1}",
        "values: {slice_thickness_mm: 1.2, repetition_time_ms: 2000, echo_time_ms: 3.72, inversion_time_ms: 1000, flip_angle_deg: 9, fov_mm: [320, 260], matrix: [320, 260], slices: 192, parallel_factor: 2, parallel_mode: grappa, averages: 1}",
        "slice_thickness_mm: 1.2",
        ["breaks its own requirement", "slice_thickness_mm <= 1.0"],
    ),
    (
        "enum value not allowed",
        "- {param: acquisition_type, eq: 2D, source: ofsep-2020}\n    - {param: orientation, eq: axial",
        "- {param: acquisition_type, eq: 4D, source: ofsep-2020}\n    - {param: orientation, eq: axial",
        "eq: 4D",
        ["'4D' is not a valid acquisition_type"],
    ),
    (
        "schema: constraint without operator",
        "- {param: contrast_agent, eq: false, source: ofsep-2020,",
        "- {param: contrast_agent, source: ofsep-2020,",
        "- {param: contrast_agent, source: ofsep-2020,",
        ["needs one operator"],
    ),
    (
        "schema: misspelt key",
        "    derived_required: [ADC]",
        "    derived_requird: [ADC]",
        "derived_requird",
        ["'derived_requird' was unexpected"],
    ),
    ("YAML syntax error", "  brain.swi:\n", "  brain.swi: [\n", "brain.swi: [", ["YAML syntax"]),
    (
        "≤ on a non-numeric parameter",
        "- {param: orientation, eq: sagittal, source: ofsep-2020}\n    nominal:\n      source: ofsep-2020-derived\n      values: {sequence_family: stir,",
        "- {param: orientation, le: 3, source: ofsep-2020}\n    nominal:\n      source: ofsep-2020-derived\n      values: {sequence_family: stir,",
        "param: orientation, le: 3",
        ["need a number"],
    ),
]


@pytest.mark.parametrize("what,old,new,marker,words", BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_spec_is_refused_at_its_line(tmp_path, what, old, new, marker, words):
    path, text = _mutate(tmp_path, old, new)
    expected_line = _line_of(text, marker)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 2, result.output
    lines = result.stdout.splitlines()
    hits = [ln for ln in lines if ln.startswith(f"{path}:{expected_line}:") or f"broken.yaml:{expected_line}:" in ln]
    assert hits, f"no problem reported at line {expected_line}:\n{result.stdout}"
    message = " ".join(hits)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def test_variant_naming_missing_sequence_is_caught_in_an_overlay(tmp_path):
    overlay = tmp_path / "site.yaml"
    overlay.write_text(
        "schema: ofsep-presets/spec-1\n"
        f"id: site-lyon\nextends: {BUNDLED_SPEC}\n"
        "exams:\n  brain:\n    variants:\n      reduced:\n"
        "        label: {en: Reduced}\n"
        "        required: [brain.dwi, brain.flair_3d, brain.ghost]\n"
        "        order: [brain.dwi, brain.flair_3d, brain.ghost]\n",
        encoding="utf-8",
    )
    problems = [str(p) for p in validate([overlay])]
    assert any(p.startswith(f"{overlay}:9:") and "'brain.ghost'" in p for p in problems), problems


def test_overlay_value_is_validated_and_located_in_the_overlay(tmp_path):
    overlay = tmp_path / "site.yaml"
    overlay.write_text(
        "schema: ofsep-presets/spec-1\nid: site-lyon\nextends: ofsep-2020\n"
        "sequences:\n  brain.flair_3d:\n    nominal:\n      source: ofsep-2020-derived\n"
        "      values: {slice_thickness_mm: 1.5}\n",
        encoding="utf-8",
    )
    problems = [str(p) for p in validate([overlay])]
    assert problems == [
        f"{overlay}:8: sequence 'brain.flair_3d' nominal value: slice_thickness_mm 1.5 mm, but voxel_size_mm's third "
        "side is 1 mm",  # the bundled voxel it merges onto: the overlay contradicts itself
        f"{overlay}:8: sequence 'brain.flair_3d': nominal value slice_thickness_mm = 1.5 breaks its own requirement "
        "slice_thickness_mm <= 1.0 (ofsep-2020)",
    ]


def test_valid_overlay_passes_and_changes_only_what_it_says(tmp_path):
    from ofsep_presets.spec import load_spec

    overlay = tmp_path / "site.yaml"
    overlay.write_text(
        "schema: ofsep-presets/spec-1\nid: site-lyon\nextends: ofsep-2020\n"
        "sequences:\n  brain.flair_3d:\n    nominal:\n      source: ofsep-2020-derived\n"
        # 256 mm over 284 lines is the 0.9 mm voxel: FOV, matrix and voxel agree.
        "      values: {slice_thickness_mm: 0.9, voxel_size_mm: [0.9, 0.9, 0.9], matrix: [284, 284]}\n",
        encoding="utf-8",
    )
    assert list(validate([overlay])) == []
    site, base = load_spec(overlay), load_spec("ofsep-2020")
    assert site.id == "site-lyon"
    changed = site.sequences["brain.flair_3d"].nominal
    original = base.sequences["brain.flair_3d"].nominal
    assert changed["slice_thickness_mm"] == 0.9 and changed["voxel_size_mm"] == [0.9, 0.9, 0.9]
    said = ("slice_thickness_mm", "voxel_size_mm", "matrix")
    assert {k: v for k, v in changed.items() if k not in said} == {k: v for k, v in original.items() if k not in said}
    assert site.sequences["brain.t1_3d"] == base.sequences["brain.t1_3d"]


def test_extends_cycle_is_refused(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("schema: ofsep-presets/spec-1\nid: a\nextends: b.yaml\n", encoding="utf-8")
    b.write_text("schema: ofsep-presets/spec-1\nid: b\nextends: a.yaml\n", encoding="utf-8")
    problems = [str(p) for p in validate([a])]
    assert len(problems) == 1 and "cycle" in problems[0], problems


def test_missing_file_is_a_problem_not_a_traceback(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert "no spec called" in result.stdout and "nope.yaml" in result.stdout and "bundled specs" in result.stdout
    assert ":0:" not in result.stdout  # no line number for a file that is not there (issue 17)
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_yaml_is_loaded_safely(tmp_path):
    path = tmp_path / "evil.yaml"
    path.write_text("!!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    problems = [str(p) for p in validate([path])]
    assert problems and "YAML" in problems[0]


def _overlay(tmp_path: Path, body: str) -> tuple[Path, str]:
    text = "schema: ofsep-presets/spec-1\nid: site-lyon\nextends: ofsep-2020\nsequences:\n" + body
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def _problems(path: Path) -> list[tuple[str, int, str]]:
    return [(Path(p.file).name, p.line, p.message) for p in validate([path])]


def test_an_overlay_with_a_25_mm_brain_fov_is_refused_as_a_unit_slip(tmp_path):
    path, text = _overlay(
        tmp_path,
        "  brain.flair_3d:\n    suggested:\n      - vendor: siemens\n        field_t: 3.0\n        source: ofsep-2020\n"
        "        values:\n          repetition_time_ms: 5000\n          fov_mm: [25, 25]   # FOV\n",
    )
    problems = _problems(path)
    line = _line_of(text, "# FOV")
    assert any(f == "site.yaml" and n == line and "fov_mm" in m and "25 cm is 250 mm" in m for f, n, m in problems)
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code != 0 and f"site.yaml:{line}:" in result.output


def test_fov_matrix_and_voxel_that_contradict_each_other_are_refused(tmp_path):
    # 250 mm over 256 lines is a 0.98 mm voxel: a voxel of 0.5 mm cannot go with them.
    path, text = _overlay(
        tmp_path,
        "  brain.t1_3d:\n    suggested:\n      - vendor: ge\n        field_t: 1.5\n        source: ofsep-2020\n"
        "        values:\n          fov_mm: [250, 250]\n          matrix: [256, 256]\n"
        "          voxel_size_mm: [0.5, 0.5, 1.0]   # VOXEL\n          slice_thickness_mm: 0.8   # THICK\n",
    )
    problems = _problems(path)
    assert any(n == _line_of(text, "# VOXEL") and "contradict" in m for _, n, m in problems), problems
    assert any(n == _line_of(text, "# THICK") and "third side is 1 mm" in m for _, n, m in problems), problems


def test_a_malformed_suggestion_gets_a_message_a_person_acts_on(tmp_path):
    path, text = _overlay(
        tmp_path,
        "  brain.flair_3d:\n    suggested:\n"
        "      - vendor: siemens\n        field: 3   # FIELD\n        values: {repetition_time_ms: 5000}\n"
        "      - siemens 3 T TR 5000   # TEXT\n"
        "      - {vendor: ge, field_t: 3.0, source: ofsep-2020, values: {repetition_time_ms: 5000 ms}}   # UNIT\n",
    )
    messages = [m for _, _, m in _problems(path)]
    text_of = "\n".join(messages)
    assert "suggestion 1: `field_t` is missing — the field strength in tesla" in text_of
    assert "suggestion 1: `source` is missing" in text_of
    assert "suggestion 1: unknown key `field` (did you mean 'field_t'?)" in text_of
    assert "suggestion 2: a suggestion is a mapping, not 'siemens 3 T TR 5000'" in text_of
    assert not any("is not of type" in m or "required property" in m for m in messages)
    # Shape first: the unit slip in suggestion 3 is reported once the shape is right.
    fixed = text.replace("        field: 3   # FIELD\n", "        field_t: 3.0\n        source: ofsep-2020\n")
    fixed = fixed.replace("      - siemens 3 T TR 5000   # TEXT\n", "")
    path.write_text(fixed, encoding="utf-8")
    assert any(
        "'5000 ms' is not a valid repetition_time_ms" in m and "write the number alone, in ms" in m
        for _, _, m in _problems(path)
    )


def test_same_as_names_another_sequence_and_keeps_no_values_of_its_own(tmp_path):
    path, text = _overlay(
        tmp_path,
        "  brain.t1_3d_gd:\n    nominal:   # NOMINAL\n      source: ofsep-2020-derived\n"
        "      values: {slices: 160}\n  brain.dir_3d:\n    same_as: brain.nothing   # TARGET\n",
    )
    problems = _problems(path)
    assert any(n == _line_of(text, "# NOMINAL") and "acquired again (same_as)" in m for _, n, m in problems)
    assert any(n == _line_of(text, "# TARGET") and "is not another sequence" in m for _, n, m in problems)
