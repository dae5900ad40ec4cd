"""Siemens ASCCONV (MrPhoenixProtocol) text: a flat parser and the mapping to canonical parameters.

Shared by every Siemens reader (DICOM CSA, .exar1, .edx, .pro, bare text). nibabel's `parse_ascconv` builds
nested objects and fails on real VE11 headers (`__attribute__` entries), so this reads the lines flat: the
dotted key as written (`sKSpace.lBaseResolution`, `alTR[0]`) -> int, float or str.

ASCCONV omits values equal to their default (a zero distance factor, the b=0 entry): where the default is
certain the canonical value is filled and its provenance says `default`.
"""

from __future__ import annotations

import math
import re
from typing import Any

from . import limits, units
from .acquisition import Acquisition

BEGIN, END = "### ASCCONV BEGIN", "### ASCCONV END ###"
_KEY = re.compile(r"[A-Za-z_][\w.\[\]]*\Z")


def find_block(text: str) -> str | None:
    """The text between the BEGIN line and the END marker, or None. Found with `str.find`, not a regex: a
    BEGIN without END (or thousands of BEGIN lines) is then one linear pass, never a backtracking search."""
    begin = text.find(BEGIN)
    if begin < 0:
        return None
    start = text.find("\n", begin)
    end = text.find(END, start) if start >= 0 else -1
    if end < 0:
        return None
    body = text[start + 1 : end]
    return body[: body.rfind("\n")] if "\n" in body else ""


def parse(text: str) -> dict[str, Any]:
    """ASCCONV lines -> {dotted key: value}; accepts the block with or without its BEGIN/END markers.

    Each line is split at its first '=' and its '#' comment with string operations (linear in the line);
    only the key, a short token, is checked by a regex anchored at its end. A protocol holds thousands of lines
    and every Siemens series representative has one: the comment and the value are split inline.
    """
    body = find_block(text)
    if body is None:
        body = text
        if BEGIN in text and not text.endswith(("\n", "\r")):
            # A BEGIN without its END: the text is cut short (a truncated copy). Its last line is cut too: a
            # "lBaseResolution = 11" cut from 112 would read as a wrong value, so it is not read at all.
            body = text[: max(text.rfind("\n"), 0)]
    values: dict[str, Any] = {}
    key_match = _KEY.match
    for line in body.splitlines():
        key, equals, raw = line.partition("=")
        if not equals:
            continue
        key = key.strip()
        if not key_match(key) or "__attribute__" in key:
            continue
        raw = raw.strip()
        if raw[:1] == '"':  # to the last quote: XA writes ""%CustomerSeq%\\name"" (quotes doubled)
            close = raw.rfind('"')
            values[key] = (raw if close <= 0 else raw[: close + 1]).strip('"')
        else:
            values[key] = _number(raw.partition("#")[0].strip())
    return values


def _number(raw: str) -> Any:
    """An unquoted value: int (decimal or 0x hex), else float, else the text. The usual cases first, without the
    exception int() raises on a float (the result is int()'s, then float()'s, as when both are tried in turn)."""
    if raw.isdigit() and raw.isascii():
        return int(raw)
    if "." not in raw:  # int() never takes a '.', with or without base 16
        try:
            return int(raw, 16) if raw[:2] in ("0x", "0X") else int(raw)
        except ValueError:
            pass
    try:
        return float(raw)
    except ValueError:
        return raw


INVERSION_OFF = 0x04
FAT_SAT = {0x01: "fatsat", 0x04: "none", 0x20: "spair", 0x40: "water_excitation", 0x02: "water_excitation"}
FAT_WATER_CONTRAST = {1: "none", 4096: "spair"}  # only the values a printout beside an export shows
# sPat.ucPATMode, the card's "PAT mode" / "Acceleration mode": 0x01 None, 0x02 GRAPPA, as the vendor's printout of
# the same protocols prints them (the VE11C, XA61 and VB17 fixtures: every step with 0x02 prints "GRAPPA", with 0x01
# "None"); 0x10 CAIPIRINHA in an XA sample (../shared/notes/vendor-terminology.md, parallel imaging). Other codes
# (mSENSE, SMS) are not confirmed by a source here: left absent.
PAT_MODE = {0x01: "none", 0x02: "grappa", 0x10: "caipirinha"}
PARTIAL_FOURIER = {0x01: 0.5, 0x02: 0.625, 0x04: 0.75, 0x08: 0.875, 0x10: 1.0}


