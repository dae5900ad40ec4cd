"""Every unit and representation conversion between canonical values and a vendor's console values.

This is the only module that converts units. Vendor vocabularies (protocol_spec/vendors/*.yaml) name a
conversion per field; renderers call `to_vendor`, readers call `from_vendor`, and requirement bounds go through
`bound_to_vendor`, which knows when a conversion reverses an inequality (a wider bandwidth is a *smaller*
Philips water-fat shift).

Conversions that need another parameter (Siemens distance factor needs the slice thickness, GE ±kHz needs the
read matrix, Philips water-fat shift needs the field strength) return None when it is absent: a value we cannot
compute is left out, never guessed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

# Fat-water chemical shift used by Philips to state bandwidth as a water-fat shift in pixels: 3.4 ppm of the
# proton Larmor frequency (42.577 MHz/T). Checked on the R5.3 printout in the fixtures: "Act. WFS (pix) / BW (Hz)
# 2.268 / 191.5" at 3 T -> 2.268 x 191.5 = 434.3 Hz = 3.4e-6 x 42.577e6 x 3.0.
FAT_WATER_PPM = 3.4
GYROMAGNETIC_MHZ_PER_T = 42.577


def fat_water_shift_hz(field_strength_t: float) -> float:
    return FAT_WATER_PPM * GYROMAGNETIC_MHZ_PER_T * field_strength_t


def field_from_proton_larmor_hz(frequency_hz: float) -> float:
    """B0 in tesla from the proton (1H) transmit frequency: f = gamma-bar x B0."""
    return frequency_hz / (GYROMAGNETIC_MHZ_PER_T * 1e6)


# The nominal field classes a header's raw B0 stands for, each with the band it is read in: Siemens protocols state
# 1.494 T for a 1.5 T, 2.89 T for a 3 T and 6.98 T for a 7 T system (sProtConsistencyInfo.flNominalB0), where
# dcm2niix's sidecars of the same systems say 1.5, 3 and 7 (a Siemens 7 T BOLD: MagneticFieldStrength 7 beside
# ImagingFrequency 297.23 MHz, i.e. 6.98 T; OpenNeuro ds005345). Each class is read within 15 % of its value, so
# a 1.2 T or 1.0 T system is not taken for a 1.5 T one, nor a 0.55 T for anything.
NOMINAL_FIELDS_T: tuple[float, ...] = (1.5, 3.0, 7.0)
NOMINAL_BAND = 0.15


def nominal_field_t(b0: float) -> float:
    """The nominal field (1.5, 3 or 7 T) a raw B0 in tesla stands for, since a spec and a printout name the class,
    not the magnet's exact value; any other value as it is, to 0.01 T (no class is guessed for it). The one table
    of classes: readers and `check` alike."""
    for nominal in NOMINAL_FIELDS_T:
        if abs(b0 - nominal) <= NOMINAL_BAND * nominal:
            return nominal
    return round(b0, 2)


Context = Mapping[str, Any]


@dataclass(frozen=True)
class Conversion:
    """A pair of functions canonical -> vendor and back; `decreasing` flips <= and >= on bounds."""

    to_vendor: Callable[[Any, Context], Any]
    from_vendor: Callable[[Any, Context], Any] | None = None
    bound: Callable[[float, Context], Any] | None = None
    decreasing: bool = False


def _pair(value: Any, index: int) -> Any:
    if isinstance(value, list | tuple):
        return value[index] if len(value) > index else None
    return value


def _need(ctx: Context, name: str) -> Any:
    value = ctx.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return value


def _gap_percent(gap: Any, ctx: Context) -> Any:
    thickness = _need(ctx, "slice_thickness_mm")
    if gap is None or not thickness:
        return None
    return 100.0 * float(gap) / float(thickness)


def _gap_from_percent(percent: Any, ctx: Context) -> Any:
    thickness = _need(ctx, "slice_thickness_mm")
    if percent is None or thickness is None:
        return None
    return float(percent) * float(thickness) / 100.0


def _rbw_khz(hz_px: Any, ctx: Context) -> Any:
    # GE receiver bandwidth is ±kHz over the read matrix: Hz/px = 2 * RBW * 1000 / MATRIXX.
    read = _need(ctx, "matrix")
    if hz_px is None or not read:
        return None
    return float(hz_px) * float(read) / 2000.0


def _rbw_from_khz(khz: Any, ctx: Context) -> Any:
    read = _need(ctx, "matrix")
    if khz is None or not read:
        return None
    return 2000.0 * float(khz) / float(read)


def _wfs_pixels(hz_px: Any, ctx: Context) -> Any:
    field = ctx.get("field_strength_t")
    if hz_px is None or not field or not float(hz_px):
        return None
    return fat_water_shift_hz(float(field)) / float(hz_px)


def _phase_percent(fov: Any, ctx: Context) -> Any:
    if not isinstance(fov, list | tuple) or len(fov) < 2 or not fov[0]:
        return None
    return 100.0 * float(fov[1]) / float(fov[0])


def _phase_ratio(fov: Any, ctx: Context) -> Any:
    percent = _phase_percent(fov, ctx)
    return None if percent is None else percent / 100.0


def _phase_resolution(matrix: Any, ctx: Context) -> Any:
    """Siemens "Phase resolution" (%): the phase pixel relative to the read pixel, so that the phase lines are
    base resolution x phase resolution x FoV phase / FoV read (the arithmetic `ascconv` reads the export with)."""
    fov = ctx.get("fov_mm")
    if not isinstance(matrix, list | tuple) or len(matrix) < 2 or not isinstance(fov, list | tuple) or len(fov) < 2:
        return None
    if not (matrix[0] and fov[1]):
        return None
    return 100.0 * float(matrix[1]) * float(fov[0]) / (float(matrix[0]) * float(fov[1]))


def phase_lines(base: float, phase_resolution_pct: float, fov: list[float]) -> int:
    """The acquired phase lines from Siemens' base resolution, phase resolution (%) and FoV [read, phase]."""
    return round(base * phase_resolution_pct / 100.0 * fov[1] / fov[0])


