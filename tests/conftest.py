"""Shared test fixtures: where the project and the third-party fixtures are."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"
BUNDLED_SPEC = ROOT / "protocol_spec" / "ofsep-2020.yaml"
MISSING_FIXTURES = (
    f"the tests read third-party fixtures in place at {FIXTURES} (../shared/fixtures beside the repository): "
    "clone the project next to its shared/ folder and run the tests again"
)


def pytest_configure(config: pytest.Config) -> None:
    """Stop before collection, in one line, when the fixtures are not there (modules read them at import)."""
    if not FIXTURES.is_dir():
        pytest.exit(MISSING_FIXTURES, returncode=4)


@pytest.fixture(scope="session")
def spec():
    from ofsep_presets.spec import load_spec

    return load_spec("ofsep-2020")
