"""Two sites' exports (or presets, or dummy runs) side by side, in canonical terms and in both vendors' words.

Acquisitions meet through the spec's sequences, so a Siemens MPRAGE is compared with a Philips 3D T1-TFE even
though no name or vendor term is shared; acquisitions no sequence takes are paired by identical name. Values are
compared with the same noise tolerance as `check` (0.03 and 0.030001 are the same TR). Only what both sides state
and mean alike can differ: a value stated on one side only is its own group, and a parameter whose meaning differs
by vendor (a Philips IR-TFE "TR" is the echo spacing, a Siemens MPRAGE TR the interval between inversions) is
shown side by side with the caveat the vendor vocabularies state (protocol_spec/vendors/*.yaml `meanings`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from . import __version__
from .acquisition import Acquisition, Inspection
from .check import field_class, scanner_of, vendor_view
from .exams import prepare
from .match import match
from .report import _show, page, safe_cells
from .rules import Constraint
from .spec import Spec
from .textsafe import printable, strict_json
from .vendors import all_vendors

SKIP = {
    "manufacturer",
    "model",
    "software_version",
    "field_strength_t",
    "series_description",
    "series_number",
    "acquisition_time",
}


@dataclass
class Difference:
    param: str
    a: Any
    b: Any
    a_console: str
    b_console: str
    caveat: str = ""  # set when the two vendors mean different things by this parameter


@dataclass
class OneSided:
    """A value one side states and the other does not: neither the same nor a difference."""

    param: str
    side: str  # "A" or "B"
    value: Any
    console: str


@dataclass
class Pair:
    key: str
    a: Acquisition | None
    b: Acquisition | None
    differences: list[Difference] = field(default_factory=list)
    same: list[str] = field(default_factory=list)
    caveats: list[Difference] = field(default_factory=list)  # side by side, not counted as differences
    one_sided: list[OneSided] = field(default_factory=list)


@dataclass
class Comparison:
    a_source: str
    b_source: str
    a_scanner: dict[str, Any]
    b_scanner: dict[str, Any]
    pairs: list[Pair]

    @property
    def same(self) -> bool:
        return all(p.a is not None and p.b is not None and not p.differences for p in self.pairs)


def _console(vendor: str | None, param: str, value: Any, acq: Acquisition) -> str:
    label, shown = vendor_view(vendor, param, value, dict(acq.params))
    return f"{label}: {shown}" if label and shown else ""


def caveat(a: Acquisition, b: Acquisition, param: str) -> str:
    """Why `param` cannot be compared across these two vendors (their consoles mean different things by it, as
    protocol_spec/vendors/*.yaml `meanings` state), or "" when it means the same on both."""
    va, vb = a.get("manufacturer"), b.get("manufacturer")
    if va == vb:
        return ""
    vendors = all_vendors()
    said, differs = [], False
    for vendor, acq in ((va, a), (vb, b)):
        meaning = vendors[vendor].meaning(param, acq.get("sequence_family")) if vendor in vendors else None
        said.append(meaning.means.get("en", "") if meaning else "")
        differs = differs or (meaning is not None and not meaning.canonical)
    if not differs or said[0] == said[1]:
        return ""
    return " | ".join(f"{v}: {m}" for v, m in zip((va, vb), said, strict=True) if m)


def diff(a: Acquisition, b: Acquisition) -> tuple[list[Difference], list[str], list[Difference], list[OneSided]]:
    """(differences, same, caveats, one-sided): only values both sides state and mean alike can differ."""
    differences, same, caveats, one_sided = [], [], [], []
    for param in sorted((set(a.params) | set(b.params)) - SKIP):
        va, vb = a.get(param), b.get(param)
        if va is None or vb is None:
            side, acq, value = ("A", a, va) if vb is None else ("B", b, vb)
            one_sided.append(OneSided(param, side, value, _console(acq.get("manufacturer"), param, value, acq)))
            continue
        item = Difference(
            param,
            va,
            vb,
            _console(a.get("manufacturer"), param, va, a),
            _console(b.get("manufacturer"), param, vb, b),
        )
        item.caveat = caveat(a, b, param)
        if item.caveat:
            caveats.append(item)
            continue
        expected = tuple(vb) if isinstance(vb, list) else vb
        if Constraint(param, "eq", expected, "compare").evaluate(va) == "pass":
            same.append(param)
        else:
            differences.append(item)
    return differences, same, caveats, one_sided


def compare(left: list[Inspection], right: list[Inspection], spec: Spec, a_name: str, b_name: str) -> Comparison:
    sides = []
    for inspections in (left, right):
        inspections = prepare(inspections)  # the exam step check runs: sidecars folded, regions placed
        scanner = scanner_of(inspections)
        acquisitions = [x for i in inspections for x in i.acquisitions]
        sides.append(
            (
                scanner,
                acquisitions,
                match(
                    acquisitions,
                    spec,
                    list(spec.sequences),
                    scanner.get("manufacturer"),
                    field_class(scanner.get("field_strength_t")),
                ),
            )
        )
    (sa, acq_a, ma), (sb, acq_b, mb) = sides
    pairs: list[Pair] = []
    for seq_id in spec.sequences:
        xa, xb = ma.first(seq_id), mb.first(seq_id)
        if xa or xb:
            pairs.append(Pair(seq_id, xa.acquisition if xa else None, xb.acquisition if xb else None))
    used_a = {id(p.a) for p in pairs}
    used_b = {id(p.b) for p in pairs}
    rest_b = {x.name: x for x in acq_b if id(x) not in used_b}
    rest_a = [x for x in acq_a if id(x) not in used_a]
    alike = _alike(
        [x for x in rest_a if x.name not in rest_b],
        [x for x in rest_b.values() if x.name not in {a.name for a in rest_a}],
    )
    for x in rest_a:
        other = rest_b.pop(x.name, None)
        if other is None and id(x) in alike:
            other = rest_b.pop(alike[id(x)].name, None)
        pairs.append(Pair(x.name if other is None or other.name == x.name else f"{x.name} ~ {other.name}", x, other))
    for x in rest_b.values():
        pairs.append(Pair(x.name, None, x))
    for p in pairs:
        if p.a is not None and p.b is not None:
            p.differences, p.same, p.caveats, p.one_sided = diff(p.a, p.b)
    return Comparison(a_name, b_name, sa, sb, pairs)


def _alike(left: list[Acquisition], right: list[Acquisition]) -> dict[int, Acquisition]:
    """Series no spec sequence took, paired across the two sides when they are evidently the same protocol: the
    same family, and either the only one of it on each side or each other's most similar name (a cord "DWI" and
    "DWI_no-ZOOMit", "GRE-T1w" and "GRE-T1"). Anything less is left unpaired, never guessed."""
    from difflib import SequenceMatcher

    def name(acq: Acquisition) -> str:
        return re.sub(r"[^a-z0-9]+", " ", acq.name.lower()).strip()

    out: dict[int, Acquisition] = {}
    families = {a.get("sequence_family") for a in left} & {b.get("sequence_family") for b in right} - {None}
    for family in sorted(families):
        xs = [a for a in left if a.get("sequence_family") == family]
        ys = [b for b in right if b.get("sequence_family") == family]
        if len(xs) == 1 and len(ys) == 1:
            out[id(xs[0])] = ys[0]
            continue
        # Names first; between names alike ("GRE-MT1" and "GRE-T1w" are as near to "GRE-T1"), the values both
        # state alike: a pairing that never depends on the order the series were listed in.
        ratio = {(id(x), id(y)): SequenceMatcher(None, name(x), name(y)).ratio() for x in xs for y in ys}
        alike = {(id(x), id(y)): _values_alike(x, y) for x in xs for y in ys}
        for x in xs:
            best = max(ys, key=lambda y: (ratio[(id(x), id(y))], alike[(id(x), id(y))]))
            mutual = max(xs, key=lambda z: (ratio[(id(z), id(best))], alike[(id(z), id(best))])) is x
            if mutual and ratio[(id(x), id(best))] >= 0.6:
                out[id(x)] = best
    return out


def _values_alike(a: Acquisition, b: Acquisition) -> int:
    """How many canonical values the two series both state alike (to 1 %): a tie-break between names alike."""

    def same(x: Any, y: Any) -> bool:
        if (
            isinstance(x, bool)
            or isinstance(y, bool)
            or not isinstance(x, int | float)
            or not isinstance(y, int | float)
        ):
            return x == y
        return abs(x - y) <= 0.01 * max(abs(x), abs(y))

    return sum(1 for k in set(a.params) & set(b.params) if k != "series_description" and same(a.params[k], b.params[k]))


def _both_sides(d: Difference) -> dict[str, Any]:
    """One parameter's two values, canonical and in each console's words (a difference or a caveat)."""
    return {"param": d.param, "a": d.a, "b": d.b, "a_console": d.a_console or None, "b_console": d.b_console or None}


def to_json(c: Comparison) -> dict[str, Any]:
    return {
        "a": {"source": c.a_source, "scanner": c.a_scanner},
        "b": {"source": c.b_source, "scanner": c.b_scanner},
        "same": c.same,
        "pairs": [
            {
                "key": p.key,
                "a": p.a.name if p.a else None,
                "b": p.b.name if p.b else None,
                "differences": [_both_sides(d) for d in p.differences],
                "same": p.same,
                "side_by_side": [_both_sides(d) | {"caveat": d.caveat} for d in p.caveats],
                "one_side_only": [
                    {"param": o.param, "side": o.side, "value": o.value, "console": o.console or None}
                    for o in p.one_sided
                ],
            }
            for p in c.pairs
        ],
        "generator": f"ofsep-presets {__version__}",  # the mark `--out` recognises (reportfile.py)
    }


def to_table(c: Comparison, colour: bool = False) -> str:
    import click

    def scanner(s: dict[str, Any]) -> str:
        return " ".join(str(s.get(k, "")) for k in ("manufacturer", "model", "field_strength_t")).strip()

    lines = [f"A: {c.a_source} ({scanner(c.a_scanner)})", f"B: {c.b_source} ({scanner(c.b_scanner)})", ""]
    for p in c.pairs:
        if p.a is None or p.b is None:
            side = "A" if p.a is not None else "B"
            name = (p.a or p.b).name
            lines.append(
                click.style(f"only in {side}: {p.key} ({name!r})", fg="yellow")
                if colour
                else f"only in {side}: {p.key} ({name!r})"
            )
            continue
        head = f"{p.key}: {p.a.name!r} vs {p.b.name!r} — "
        head += f"{len(p.differences)} difference(s), {len(p.same)} same" if p.differences else f"same ({len(p.same)})"
        lines.append(click.style(head, bold=True) if colour and p.differences else head)
        for d in p.differences:
            consoles = f"   [{d.a_console or '—'} | {d.b_console or '—'}]" if d.a_console or d.b_console else ""
            text = f"    {d.param}: {_show(d.a)} → {_show(d.b)}{consoles}"
            lines.append(click.style(text, fg="red") if colour else text)
        if p.caveats:
            lines.append("  side by side, not compared (the vendors mean different things):")
            for d in p.caveats:
                lines.append(f"    {d.param}: A {_show(d.a)} | B {_show(d.b)} — {d.caveat}")
        if p.one_sided:
            shown = ", ".join(f"{o.param} {_show(o.value)} ({o.side})" for o in p.one_sided)
            lines.append(f"  stated on one side only: {shown}")
    lines.append("")
    lines.append("Same." if c.same else "Different.")
    return "\n".join(lines) + "\n"


def to_csv(c: Comparison) -> str:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["key", "a", "b", "param", "a_value", "b_value", "a_console", "b_console", "kind", "caveat"])
    for p in c.pairs:
        a, b = (p.a.name if p.a else ""), (p.b.name if p.b else "")
        if not p.differences and not p.caveats and not p.one_sided:
            writer.writerow(safe_cells([p.key, a, b, "", "", "", "", "", "", ""]))
        for d in p.differences:
            writer.writerow(
                safe_cells([p.key, a, b, d.param, _show(d.a), _show(d.b), d.a_console, d.b_console, "difference", ""])
            )
        for d in p.caveats:
            row = [p.key, a, b, d.param, _show(d.a), _show(d.b), d.a_console, d.b_console, "side by side", d.caveat]
            writer.writerow(safe_cells(row))
        for o in p.one_sided:
            values = (_show(o.value), "") if o.side == "A" else ("", _show(o.value))
            consoles = (o.console, "") if o.side == "A" else ("", o.console)
            writer.writerow(safe_cells([p.key, a, b, o.param, *values, *consoles, "one side only", ""]))
    return out.getvalue()


def write(c: Comparison, fmt: str, colour: bool = False) -> str:
    writers = {
        "json": lambda: strict_json(to_json(c), warnings_key=None) + "\n",
        "csv": lambda: printable(to_csv(c)),
        "html": lambda: page("common/compare.html.j2", to_json(c), c=c),
    }
    return writers.get(fmt, lambda: printable(to_table(c, colour)))()