class _Numbers(dict):
    """The parsed values as the mapping reads them: a key holding a finite number (within ±2**53) is seen; a key
    holding anything else (a word, 0x7fffffff**9, nan) is absent, and reading it leaves one warning naming it on
    the acquisition. String keys (`t...`: file names, baselines) are read as written. One bad field never costs
    the protocol, and no string reaches arithmetic (`"abc" * 0x7fffffff` would be a 2 GB string)."""

    def __init__(self, values: dict[str, Any], acq: Acquisition):
        super().__init__()
        self._bad: dict[str, Any] = {}
        self._acq = acq
        limit = 2**53
        for key, value in values.items():
            kind = type(value)  # parse gives int, float or str; -limit <= nan is False, as is inf
            if (kind is int or kind is float) and -limit <= value <= limit or key.rsplit(".", 1)[-1].startswith("t"):
                self[key] = value
            else:
                self._bad[key] = value

    def _seen(self, key: object) -> None:
        if key in self._bad:
            self._acq.warn(f"ASCCONV {key}={_short(self._bad.pop(key))} is not a number")

    def get(self, key, default=None):
        self._seen(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._seen(key)
        return super().__contains__(key)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"


def to_acquisition(values: dict[str, Any], acq: Acquisition, where: str) -> None:
    """Fill `acq` from parsed ASCCONV values; `where` prefixes every provenance ('ASCCONV', 'CSA ASCCONV')."""
    with acq.reading("ASCCONV"):
        _to_acquisition(_Numbers(values, acq), acq, where)


def _to_acquisition(values: dict[str, Any], acq: Acquisition, where: str) -> None:

    def src(key: str) -> str:
        return f"{where} {key}={values[key]}"

    def has(key: str) -> bool:
        return key in values

    dimension = values.get("sKSpace.ucDimension")
    if dimension in (2, 4):
        acq.set("acquisition_type", "2D" if dimension == 2 else "3D", src("sKSpace.ucDimension"))
    for key, param in (("alTR[0]", "repetition_time_ms"), ("alTE[0]", "echo_time_ms")):
        if has(key) and values[key]:
            acq.set(param, units.to_unit(values[key], "us", "ms"), src(key) + " us")
    _echo_times(values, acq, where)
    # ASCCONV keeps a stale alTI on sequences without inversion: trust it only when an inversion pulse is on.
    # sPrepPulses.ucInversion 0x04 = off (a TSE without IR in the fixtures), 0x02 = non-selective IR (MPRAGE).
    inversion = values.get("sPrepPulses.ucInversion")
    if inversion is not None and inversion != INVERSION_OFF and values.get("alTI[0]"):
        acq.set(
            "inversion_time_ms",
            units.to_unit(values["alTI[0]"], "us", "ms"),
            f"{src('alTI[0]')} us (sPrepPulses.ucInversion={inversion})",
        )
    if has("adFlipAngleDegree[0]"):
        acq.set("flip_angle_deg", values["adFlipAngleDegree[0]"], src("adFlipAngleDegree[0]"))
    if values.get("lTotalScanTimeSec"):  # the step's TA, as the console prints it ("TA: 4:44" = 284)
        acq.set("duration_s", float(values["lTotalScanTimeSec"]), src("lTotalScanTimeSec") + " s")
    slab = values.get("sSliceArray.asSlice[0].dThickness")
    per_slab = values.get("sKSpace.lImagesPerSlab")
    if slab is not None:
        if dimension == 4 and per_slab:
            acq.set(
                "slice_thickness_mm",
                round(slab / per_slab, 6),
                f"{where} sSliceArray.asSlice[0].dThickness={slab} (slab) / sKSpace.lImagesPerSlab={per_slab}",
            )
        elif dimension == 2:
            acq.set("slice_thickness_mm", slab, src("sSliceArray.asSlice[0].dThickness"))
    thickness = acq.get("slice_thickness_mm")
    if dimension == 2 and thickness is not None:
        if has("sGroupArray.asGroup[0].dDistFact"):
            factor = values["sGroupArray.asGroup[0].dDistFact"]
            acq.set(
                "slice_gap_mm", round(factor * thickness, 6), src("sGroupArray.asGroup[0].dDistFact") + " × thickness"
            )
        else:
            acq.set("slice_gap_mm", 0.0, f"{where} sGroupArray.asGroup[0].dDistFact absent: default 0")
    read_fov, phase_fov = (
        values.get("sSliceArray.asSlice[0].dReadoutFOV"),
        values.get("sSliceArray.asSlice[0].dPhaseFOV"),
    )
    if read_fov and phase_fov:
        acq.set(
            "fov_mm",
            [read_fov, phase_fov],
            f"{where} sSliceArray.asSlice[0].dReadoutFOV/dPhaseFOV={read_fov}/{phase_fov}",
        )
    base = values.get("sKSpace.lBaseResolution")
    if base and read_fov and phase_fov:
        # Acquired phase lines: base resolution x phase resolution x phase/read FOV (lPhaseEncodingLines counts
        # oversampled k-space lines, not the matrix the console shows).
        resolution = values.get("sKSpace.dPhaseResolution", 1.0)
        phase = round(base * resolution * phase_fov / read_fov)
        acq.set(
            "matrix",
            [base, phase],
            f"{where} sKSpace.lBaseResolution={base} × dPhaseResolution={resolution} "
            f"× dPhaseFOV/dReadoutFOV={phase_fov}/{read_fov}",
        )
    # The acquired voxel's ingredients (derived.py does the arithmetic, for every vendor in one place).
    if base:
        acq.set("base_resolution", base, src("sKSpace.lBaseResolution"))
        resolution = values.get("sKSpace.dPhaseResolution")
        acq.set(
            "phase_resolution_pct",
            round(100 * resolution, 4) if resolution is not None else 100.0,
            src("sKSpace.dPhaseResolution") if resolution is not None else f"{where} dPhaseResolution absent: 1",
        )
    if dimension == 4:
        resolution = values.get("sKSpace.dSliceResolution")
        acq.set(
            "slice_resolution_pct",
            round(100 * resolution, 4) if resolution is not None else 100.0,
            src("sKSpace.dSliceResolution") if resolution is not None else f"{where} dSliceResolution absent: 1",
        )
    if dimension in (2, 4):
        key = "sKSpace.uc2DInterpolation"  # the console's "Interpolation" (in-plane, 2D and 3D alike)
        acq.set(
            "interpolation",
            bool(values.get(key)),
            src(key) if has(key) else f"{where} {key} absent: default off",
        )
    if dimension == 4 and values.get("sKSpace.lImagesPerSlab"):
        acq.set("slices", values["sKSpace.lImagesPerSlab"], src("sKSpace.lImagesPerSlab"))
    elif dimension == 2 and values.get("sSliceArray.lSize"):
        acq.set("slices", values["sSliceArray.lSize"], src("sSliceArray.lSize"))
    dwell = values.get("sRXSPEC.alDwellTime[0]")
    if dwell and base:
        acq.set(
            "pixel_bandwidth_hz",
            round(1e9 / (dwell * base * 2), 1),
            f"{where} 1e9 / (sRXSPEC.alDwellTime[0]={dwell} ns × lBaseResolution={base} × 2)",
        )
    # Customer (WIP) sequences such as CMRR multiband keep their own settings in the WIP block; the product
    # field sSliceAcceleration.lMultiBandFactor stays 1 there, so it is not their multiband factor.
    customer = "CustomerSeq" in str(values.get("tSequenceFileName", ""))
    multiband = () if customer else (("sSliceAcceleration.lMultiBandFactor", "multiband_factor"),)
    # Fractional averages (SPACE 1.4) live only in dAveragesDouble, lAverages holding 1; but XA keeps a stale
    # dAveragesDouble 1.0 beside lAverages 2. The printouts agree with: a fractional dAveragesDouble, else lAverages.
    fractional = values.get("dAveragesDouble")
    if isinstance(fractional, float) and not fractional.is_integer():
        acq.set("averages", fractional, src("dAveragesDouble"))
    if customer:
        _cmrr_multiband(values, acq, where)
    epi = _epi_factor(values, acq, where)
    for key, param in (
        ("sPat.lAccelFactPE", "parallel_factor"),
        ("sPat.lAccelFact3D", "parallel_factor_slice"),
        *multiband,
        ("lAverages", "averages"),
    ):
        if has(key) and param not in acq.params:
            acq.set(param, values[key], src(key))
    if "averages" not in acq.params:
        acq.set("averages", 1, f"{where} lAverages absent: default 1")
    if not epi:  # an EPI's lTurboFactor is 1: its echo train is the EPI factor above
        _turbo_factor(values, acq, where)
    pf = values.get("sKSpace.ucPhasePartialFourier")
    if pf in PARTIAL_FOURIER:
        acq.set("partial_fourier", PARTIAL_FOURIER[pf], src("sKSpace.ucPhasePartialFourier"))
    fat = values.get("sPrepPulses.ucFatSat")
    if fat in FAT_SAT:
        acq.set("fat_suppression", FAT_SAT[fat], src("sPrepPulses.ucFatSat"))
    elif values.get("sPrepPulses.lFatWaterContrast") in FAT_WATER_CONTRAST:
        # XA drops ucFatSat for its "Fat-Water Contrast" choice (the XA61 printout: "Standard" = 1, "SPAIR" = 4096).
        contrast = values["sPrepPulses.lFatWaterContrast"]
        acq.set("fat_suppression", FAT_WATER_CONTRAST[contrast], src("sPrepPulses.lFatWaterContrast"))
    # The MT pulse: sPrepPulses.ucMTC = 0x1 when "MTC On" (the spine-generic GRE-MT1 step, whose printout says
    # "MTC On"); ASCCONV omits it at its default, off (GRE-MT0, "MTC Off"). Only sequences that offer MTC
    # write sPrepPulses.lMTCMode, so off is stated only where that field shows the option exists.
    if has("sPrepPulses.ucMTC"):
        acq.set("magnetization_transfer", bool(values["sPrepPulses.ucMTC"]), src("sPrepPulses.ucMTC"))
    elif has("sPrepPulses.lMTCMode"):
        acq.set(
            "magnetization_transfer",
            False,
            f"{where} sPrepPulses.ucMTC absent (default off; the sequence offers MTC: sPrepPulses.lMTCMode)",
        )
    mode = values.get("sPat.ucPATMode")
    if mode in PAT_MODE:
        acq.set("parallel_mode", PAT_MODE[mode], src("sPat.ucPATMode"))
    normal = [values.get(f"sSliceArray.asSlice[0].sNormal.d{axis}", 0.0) for axis in ("Sag", "Cor", "Tra")]
    if any(normal):
        from .acquisition import direction_label, orientation_from_normal

        normal = [float(v) for v in normal]
        stated = f"{where} sSliceArray.asSlice[0].sNormal=({', '.join(f'{v:g}' for v in normal)})"
        acq.set("orientation", orientation_from_normal(normal), stated)
        key = "sSliceArray.asSlice[0].dInPlaneRot"
        unreadable = key in getattr(values, "_bad", {})  # a word there is no rotation 0 (ASCCONV omits a 0)
        rotation = values.get(key, 0.0)
        sequence = str(values.get("tSequenceFileName", ""))
        phase = None
        if unreadable:
            pass  # warned by the read above; the direction stays absent
        elif "CustomerSeq" in sequence:
            # A customer sequence may turn the phase encoding itself: CMRR's Special-card "Invert RO/PE polarity"
            # applies a 180° in-plane rotation that dInPlaneRot does not show (CMRR-C2P/MB issues 84, 354; the
            # XA30 "DWI_dir80_AP" fixture, cmrr_mbep2d_diff, is A >> P in its images at a half-turn prescription).
            acq.warn(
                f"phase_encoding_direction from {where} sSliceArray: {sequence.strip(chr(34))} is a customer "
                "sequence, whose own options may invert the phase polarity; the protocol alone does not tell"
            )
        elif isinstance(rotation, (int, float)) and _quarter_turn(float(rotation)):
            phase = phase_vector(normal, float(rotation))
        if phase is not None:
            acq.set(
                "phase_encoding_direction",
                direction_label(phase),
                f"{stated}, dInPlaneRot={rotation:g} rad: phase gradient "
                f"({', '.join(f'{v:.3f}' for v in phase)}) (Siemens fGSLCalcPRS)",
            )
    weightings = values.get("sDiffusion.lDiffWeightings")
    if weightings and limits.count(weightings, where) is None:  # a loop bound from the file: capped
        acq.warn(f"b_values: sDiffusion.lDiffWeightings={weightings!r} is not a count within the loop_count limit")
    elif weightings:
        # alBValue[0] is the b=0 entry, omitted from ASCCONV when 0: the b0 is implied.
        with acq.reading("sDiffusion.alBValue"):
            b = sorted({float(values.get(f"sDiffusion.alBValue[{i}]", 0)) for i in range(weightings)})
            acq.set(
                "b_values", b, f"{where} sDiffusion.lDiffWeightings={weightings}, alBValue[i] (missing entries are 0)"
            )
    if values.get("sDiffusion.lDiffDirections") and max(acq.get("b_values") or [0.0]) > 0:
        # A b=0-only series (VB17 "DWI_b0" prints "Diff. directions 64") has no gradient directions to count.
        acq.set("diffusion_directions", values["sDiffusion.lDiffDirections"], src("sDiffusion.lDiffDirections"))


def _echo_times(values: dict[str, Any], acq: Acquisition, where: str) -> None:
    """Every echo of a multi-contrast protocol (a dual-echo PD/T2 TSE, a multi-echo GRE): alTE[0..lContrasts-1].

    alTE has 256 slots and later slots keep stale defaults (a VE11 PD/T2 with lContrasts = 2 lists alTE[0..31]),
    so only the first lContrasts are echoes; lContrasts absent means one contrast (its default).
    """
    contrasts = values.get("lContrasts", 1)
    if not isinstance(contrasts, int) or not 1 <= contrasts <= 256:
        return
    times = [values.get(f"alTE[{i}]") for i in range(contrasts)]
    if not all(isinstance(t, int | float) and t > 0 for t in times):
        return  # an echo ASCCONV does not state: the list would be a guess
    source = f"{where} alTE[0..{contrasts - 1}]={times} us (lContrasts={contrasts})"
    acq.set("echo_times_ms", [units.to_unit(t, "us", "ms") for t in times], source)


def _epi_factor(values: dict[str, Any], acq: Acquisition, where: str) -> bool:
    """EPI factor of an EPI protocol: the phase-encoding lines of its single shot, as the console prints it.

    sFastImaging.lEPIFactor marks an EPI sequence but is not the factor the console shows: it holds 128 in
    every ep2d protocol at hand (VB17, VE11, XA30, XA61) whatever the matrix, while the printouts beside the
    spine-generic exports say "EPI factor 96" (VB17, 96 phase lines) and "EPI factor 36" (VE11C and XA61, 36 phase
    lines, with 7/8 partial Fourier). The factor printed is sKSpace.lPhaseEncodingLines of a single-shot
    protocol; with readout or phase segments (sFastImaging.lSegments > 1) it is not known here, so it stays absent.
    Returns whether the protocol is EPI (its lTurboFactor, 1, is then no echo train length).
    """
    flag = values.get("sFastImaging.lEPIFactor")
    lines = values.get("sKSpace.lPhaseEncodingLines")
    if not isinstance(flag, int) or flag <= 1:
        return False
    segments = values.get("sFastImaging.lSegments", 1)
    if not isinstance(lines, int) or lines <= 1 or segments != 1:
        return True
    acq.set(
        "echo_train_length",
        lines,
        f"{where} EPI factor = sKSpace.lPhaseEncodingLines={lines} (single shot; sFastImaging.lEPIFactor={flag} "
        "marks EPI but is not the printed factor)",
    )
    return True


def _turbo_factor(values: dict[str, Any], acq: Acquisition, where: str) -> None:
    """The turbo factor (echo train length) of a non-EPI protocol: sFastImaging.lTurboFactor, except where that
    field is known not to hold the console's value.

    A 3D turbo-FLASH (tfl: MPRAGE, MP2RAGE) before XA keeps a stale lTurboFactor the sequence does not use: the
    VE11C spine-generic MPRAGE stores 16 while its printout says "Turbo factor 192" (the echoes per inversion,
    the partition loop of lPartitions = 192), the VB17 MPRAGE stores 1 (its printout prints no turbo factor).
    XA writes the console's value there (XA61, the same protocol: lTurboFactor 192, printed "Turbo Factor 192").
    The partition loop's length also depends on slice oversampling and slice partial Fourier in ways no export
    at hand shows, so the value is not computed: it is left absent with a warning saying why.
    """
    key = "sFastImaging.lTurboFactor"
    if key not in values:
        return
    sequence = str(values.get("tSequenceFileName", "")).replace("\\", "/").strip('"').rsplit("/", 1)[-1].lower()
    baseline = str(values.get("sProtConsistencyInfo.tBaselineString", ""))
    pre_xa = baseline.upper().startswith(("N4_VA", "N4_VB", "N4_VD", "N4_VE"))
    if sequence.endswith("tfl") and values.get("sKSpace.ucDimension") == 4 and pre_xa:
        acq.warn(
            f"echo_train_length from {where} {key}={values[key]}: a 3D tfl of {baseline} keeps a stale "
            "lTurboFactor (the console's turbo factor is the echoes per inversion, not stored in the protocol)"
        )
        return
    acq.set("echo_train_length", values[key], f"{where} {key}={values[key]}")


# CMRR's multiband sequences (cmrr_mbep2d_bold / _diff / _se) keep the multiband factor in their WIP block:
# sWipMemBlock.alFree[13] (the XA30 cmrr_mbep2d_diff DICOM in the fixtures holds 3 there, its ImageComments say
# "MB3" and dcm2niix reports MultibandAccelerationFactor 3). Other customer sequences use the block differently.
CMRR_MULTIBAND = "sWipMemBlock.alFree[13]"


def _cmrr_multiband(values: dict[str, Any], acq: Acquisition, where: str) -> None:
    name = str(values.get("tSequenceFileName", "")).lower()
    if "cmrr_mbep2d" not in name:
        return
    factor = values.get(CMRR_MULTIBAND, 1)  # ASCCONV omits a slot holding its default
    if isinstance(factor, int) and 1 <= factor <= 16:
        provenance = (
            f"{where} {CMRR_MULTIBAND}={factor}"
            if CMRR_MULTIBAND in values
            else (f"{where} {CMRR_MULTIBAND} absent (default 1)")
        )
        acq.set("multiband_factor", factor, f"{provenance} (CMRR multiband WIP parameter)")


def phase_vector(normal: list[float], rotation: float) -> list[float] | None:
    """The phase-encoding gradient's direction of a Siemens slice (patient coordinates: sag/left, cor/posterior,
    tra/head) from its normal and in-plane rotation, as the console computes it (Siemens' fGSLCalcPRS, as published
    in open MR tools: the phase vector of the slice's main orientation, then rotated about the normal by
    dInPlaneRot). The console's "Phase enc. dir." is this vector: the fixtures' printouts say A >> P for transverse
    and sagittal steps at rotation 0, R >> L for coronal ones, H >> F for a sagittal step rotated by 90°.

    The main orientation is the normal's largest component (fGSLCalcPRS breaks exact ties towards transverse, then
    coronal); None for a null normal."""
    sag, cor, tra = (abs(v) for v in normal)
    if max(sag, cor, tra) < 1e-9:
        return None
    ns, nc, nt = normal
    if tra >= sag - 1e-6 and tra >= cor - 1e-6:  # mainly transverse
        norm = math.hypot(nc, nt)
        phase = [0.0, nt / norm, -nc / norm]
    elif cor >= sag - 1e-6:  # mainly coronal
        norm = math.hypot(ns, nc)
        phase = [nc / norm, -ns / norm, 0.0]
    else:  # mainly sagittal
        norm = math.hypot(ns, nc)
        phase = [-nc / norm, ns / norm, 0.0]
    if rotation:
        read = _cross(normal, phase)
        phase = [math.cos(rotation) * p - math.sin(rotation) * r for p, r in zip(phase, read, strict=True)]
    return phase


QUARTER_TURN_TOLERANCE_DEG = 1.0


def _quarter_turn(rotation: float) -> bool:
    """Whether an in-plane rotation is one of the four the card's "Phase enc. dir." choice sets (A >> P, P >> A,
    R >> L, L >> R: dInPlaneRot a multiple of 90°), within QUARTER_TURN_TOLERANCE_DEG: the rotations the fixtures'
    printouts and images confirm the rule for (0° transverse, sagittal, coronal; 90° sagittal; 180° transverse,
    the XA30 "DWI_dir80_PA" DICOM). A rotation in between (AutoAlign's, a rotated prescription) is confirmed by
    no source here: its direction is left to the images (absent from an export)."""
    degrees = math.degrees(rotation) % 90.0
    return min(degrees, 90.0 - degrees) <= QUARTER_TURN_TOLERANCE_DEG


def _cross(a: list[float], b: list[float]) -> list[float]:
    return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]]


