"""DICOM defined terms that state canonical values (protocol_spec/model/dicom-terms.yaml), for the DICOM reader
and for a sidecar that copies the same attribute (dcm2niix writes ScanOptions as "PFP\\FS")."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from ..resources import spec_dir
from ..yamlload import load_yaml


@cache
def _terms() -> dict[str, dict[str, dict[str, Any]]]:
    data = load_yaml(spec_dir() / "model" / "dicom-terms.yaml")
    return {
        attribute: {str(term).upper(): dict(values) for term, values in terms.items()}
        for attribute, terms in data.items()
    }


def split(value: Any) -> list[str]:
    """The terms of a multi-valued code string: a pydicom MultiValue or list, or text joined by backslashes."""
    if value is None:
        return []
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    items = value.split("\\") if isinstance(value, str) else list(value)
    return [str(t).strip().upper() for t in items if str(t).strip()]


def stated(attribute: str, value: Any) -> Iterator[tuple[str, Any, str]]:
    """(canonical parameter, value, the term that states it) for each known term of `attribute` in `value`.

    A term no table knows is read once more as terms joined by underscores: dcm2niix of about 2017-2020 wrote a
    multi-valued CS that way in its sidecars ("PFP_FS", GE's "SAT_GEMS_EPI_GEMS_ACC_GEMS_PFF_FS": public
    spins travelling-phantom sidecars); a known term holding an underscore (FAT_AND_WATER) is taken whole."""
    known = _terms().get(attribute, {})
    for term in split(value):
        for part in [term] if term in known else _underscored(term, known):
            for param, canonical in known.get(part, {}).items():
                yield param, canonical, part


def _underscored(term: str, known: dict[str, Any]) -> list[str]:
    """The terms of an underscore-joined value, a known term that holds underscores itself kept whole: GE's
    "MT_GEMS" in "EDR_GEMS_MT_GEMS_FILTERED_GEMS_PFF" (the spine-generic juntendo750w MT-on sidecar), not "MT" and
    "GEMS" apart. The longest known run of parts at each place is taken (a term has at most three parts)."""
    parts = [t for t in term.split("_") if t]
    terms: list[str] = []
    i = 0
    while i < len(parts):
        size = next((n for n in (3, 2) if "_".join(parts[i : i + n]) in known and i + n <= len(parts)), 1)
        terms.append("_".join(parts[i : i + size]))
        i += size
    return terms
