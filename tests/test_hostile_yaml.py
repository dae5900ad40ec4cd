"""Spec and preset YAML is bounded at load: an alias bomb, a cycle or a 5,000-digit integer is refused with
file:line before anything is built, in every command that takes `--spec` or `--preset`.

The commands run in a subprocess under a memory limit (RLIMIT_AS), so a regression fails the test instead of
taking the machine's memory.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .conftest import FIXTURES
from .support import bounded_cli

LEVELS = "abcdefghi"
# The "billion laughs" of YAML: nine levels of nine aliases, 9**9 values in a few hundred bytes.
BOMB = "".join(
    f"{name}: &{name} [{', '.join(['lol'] * 9) if i == 0 else ', '.join([f'*{LEVELS[i - 1]}'] * 9)}]\n"
    for i, name in enumerate(LEVELS)
)
EXPORT = FIXTURES / "vendor-exports" / "philips" / "spine_generic_philips_R53.ExamCard"


def _overlay(tmp_path: Path, body: str, name: str = "site.yaml") -> Path:
    path = tmp_path / name
    path.write_text("extends: ofsep-2020\n" + body, encoding="utf-8")
    return path


def _preset(tmp_path: Path, body: str) -> Path:
    """A site preset (an overlay with a `preset` block) carrying `body`."""
    path = tmp_path / "preset.yaml"
    path.write_text(
        "extends: spine-generic\npreset:\n  source: export.ExamCard\n" + body,
        encoding="utf-8",
    )
    return path


# body, words of the message, the lines (of the body, from 1) the message may name
CASES = {
    "alias_bomb": (BOMB, "alias", range(1, 10)),
    "alias_cycle": ("loop: &a [1, *a]\n", "cycle", [1]),
    "huge_integer": ("version: " + "9" * 5000 + "\n", "5,000 digits", [1]),
}


def _line(stderr: str, name: str) -> int:
    found = re.search(rf"{name}:(\d+):", stderr)
    assert found, stderr
    return int(found.group(1))


def test_the_bomb_is_small():
    assert len(BOMB.encode()) < 700  # the size of the finding (622 bytes)


@pytest.mark.parametrize("case", sorted(CASES))
def test_spec_option_refuses_at_load(tmp_path, case):
    body, words, lines = CASES[case]
    spec = _overlay(tmp_path, body)
    result = bounded_cli("plan", "--situation", "first-diagnosis", "--spec", str(spec), timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert _line(result.stderr, "site.yaml") - 1 in lines and words in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("case", sorted(CASES))
def test_preset_option_refuses_at_load(tmp_path, case):
    if not EXPORT.exists():
        pytest.skip("../shared/fixtures is absent")
    body, words, lines = CASES[case]
    preset = _preset(tmp_path, body)
    result = bounded_cli("check", "--preset", str(preset), str(EXPORT), timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert _line(result.stderr, "preset.yaml") - 3 in lines and words in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_reports_the_bomb_as_a_problem(tmp_path):
    spec = _overlay(tmp_path, BOMB)
    result = bounded_cli("validate", str(spec), timeout=120)
    assert result.returncode == 2
    assert "alias" in result.stdout and "Traceback" not in result.stderr


def test_a_few_aliases_still_load(tmp_path):
    """Aliases themselves are fine (MY-RADS uses one); only their expansion is bounded."""
    from ofsep_presets.yamlload import loads_yaml

    doc = loads_yaml("a: &x {k: [1, 2]}\nb: *x\nc: *x\n", "t.yaml")
    assert doc["b"] == doc["c"] == {"k": [1, 2]}
    assert loads_yaml("n: 123456789012345678901234567890\n", "t.yaml")["n"] == 123456789012345678901234567890
