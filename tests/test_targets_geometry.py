"""What a card sets: a real scan's slice count (a sidecar's SliceTiming) sits beside the derived in-plane
geometry; a scan's own FOV, matrix or voxel replaces the derived set whole (spec.Sequence.targets)."""

from __future__ import annotations

from ofsep_presets.spec import _geometry_contradicted, load_spec


def test_a_suggested_slice_count_keeps_the_derived_fov_matrix_and_voxel():
    nominal = {"fov_mm": [256, 256], "matrix": [128, 128], "voxel_size_mm": [2, 2, 2], "slices": 60}
    assert _geometry_contradicted(nominal, {"slices": 72, "slice_thickness_mm": 2}) == set()


def test_a_suggested_fov_replaces_the_derived_geometry_set():
    nominal = {"fov_mm": [256, 256], "matrix": [128, 128], "voxel_size_mm": [2, 2, 2], "slices": 60}
    assert _geometry_contradicted(nominal, {"fov_mm": [220, 220]}) == {"matrix", "voxel_size_mm", "slices"}


def test_the_siemens_3t_dti_card_sets_the_reference_slice_count_and_the_derived_in_plane_geometry():
    # The ON-Harmony Prisma DTI sidecar (OpenNeuro ds004712, CC0): 72 slice times, no FOV of its own.
    spec = load_spec("ofsep-2020")
    targets = spec.sequences["brain.dti"].targets("siemens", 3.0)
    assert targets["slices"].value == 72 and targets["slices"].basis == "suggested"
    assert targets["fov_mm"].basis == "nominal" and targets["matrix"].basis == "nominal"
