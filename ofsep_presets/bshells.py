"""The nominal b-value shells of a diffusion series, from the b-value of every volume (or image) it holds.

A scanner writes each volume's *effective* b-value, the nominal one scaled by the squared norm of its gradient
vector (MRtrix3 documents this as its BValueScaling: "the common workaround is to scale the gradient vectors to
modulate the actual b-value"), so a Siemens 1000/2000 multi-shell series lists 990, 995, 1000, 1005 and
1985 ... 2010 (OpenNeuro ds004712, ON-Harmony OXF1PRI001). Those are two shells, not ten b-values: volumes are
grouped into shells as MRtrix3 does (core/dwi/shells.h: DWI_SHELLS_EPSILON, "maximum absolute difference in
b-value for two volumes to be considered to be in the same shell", 80 s/mm²), and each shell is stated by the
mean of its volumes rounded to the nearest 5 (what a console lets one set). A relative bound of 5 % keeps the
close low b-values of an IVIM or multi-b series (50, 100, 150 ...) apart, which the absolute epsilon alone would
join. A value below 25 is a b=0 (Siemens writes 5 for its b0 volumes; GE writes 0 into every series)."""

from __future__ import annotations

from collections.abc import Iterable

B0_BELOW = 25.0  # s/mm²: below it, an unweighted volume
EPSILON = 80.0  # s/mm²: MRtrix3 DWI_SHELLS_EPSILON
RELATIVE = 0.05  # and at most 5 % of the larger of two neighbouring b-values


def nominal_shells(values: Iterable[float]) -> list[float]:
    """The sorted nominal shells (0.0 first when a b=0 was acquired) of per-volume b-values."""
    every = [float(v) for v in values]
    weighted = sorted(v for v in every if v >= B0_BELOW)
    shells: list[float] = [0.0] if any(v < B0_BELOW for v in every) else []
    group: list[float] = []
    for b in weighted:
        if group and b - group[-1] > min(EPSILON, RELATIVE * b):
            shells.append(_nominal(group))
            group = []
        group.append(b)
    if group:
        shells.append(_nominal(group))
    return sorted(set(shells))


def _nominal(group: list[float]) -> float:
    return 5.0 * round(sum(group) / len(group) / 5)