def _eighths(fraction: Any, ctx: Context) -> Any:
    """Siemens partial Fourier: 1.0 -> 'Off', 0.875 -> '7/8'."""
    if fraction is None:
        return None
    f = float(fraction)
    if math.isclose(f, 1.0):
        return "Off"
    eighth = Fraction(round(f * 8), 8)
    return f"{round(f * 8)}/8" if math.isclose(float(eighth), f, abs_tol=1e-3) else f


def _from_eighths(text: Any, ctx: Context) -> Any:
    s = str(text).strip()
    if s.lower() == "off":
        return 1.0
    if "/" in s:
        num, den = s.split("/", 1)
        return float(num) / float(den)
    return float(s)


def _split_numbers(text: Any) -> list[float]:
    return [
        float(x)
        for x in str(text)
        .replace("x", " ")
        .replace("×", " ")
        .replace("/", " ")
        .replace(";", " ")
        .replace(",", " ")
        .split()
        if x
    ]


CONVERSIONS: dict[str, Conversion] = {
    "identity": Conversion(lambda v, c: v, lambda v, c: v, lambda b, c: b),
    "read": Conversion(lambda v, c: _pair(v, 0), None, lambda b, c: b),
    "phase": Conversion(lambda v, c: _pair(v, 1), None, lambda b, c: b),
    "read_cm": Conversion(
        lambda v, c: None if _pair(v, 0) is None else float(_pair(v, 0)) / 10.0,
        lambda v, c: float(v) * 10.0,
        lambda b, c: float(b) / 10.0,
    ),
    "phase_percent": Conversion(_phase_percent),
    "phase_ratio": Conversion(_phase_ratio),
    "phase_resolution": Conversion(_phase_resolution),
    "gap_percent": Conversion(_gap_percent, _gap_from_percent, _gap_percent),
    "rbw_khz": Conversion(_rbw_khz, _rbw_from_khz, _rbw_khz),
    "wfs_pixels": Conversion(_wfs_pixels, _wfs_pixels, _wfs_pixels, decreasing=True),
    "eighths": Conversion(_eighths, _from_eighths),
    # Representations of list values; a scalar bound applies to every element.
    "voxel_text": Conversion(lambda v, c: v, lambda v, c: _split_numbers(v), lambda b, c: b),
    "voxel_text_slash": Conversion(lambda v, c: v, lambda v, c: _split_numbers(v), lambda b, c: b),
    "pair_text": Conversion(lambda v, c: v, lambda v, c: _split_numbers(v), lambda b, c: b),
    "pair_text_phase_first": Conversion(
        lambda v, c: list(reversed(v)) if isinstance(v, list | tuple) else v,
        lambda v, c: list(reversed(_split_numbers(v))),
        lambda b, c: b,
    ),
    "list": Conversion(lambda v, c: v, lambda v, c: _split_numbers(v), lambda b, c: b),
    "ge_b_values": Conversion(lambda v, c: v, lambda v, c: _split_numbers(v), lambda b, c: b),
}

