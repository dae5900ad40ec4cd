"""Values that follow from what was read, computed in one place for every format: the acquired voxel.

A console's voxel size is arithmetic on the geometry it was given: FoV over the acquired matrix in-plane, the
slice (or partition) thickness over the slice resolution through the slab. Every reader exposes those
ingredients as canonical parameters (`fov_mm` [read, phase], `matrix` [read, phase] acquired, `base_resolution`,
`phase_resolution_pct`, `slice_resolution_pct`, `slice_thickness_mm`, `interpolation`); this module does the
arithmetic once, and the provenance shows it, so a physicist can redo it by hand.

The acquired voxel is what a protocol's resolution requirement is about: interpolation (Siemens
"Interpolation", GE ZIP, Philips reconstruction matrix, a DICOM's PixelSpacing) makes smaller pixels, not finer
detail. A DICOM series' reconstructed voxel stays beside it (`reconstructed_voxel_mm`); only when the input
states no acquired matrix does `voxel_size_mm` fall back to the reconstructed one, and its provenance says so.
"""

from __future__ import annotations

from .acquisition import Acquisition

DECIMALS = 4


def _mm(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def fill_derived(acq: Acquisition) -> None:
    """Set `voxel_size_mm` to the acquired voxel where the acquisition's own numbers tell it."""
    voxel = acquired_voxel(acq)
    if voxel is not None:
        acq.set("voxel_size_mm", voxel[0], voxel[1])
        return
    recon = acq.get("reconstructed_voxel_mm")
    if recon is not None and acq.get("voxel_size_mm") is None:
        acq.set(
            "voxel_size_mm",
            recon,
            f"reconstructed voxel (the input states no acquired matrix): {acq.provenance['reconstructed_voxel_mm']}",
        )


def acquired_voxel(acq: Acquisition) -> tuple[list[float], str] | None:
    """([read, phase, slice] mm, the arithmetic) from FoV, matrix / resolution and thickness; None if unknown."""
    fov, matrix = acq.get("fov_mm"), acq.get("matrix")
    thickness = acq.get("slice_thickness_mm")
    if not fov or not thickness or min(fov) <= 0 or thickness <= 0:
        return None
    base, phase_pct = acq.get("base_resolution"), acq.get("phase_resolution_pct")
    if base and phase_pct:
        # The console's own arithmetic (Siemens): read = FoV read / base; phase = FoV read / (base × phase res),
        # since the phase lines are base × phase res × FoV phase / FoV read.
        read = fov[0] / base
        phase = fov[0] / (base * phase_pct / 100.0)
        in_plane = (
            f"FoV read {_mm(fov[0])} mm / base {base} = {_mm(read)} mm; "
            f"FoV read {_mm(fov[0])} mm / (base {base} × phase res {phase_pct:g} %) = {_mm(phase)} mm"
        )
    elif matrix and min(matrix) > 0:
        read, phase = fov[0] / matrix[0], fov[1] / matrix[1]
        in_plane = (
            f"FoV {_mm(fov[0])} × {_mm(fov[1])} mm / acquired matrix {matrix[0]} × {matrix[1]} "
            f"= {_mm(read)} × {_mm(phase)} mm"
        )
    else:
        return None
    slice_pct = acq.get("slice_resolution_pct")
    if acq.get("acquisition_type") == "3D" and slice_pct and slice_pct != 100:
        z = thickness / (slice_pct / 100.0)
        through = f"partition {_mm(thickness)} mm / slice res {slice_pct:g} % = {_mm(z)} mm"
    else:
        z = thickness
        through = f"{'partition' if acq.get('acquisition_type') == '3D' else 'slice'} {_mm(thickness)} mm"
    notes = []
    if acq.get("interpolation"):
        notes.append("interpolation on: the images have half the in-plane pixel, not more detail")
    recon = acq.get("reconstructed_voxel_mm")
    if recon is not None:
        notes.append(f"reconstructed {' × '.join(_mm(v) for v in recon)} mm")
    text = f"acquired voxel: {in_plane}; {through}" + "".join(f" ({n})" for n in notes)
    return [round(read, DECIMALS), round(phase, DECIMALS), round(z, DECIMALS)], text
