"""The region contract between the spec and the exam model: every bundled exam says which body region it images,
and the vocabulary of regions is one list (schema, regions.yaml, the Acquisition comment)."""

from __future__ import annotations

import json

import pytest

from ofsep_presets.regions import REGIONS, admits, region_of_body_part, regions_named, vocabulary
from ofsep_presets.resources import spec_dir
from ofsep_presets.spec import load_spec

# The region of each bundled exam, from the documents the specs cite: OFSEP 2020 (brain MRI, spinal cord MRI),
# MAGNIMS-CMSC-NAIMS 2021 (brain, spinal cord, optic nerve), MY-RADS 2019 (whole-body), spine-generic (cervical cord).
EXPECTED = {
    "ofsep-2020": {"brain": "brain", "spine": "spine"},
    "magnims-2021": {"brain": "brain", "spine": "spine", "optic_nerve": "orbits"},
    "myrads-2019": {"whole_body": "whole-body"},
    "spine-generic": {"spine": "spine"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_bundled_exam_and_sequence_has_its_region(name):
    spec = load_spec(name)
    assert {e.id: e.region for e in spec.exams.values()} == EXPECTED[name]
    for seq in spec.sequences.values():
        assert seq.exam in spec.exams, seq.id
        assert seq.region == spec.exams[seq.exam].region, seq.id


def test_the_region_names_are_one_list():
    schema = json.loads((spec_dir() / "schema" / "spec.schema.json").read_text())
    assert tuple(schema["$defs"]["exam"]["properties"]["region"]["enum"]) == REGIONS
    assert set(vocabulary()) == set(REGIONS)


def test_a_known_other_region_vetoes_and_unknown_vetoes_nothing():
    spec = load_spec("magnims-2021")
    brain_dwi, optic = spec.sequences["mag.brain.dwi"], spec.sequences["mag.optic.t2fs_ax"]
    assert brain_dwi.admits_region(None) and brain_dwi.admits_region("brain")
    assert not brain_dwi.admits_region("spine") and not brain_dwi.admits_region("other")
    assert not brain_dwi.admits_region("orbits")
    assert optic.admits_region("brain")  # the orbits are imaged in the head program
    assert not optic.admits_region("spine")
    assert admits("whole-body", "spine") and not admits("spine", "whole-body")


def test_the_vocabulary_reads_whole_words_in_both_languages():
    assert regions_named("\\\\USER\\Head\\MS protocol") == {"brain": "head"}
    assert regions_named("IRM médullaire") == {"spine": "medullaire"}
    assert regions_named("Genou droit") == {"other": "genou"}
    assert regions_named("headache") == {}  # a word, not a substring
    assert regions_named("Nerfs optiques T2 FS") == {"orbits": "nerfs optiques"}
    assert region_of_body_part("CSPINE") == "spine" and region_of_body_part("BRAIN") == "brain"
    assert region_of_body_part("KNEE") == "other" and region_of_body_part("XYZ") is None