# How a list is joined on each vendor's console, by conversion name.
_JOINERS = {
    "voxel_text": "×",
    "voxel_text_slash": " / ",
    "pair_text": " x ",
    "pair_text_phase_first": " x ",
    "list": ", ",
    "ge_b_values": ";",
}


# Scale factors from units found in inputs to the canonical unit of the same dimension.
_SCALES = {
    ("s", "ms"): 1000.0,
    ("us", "ms"): 0.001,
    ("ms", "ms"): 1.0,
    ("cm", "mm"): 10.0,
    ("mm", "mm"): 1.0,
    ("m", "mm"): 1000.0,
    ("T", "T"): 1.0,
    ("G", "T"): 1e-4,  # GE session.xml MRSessionData "fieldstrength" is in gauss: 30000 for a 3 T MR750
    ("deg", "deg"): 1.0,
    ("s", "s"): 1.0,
    ("ms", "s"): 0.001,
}


def to_unit(value: float | list, unit: str, canonical: str) -> float | list:
    """A number (or list) in `unit` expressed in `canonical` (e.g. DICOM/BIDS seconds -> ms, ASCCONV us -> ms)."""
    try:
        factor = _SCALES[(unit, canonical)]
    except KeyError:
        raise ValueError(f"no conversion from {unit} to {canonical}") from None
    if isinstance(value, list | tuple):
        return [_clean(float(v) * factor) for v in value]
    return _clean(float(value) * factor)


def _clean(x: float) -> float:
    """Drop binary noise a scale factor adds (0.00298 s * 1000 = 2.9800000000000004 ms)."""
    return float(f"{x:.10g}")


def conversion(name: str | None) -> Conversion:
    try:
        return CONVERSIONS[name or "identity"]
    except KeyError:
        raise KeyError(f"unknown conversion {name!r}; known: {', '.join(sorted(CONVERSIONS))}") from None


def format_number(value: float | int, decimals: int | None) -> str:
    """Fixed decimals, rounded half up as consoles do (Siemens prints FoV phase 81.25 % as '81.3 %', where
    Python's own rounding would give '81.2'); negative zero is printed as zero."""
    if decimals is None:
        text = repr(float(value)) if isinstance(value, float) else str(value)
        return text[:-2] if text.endswith(".0") else text
    exact = Decimal(repr(float(value)))
    text = str(exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))
    return text[1:] if text.startswith("-") and Decimal(text) == 0 else text


def to_vendor(value: Any, convert: str | None, ctx: Context) -> Any:
    return conversion(convert).to_vendor(value, ctx)


def from_vendor(value: Any, convert: str | None, ctx: Context) -> Any:
    conv = conversion(convert)
    if conv.from_vendor is None:
        raise ValueError(f"conversion {convert!r} cannot be read back")
    return conv.from_vendor(value, ctx)


def bound_to_vendor(bound: float, op: str, convert: str | None, ctx: Context) -> tuple[str, Any] | None:
    """A requirement bound in vendor terms: ('<=', 0.1) etc., or None when it cannot be stated that way."""
    conv = conversion(convert)
    if conv.bound is None:
        return None
    value = conv.bound(bound, ctx)
    if value is None:
        return None
    if conv.decreasing:
        op = {"le": "ge", "ge": "le"}.get(op, op)
    return op, value


def display(value: Any, convert: str | None, decimals: int | None, words: Mapping[str, str] | None = None) -> str:
    """Text of an already converted vendor value, as that console would print it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        key = "true" if value else "false"
        return str((words or {}).get(key, key))
    if isinstance(value, list | tuple):
        joiner = _JOINERS.get(convert or "", ", ")
        return joiner.join(display(v, None, decimals, words) for v in value)
    if isinstance(value, int | float):
        return format_number(value, decimals)
    text = str(value)
    return str(words.get(text, text)) if words else text


# Reading a vendor sheet back: some canonical lists are split over two console fields (FoV read + FoV phase %,
# Freq + Phase). Each such conversion fills one element, possibly from the element already read.
def vendor_part(convert: str | None, vendor_value: float, partial: list[float | None]) -> bool:
    """Fill `partial` ([read, phase]) from one console field; False when this conversion is not a part."""
    if convert in ("read", "read_cm"):
        partial[0] = vendor_value * (10.0 if convert == "read_cm" else 1.0)
    elif convert == "phase":
        partial[1] = vendor_value
    elif convert in ("phase_percent", "phase_ratio"):
        if partial[0] is None:
            return True  # wait for the read value (fields are read in card order: read comes first)
        partial[1] = _clean(partial[0] * vendor_value / (100.0 if convert == "phase_percent" else 1.0))
    else:
        return False
    return True
