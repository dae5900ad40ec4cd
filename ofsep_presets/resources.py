"""Where the bundled templates and protocol specs are, in a checkout and in an installed wheel.

The design fixes `templates/` and `protocol_spec/` at the top of the repository; the wheel carries them inside
the package (see pyproject.toml). Looking in both places keeps `pip install .` and `pip install -e .` identical.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _locate(name: str) -> Path:
    installed = _PACKAGE / name
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / name
    if checkout.is_dir() and (_PACKAGE.parent / "pyproject.toml").is_file():
        return checkout
    raise FileNotFoundError(f"bundled folder {name!r} not found next to {_PACKAGE}; reinstall ofsep-presets")


@cache
def templates_dir() -> Path:
    return _locate("templates")


@cache
def spec_dir() -> Path:
    return _locate("protocol_spec")


def bundled_spec_path(name: str) -> Path | None:
    """The bundled spec called `name` (e.g. 'ofsep-2020'), or None."""
    path = spec_dir() / f"{name}.yaml"
    return path if path.is_file() else None


def bundled_spec_names() -> list[str]:
    return sorted(p.stem for p in spec_dir().glob("*.yaml") if not p.name.startswith("_"))