def protocol_name(values: dict[str, Any]) -> str | None:
    """The protocol's own name, tProtocolName. VB and VE consoles escape characters outside a small set the UTF-7
    way ("t1+AF8-mprage" is t1_mprage, the escape the .edx section names use too); XA writes them as they are."""
    name = values.get("tProtocolName")
    if not isinstance(name, str) or not name.strip():
        return None
    return _UTF7_ESCAPE.sub(_unescape, name.strip()) or None


# "+AF8-" (UTF-7 for "_"): only escapes that decode to ASCII punctuation are undone, so a name that merely holds a
# plus sign ("pd+t2-tse", "T1+Gd-sag") stays as written.
_UTF7_ESCAPE = re.compile(r"\+([A-Za-z0-9/]{3,8})-")


def _unescape(match: re.Match) -> str:
    try:
        text = match.group(0).encode("ascii").decode("utf-7")
    except UnicodeDecodeError:
        return match.group(0)
    return text if text and all(c.isascii() and not c.isalnum() and c.isprintable() for c in text) else match.group(0)


def coils(values: dict[str, Any]) -> str | None:
    """The receive coils a protocol selects (their tCoilID, e.g. "Head_32", "HeadNeck_64 Spine_32"): VD/VE/XA list
    them under sCoilSelectMeas.aRxCoilSelectData, VB under asCoilSelectMeas (the transmit coil, "Body", is not
    listed there on VB and is a separate aTxCoilSelectData list later)."""
    found = sorted(
        {
            str(v).strip('"')
            for k, v in values.items()
            if k.endswith(".tCoilID") and k.startswith(("sCoilSelectMeas.aRxCoilSelectData", "asCoilSelectMeas["))
        }
    )
    return " ".join(found) or None


