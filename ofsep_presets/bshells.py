"""The nominal b-value shells of a diffusion series, from the b-value of every volume (or image) it holds.

A scanner writes each volume's *effective* b-value, the nominal one scaled by the squared norm of its gradient
vector (MRtrix3 documents this as its BValueScaling: "the common workaround is to scale the gradient vectors to
modulate the actual b-value"), so a Siemens 1000/2000 multi-shell series lists 990, 995, 1000, 1005 and
1985 ... 2010 (OpenNeuro ds004712, ON-Harmony OXF1PRI001). Those are two shells, not ten b-values: volumes are
grouped into shells as MRtrix3 does (core/dwi/shells.h: DWI_SHELLS_EPSILON, "maximum absolute difference in
b-value for two volumes to be considered to be in the same shell", 80 s/mm²), and each shell is stated by the
roundest value its volumes span (`_nominal`). A relative bound of 5 % keeps the
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


# A console's b-value is a number an operator typed or a vendor default: of the values a shell's volumes span,
# the roundest is the one set (the ON-Harmony 2000 shell spans 1985-2010 and averages 1997.3; its protocol
# name says 2000). Coarsest step first; 5 s/mm² is the finest a shell is stated to.
_STEPS = (1000, 500, 100, 50, 10, 5)


def _nominal(group: list[float]) -> float:
    """The shell's value: the roundest number within the span of its volumes' b-values (ties: nearest their
    mean), else their mean to the nearest 5."""
    low, high, mean = min(group), max(group), sum(group) / len(group)
    for step in _STEPS:
        first, last = -(-low // step), high // step  # the multiples of `step` within [low, high]
        if first <= last:
            candidates = [k * step for k in range(int(first), int(last) + 1)]
            return float(min(candidates, key=lambda b: (abs(b - mean), b)))
    return 5.0 * round(mean / 5)
