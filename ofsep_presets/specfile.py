"""Reading spec files: resolving `extends`, and merging a site overlay onto the spec it extends.

Merged values keep the file and line they were written at, so a problem found after merging still points into
the overlay. Mappings merge key by key; lists are replaced whole (an overlay restates a list it changes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Problem, SpecError
from .resources import bundled_spec_names, bundled_spec_path
from .yamlload import LocatedDict, load_yaml

MAX_EXTENDS_DEPTH = 8


@dataclass
class SpecFile:
    path: Path
    display: str
    raw: Any


def resolve(ref: str, relative_to: Path | None = None) -> Path:
    """A bundled spec name ('ofsep-2020') or a path (relative to the extending file when there is one)."""
    candidate = Path(ref)
    if relative_to is not None and not candidate.is_absolute():
        near = relative_to.parent / candidate
        if near.is_file():
            return near
    if candidate.is_file():
        return candidate
    bundled = bundled_spec_path(ref)
    if bundled is not None:
        return bundled
    names = bundled_spec_names()
    raise FileNotFoundError(
        f"no spec called {ref!r}{did_you_mean(ref, names)}: give a path to a YAML file or one "
        f"of the bundled specs ({', '.join(names)})"
    )


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """' (did you mean X?)' for the choice a typo or a short form most likely means, '' when none is close.

    A unique prefix wins ('magnims' → 'magnims-2021'); otherwise difflib's closest spelling.
    """
    import difflib

    prefixed = [c for c in choices if c.lower().startswith(word.lower())]
    close = prefixed if len(prefixed) == 1 else difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]}?)" if close else ""


def display_name(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_chain(ref: str | Path) -> list[SpecFile]:
    """The file and every spec it extends, base first."""
    try:
        path = resolve(str(ref))
    except FileNotFoundError as exc:
        raise SpecError([Problem("", 0, str(exc))]) from None
    chain: list[SpecFile] = []
    seen: set[Path] = set()
    while True:
        display = display_name(path)
        raw = load_yaml(path, display)
        if isinstance(raw, dict) and isinstance(raw.get("suggestions_file"), str):
            _include_suggestions(raw, path, display)
        chain.append(SpecFile(path, display, raw))
        seen.add(path.resolve())
        parent = raw.get("extends") if isinstance(raw, dict) else None
        if parent is None:
            break
        line = raw.origin_of("extends")[1] if isinstance(raw, LocatedDict) else 0
        if not isinstance(parent, str):
            raise SpecError([Problem(display, line, "`extends` must name a spec (bundled name or path)")])
        try:
            path = resolve(parent, relative_to=path)
        except FileNotFoundError as exc:
            raise SpecError([Problem(display, line, str(exc))]) from None
        if path.resolve() in seen:
            raise SpecError([Problem(display, line, f"`extends` makes a cycle through {display_name(path)}")])
        if len(chain) >= MAX_EXTENDS_DEPTH:
            raise SpecError([Problem(display, line, f"more than {MAX_EXTENDS_DEPTH} levels of `extends`")])
    chain.reverse()
    return chain


def _include_suggestions(raw: Any, path: Path, display: str) -> None:
    """Append a generated suggestions file's `sources` and per-sequence `suggested` lists to the spec's own.

    Its values keep their own file and line, so a problem in a generated block points into that file.
    """
    from .resources import spec_dir

    line = raw.origin_of("suggestions_file")[1] if isinstance(raw, LocatedDict) else 0
    # Beside the spec, or (a copy of a bundled spec edited elsewhere) among the bundled specs; never outside them.
    target = None
    for folder in (path.parent.resolve(), spec_dir().resolve()):
        candidate = (folder / raw["suggestions_file"]).resolve()
        if folder in candidate.parents and candidate.is_file():
            target = candidate
            break
    if target is None:
        raise SpecError(
            [Problem(display, line, f"suggestions_file {raw['suggestions_file']!r}: no such file beside the spec")]
        )
    extra = load_yaml(target, display_name(target))
    if not isinstance(extra, dict):
        raise SpecError(
            [Problem(display_name(target), 1, "a suggestions file is a mapping with `sources` and `sequences`")]
        )
    sources = raw.get("sources")
    for sid, source in (extra.get("sources") or {}).items():
        if isinstance(sources, dict) and sid not in sources:
            sources[sid] = source
    sequences = raw.get("sequences") if isinstance(raw.get("sequences"), dict) else {}
    for seq_id, block in (extra.get("sequences") or {}).items():
        if seq_id not in sequences:
            raise SpecError([Problem(display_name(target), getattr(block, "line", 0), f"unknown sequence {seq_id!r}")])
        seq = sequences[seq_id]
        own = list(seq.get("suggested") or [])
        seq["suggested"] = own + list((block or {}).get("suggested") or [])


def merge(base: Any, overlay: Any) -> Any:
    """Overlay onto base; mappings merge recursively, everything else is replaced by the overlay's value."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        result = LocatedDict()
        result.file = getattr(overlay, "file", getattr(base, "file", "?"))
        result.line = getattr(overlay, "line", getattr(base, "line", 0))
        result.origins = dict(getattr(base, "origins", {}))
        for key, value in base.items():
            result[key] = value
        for key, value in overlay.items():
            result[key] = merge(base[key], value) if key in base else value
            if isinstance(overlay, LocatedDict):
                result.origins[key] = overlay.origin_of(key)
        return result
    return overlay


def merged(chain: list[SpecFile]) -> Any:
    result = chain[0].raw
    for spec_file in chain[1:]:
        result = merge(result, spec_file.raw)
    if isinstance(result, LocatedDict) and len(chain) > 1:
        result.pop("extends", None)
    return result


__all__ = ["SpecFile", "read_chain", "merged", "resolve", "display_name"]