def scanner_to_acquisition(values: dict[str, Any], acq: Acquisition, where: str) -> None:
    """Field strength and software baseline, where a protocol export states them."""
    b0 = values.get("sProtConsistencyInfo.flNominalB0")
    source = f"{where} sProtConsistencyInfo.flNominalB0={b0}"
    frequency = values.get("sTXSPEC.asNucleusInfo[0].lFrequency")
    proton = str(values.get("sTXSPEC.asNucleusInfo[0].tNucleus", "1H")).strip('"') == "1H"
    if not (isinstance(b0, int | float) and b0 > 0) and isinstance(frequency, int) and frequency > 0 and proton:
        # XA30 protocols drop flNominalB0 (the XA30 DICOM fixtures' ASCCONV has none); one that was measured
        # still states its 1H transmit frequency, which fixes B0 (123262377 Hz: 2.895 T, dcm2niix "3").
        b0 = round(units.field_from_proton_larmor_hz(frequency), 3)
        source = f"{where} sTXSPEC.asNucleusInfo[0].lFrequency={frequency} Hz (1H) = {b0:g} T"
    if isinstance(b0, int | float) and b0 > 0:
        # 2.89 T is a "3 T" system, 6.98 T a "7 T" one: the nominal value is what a spec matches; the raw one
        # stays in provenance.
        nominal = units.nominal_field_t(b0)
        acq.set("field_strength_t", nominal, f"{source} (nominal {nominal:g} T)")
    baseline = values.get("sProtConsistencyInfo.tBaselineString")
    # A console writes its baseline by name ("N4_VE11C_LATEST_20160120", "N4_VB17A_LATEST_20090307"); a protocol
    # saved straight from a sequence ("Initialized by sequence") holds a placeholder of digits ("000") that names
    # no software: absent, not a version.
    if isinstance(baseline, str) and any(c.isalpha() for c in baseline):
        acq.set("software_version", baseline, f"{where} sProtConsistencyInfo.tBaselineString")
