"""render -> inspect: every sheet still in a format of our own (Philips, Canon) reads back to the spec's own
values, through the vendor's units."""

from __future__ import annotations

import pytest

from ofsep_presets.readers import inspect_path
from ofsep_presets.render import Selection, render
from ofsep_presets.rules import Constraint
from ofsep_presets.vendors import all_vendors

SHEETS = {
    "siemens": "protocol.xml",
    "philips": "examcard-printout.txt",
    "ge": "LxProtocol.txt",
    "canon": "parameter-sheet.csv",
}


READ_PARTS, PHASE_PARTS = {"read", "read_cm"}, {"phase", "phase_percent", "phase_ratio"}


def expressible(vendor, param: str) -> bool:
    """Whether this console's fields can state the whole canonical value (both halves of FOV/matrix)."""
    if param == "sequence_family":
        return True
    converts = {f.convert for f in vendor.fields_for(param)}
    if not converts:
        return False  # no field for it on this console (e.g. contrast agent)
    if converts & (READ_PARTS | PHASE_PARTS):
        return bool(converts & READ_PARTS) and bool(converts & PHASE_PARTS)
    return True


@pytest.fixture(scope="module")
def sheets(tmp_path_factory, spec):
    out = tmp_path_factory.mktemp("sheets") / "out"
    render(spec, out, Selection(formats=("sheet",)))
    return out


def test_every_sheet_reads_back_to_the_spec(sheets, spec):
    compared, ours = 0, 0
    for vendor_id in spec.vendors:
        vendor = all_vendors()[vendor_id]
        if not vendor.document["format"].startswith("ofsep-"):
            continue  # a sheet in the vendor's real format: read by that format's reader in test_sheet_roundtrip.py
        ours += 1
        for field_t in spec.field_strengths_t:
            for variant in spec.variants():
                path = sheets / vendor_id / f"{'1.5' if field_t == 1.5 else '3'}T" / variant.key / SHEETS[vendor_id]
                [inspection] = inspect_path(path)
                assert inspection.format == vendor.document["format"]
                read = {a.name: a for a in inspection.acquisitions}
                assert list(read) == [s for s in variant.order if s != "gadolinium"]
                for seq_id, acq in read.items():
                    assert acq.get("field_strength_t") == field_t
                    for param, target in spec.sequences[seq_id].targets(vendor_id, field_t).items():
                        if param in vendor.words and target.value not in vendor.reading(param).values():
                            continue  # the console's word is shared (Philips fold-over "AP" for AP and PA): absent
                        if not expressible(vendor, param):
                            # Known gap: the Siemens card has Base resolution but no Phase resolution field yet.
                            continue
                        expected = tuple(target.value) if isinstance(target.value, list) else target.value
                        # Console display precision (e.g. water-fat shift to 0.01 px) bounds the round trip.
                        rule = Constraint(param, "eq", expected, "spec", rtol=0.002)
                        assert rule.evaluate(acq.get(param)) == "pass", (
                            vendor_id,
                            field_t,
                            seq_id,
                            param,
                            acq.get(param),
                            target.value,
                        )
                        compared += 1
    # About 300 values per vendor (the three-vendor 800 of before); Siemens and GE, whose sheets are in the
    # vendor's real format, are compared by that format's reader in test_sheet_roundtrip.py.
    assert ours == 0 or compared >= 250 * ours, (compared, ours)
