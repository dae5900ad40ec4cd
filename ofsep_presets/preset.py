"""Site presets: `snapshot` writes one site's exact values as an overlay of the spec it was checked against.

The overlay `extends` the canonical spec and adds, per matched sequence, a `preset` block (the series it was read
from, every protocol value the export states); the spec's own requirements are untouched, so `check --preset`
checks compliance exactly as before and reports drift from these values beside it. The file is validated like
any spec before it is written, and an existing file is never replaced.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import yaml

from . import __version__
from .acquisition import Inspection
from .check import check
from .drift import SCANNER, preset_values
from .errors import OfsepError
from .output import write_atomic
from .resources import bundled_spec_names
from .spec import Spec, load_spec

HEADER = """\
# Site preset written by ofsep-presets {version} (`ofsep-presets snapshot`).
# The exact values of {source}, per sequence of {spec} {spec_version}. It extends the spec, so it is a spec:
#   ofsep-presets check NEW-EXPORT --preset {name}
# reports compliance with {spec} and, separately, every value that changed since this snapshot (drift).
# Edit it only to accept a change on purpose (or take a new snapshot).
"""


def snapshot(inspections: list[Inspection], spec: Spec, spec_ref: str, target: Path) -> tuple[dict[str, Any], int]:
    """The overlay document for `inspections`, and how many sequences it holds; nothing written."""
    report = check(inspections, spec)
    sequences: dict[str, Any] = {}
    for result in report.sequences:
        if result.matched:
            acq = result.matched[0].acquisition
            sequences[result.id] = {"preset": {"acquisition": acq.name, "values": preset_values(acq)}}
    if not sequences:
        raise OfsepError(
            f"no acquisition of {', '.join(report.sources)} matches a sequence of {spec.id}; nothing to snapshot "
            f"(is --spec right? `ofsep-presets check` shows how the series were matched)"
        )
    source = ", ".join(Path(s).name for s in report.sources)
    doc = {
        "schema": "ofsep-presets/spec-1",
        "id": _slug(f"{spec.id}-site-{Path(report.sources[0]).stem}"),
        "extends": _extends(spec, spec_ref, target),
        "version": spec.version,
        "preset": {
            "source": source,
            "format": ", ".join(report.formats),
            "scanner": {k: report.scanner[k] for k in SCANNER if report.scanner.get(k) is not None},
            "variants": [v.key for v in report.variants],
            "generator": f"ofsep-presets {__version__}",
        },
        "sequences": sequences,
    }
    return doc, len(sequences)


def write(doc: dict[str, Any], spec: Spec, target: Path) -> None:
    """Validate the overlay as a spec (through a temporary file beside the target), then write it; never replace."""
    if target.exists():
        raise OfsepError(f"{target} exists; nothing was written. Choose another -o (a preset is never replaced).")
    text = HEADER.format(
        version=__version__,
        source=" ".join(doc["preset"]["source"].split()),  # a comment line stays one line
        spec=spec.id,
        spec_version=spec.version,
        name=target.name,
    ) + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120, default_flow_style=None)
    target.parent.mkdir(parents=True, exist_ok=True)
    probe = target.with_name(f".{target.name}.check.yaml")
    try:
        write_atomic(probe, text)
        load_spec(probe)  # raises SpecError listing every problem: a bug if it ever does
        try:
            os.link(probe, target)  # fails if the target exists: a preset is never replaced, even in a race
        except FileExistsError:
            raise OfsepError(f"{target} appeared while writing; nothing was replaced.") from None
    finally:
        probe.unlink(missing_ok=True)


def _extends(spec: Spec, spec_ref: str, target: Path) -> str:
    """A bundled spec by name; a spec file by its path relative to the preset (so the two can move together)."""
    if spec_ref in bundled_spec_names():
        return spec_ref
    base = Path(spec.path or spec_ref).resolve()
    return Path(os.path.relpath(base, target.resolve().parent)).as_posix()


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9_.-]+", "-", text.lower()).strip("-.") or "site"


def snapshot_file(inspections: list[Inspection], spec_ref: str, target: Path) -> int:
    spec = load_spec(spec_ref)
    doc, count = snapshot(inspections, spec, spec_ref, target)
    write(doc, spec, target)
    return count
