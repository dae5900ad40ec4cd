"""Vendor vocabularies (protocol_spec/vendors/*.yaml): labels, units, conversions, card layout, product names.

Adding a vendor is adding a YAML file and a template folder; nothing here knows a particular vendor.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .resources import spec_dir
from .yamlload import load_yaml


@dataclass(frozen=True)
class Field:
    """One line of a vendor card: a canonical parameter shown under the vendor's label, unit and conversion."""

    param: str
    label: str
    unit: str | None = None
    convert: str | None = None
    decimals: int | None = None
    key: str | None = None
    aliases: tuple[str, ...] = ()  # other spellings the vendor prints (VE vs XA), for reading only
    # The console's own word for the same field on another kind of sequence (Siemens "Slices per slab" on a 3D,
    # "EPI factor" on an EPI; Philips "TSE factor" / "TFE factor" / "EPI factor"): the first that applies.
    variants: tuple[LabelVariant, ...] = ()
    printout: str | None = None  # the vendor printout the label is printed in (evidence, for the tests)

    def named(self, label: str) -> bool:
        """Whether a printed label is this field's, in any spelling or case the vendor uses."""
        wanted = " ".join(label.split()).casefold()
        names = (self.label, self.key, *self.aliases, *(v.label for v in self.variants))
        return any(wanted == name.casefold() for name in names if name)

    def label_for(self, acquisition_type: str | None, families: tuple[str, ...] | list[str]) -> str:
        """The label this console prints for a sequence of that dimension and family."""
        return self.resolved(acquisition_type, families).label

    def resolved(self, acquisition_type: str | None, families: tuple[str, ...] | list[str]) -> Field:
        """This field as the console shows it for a sequence of that dimension and family: the variant's label,
        and its own unit and conversion where it has them (Philips shows an EPI's bandwidth in Hz along the
        readout, "BW in EPI freq. dir.", where other scans show a water-fat shift in pixels)."""
        variant = next((v for v in self.variants if v.applies(acquisition_type, families)), None)
        return self if variant is None else variant.applied_to(self)

    def as_printed(self, label: str) -> Field:
        """This field as a printed `label` of it means it (a variant's label brings its unit and conversion)."""
        wanted = " ".join(label.split()).casefold()
        variant = next((v for v in self.variants if v.label.casefold() == wanted), None)
        return self if variant is None else variant.applied_to(self)


@dataclass(frozen=True)
class LabelVariant:
    """Another label of one field, printed for some sequences only (by dimension and/or family)."""

    label: str
    acquisition_type: str | None = None
    families: tuple[str, ...] = ()
    printout: str | None = None
    # What this label shows differently, when it does (YAML keys present; `convert: null` = the canonical unit).
    shows: tuple[tuple[str, Any], ...] = ()

    def applied_to(self, f: Field) -> Field:
        return dataclasses.replace(f, label=self.label, variants=(), **dict(self.shows))

    def applies(self, acquisition_type: str | None, families: tuple[str, ...] | list[str]) -> bool:
        if self.acquisition_type is not None and acquisition_type != self.acquisition_type:
            return False
        return not self.families or any(f in self.families for f in families)


@dataclass(frozen=True)
class Card:
    name: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Meaning:
    """What a canonical parameter means on one vendor's console where another vendor's same word means otherwise
    (a Philips 3D T1-TFE "TR" is the echo spacing; a Siemens MPRAGE TR the interval between inversions)."""

    param: str
    means: dict[str, str]
    source: str
    families: tuple[str, ...] = ()  # only for these sequence families; empty = always
    # not for these: where the console states the value itself (a Philips EPI's readout bandwidth in Hz)
    except_families: tuple[str, ...] = ()
    # The canonical meaning itself (Siemens's Hz per pixel): said beside another vendor's different meaning, but
    # on its own no reason not to compare.
    canonical: bool = False

    def applies(self, param: str, family: str | None) -> bool:
        return (
            param == self.param
            and (not self.families or family in self.families)
            and family not in self.except_families
        )


@dataclass(frozen=True)
class Vendor:
    id: str
    name: str
    console: str
    verified: bool
    document: dict[str, Any]
    families: dict[str, tuple[str, ...]]
    words: dict[str, dict[str, str]]
    cards: tuple[Card, ...]
    meanings: tuple[Meaning, ...] = ()
    # What a console word means where several canonical values print as that word (`readings` in the YAML).
    readings: dict[str, dict[str, str]] = field(default_factory=dict)

    def reading(self, param: str) -> dict[str, str]:
        """Console word -> canonical value. A word several values share (GE "A/P" for AP and PA) tells none of
        them and is left out, unless the vendor file says what the console means by it (Siemens "Fat sat.")."""
        keys: dict[str, list[str]] = {}
        for key, word in self.words.get(param, {}).items():
            keys.setdefault(word, []).append(key)
        out = {word: found[0] for word, found in keys.items() if len(found) == 1}
        out.update(self.readings.get(param, {}))
        return out

    def meaning(self, param: str, family: str | None) -> Meaning | None:
        return next((m for m in self.meanings if m.applies(param, family)), None)

    def fields(self) -> list[Field]:
        return [f for card in self.cards for f in card.fields]

    def fields_for(self, param: str) -> list[Field]:
        return [f for f in self.fields() if f.param == param]

    def products(self, family: str) -> tuple[str, ...]:
        return self.families.get(family, ())


def _load(path) -> Vendor:
    data = load_yaml(path)
    return Vendor(
        id=data["vendor"],
        name=data["name"],
        console=data["console"],
        verified=bool(data.get("verified", False)),
        document=dict(data["document"]),
        families={k: tuple(v) for k, v in data.get("families", {}).items()},
        words={k: {str(a): str(b) for a, b in v.items()} for k, v in data.get("words", {}).items()},
        cards=tuple(Card(card["card"], tuple(_field(f) for f in card["fields"])) for card in data["cards"]),
        meanings=tuple(
            Meaning(
                m["param"],
                dict(m["means"]),
                str(m["source"]),
                tuple(m.get("families", [])),
                tuple(m.get("except_families", [])),
                bool(m.get("canonical", False)),
            )
            for m in data.get("meanings", [])
        ),
        readings={k: {str(a): str(b) for a, b in v.items()} for k, v in data.get("readings", {}).items()},
    )


def _field(data) -> Field:
    values = dict(data)
    values["aliases"] = tuple(values.get("aliases", ()))
    values["variants"] = tuple(
        LabelVariant(
            str(v["label"]),
            v.get("acquisition_type"),
            tuple(v.get("families", ())),
            v.get("printout"),
            tuple((k, v[k]) for k in ("unit", "convert", "decimals") if k in v),
        )
        for v in values.get("variants", ())
    )
    return Field(**values)


@cache
def all_vendors() -> dict[str, Vendor]:
    vendors = {}
    for path in sorted((spec_dir() / "vendors").glob("*.yaml")):
        vendor = _load(path)
        vendors[vendor.id] = vendor
    return vendors


def vendor(vendor_id: str) -> Vendor:
    try:
        return all_vendors()[vendor_id]
    except KeyError:
        raise KeyError(f"unknown vendor {vendor_id!r}; known: {', '.join(all_vendors())}") from None
