"""Shared test fixtures: where the project and the third-party fixtures are."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"
BUNDLED_SPEC = ROOT / "protocol_spec" / "ofsep-2020.yaml"


@pytest.fixture(scope="session")
def spec():
    from ofsep_presets.spec import load_spec

    return load_spec("ofsep-2020")
