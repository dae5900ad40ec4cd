"""Sequence family from what a header says about the sequence (DICOM tags, dcm2niix sidecar keys, names).

The family is a classification of stated facts (scanning sequence, variant, sequence name, inversion, b-values,
product names), returned with the facts it used, so the provenance says why. With too little to go on it returns
None: the family is then absent, not guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Hints:
    scanning_sequence: str = ""  # DICOM (0018,0020): SE, GR, IR, EP, RM (joined by "\\" or "_")
    sequence_variant: str = ""
    sequence_name: str = ""  # Siemens *tfl3d1_16, GE/Philips pulse sequence names
    # A Siemens sequence as a printout names it, bare: the VB/VE header's "SIEMENS: tfl" / ": spcR", the VE/XA
    # "Sequence Name" row; read as the export's sequence file ("%SiemensSeq%\\tfl") is.
    sequence_file: str = ""
    description: str = ""  # series description / protocol name
    acquisition_type: str | None = None  # 2D / 3D
    inversion_time_ms: float | None = None
    echo_time_ms: float | None = None
    max_b: float | None = None
    # A diffusion weighting the input switches on in so many words, where it lists no b-value (a Philips scan's
    # "Diffusion mode DTI" / EX_DIFF_enable): the statement itself, shown in the reason.
    diffusion: str = ""


NAME_RULES: tuple[tuple[str, str], ...] = (
    (r"mp2rage", "mp2rage"),
    (r"\bswi|swan|swip|fsbb|susceptib", "swi"),
    # "dir" alone is a double inversion recovery, but not "dir-AP" (a phase-encoding direction: BIDS-style protocol
    # names, "cmrr_mbep2d_diff_dir-PA") nor "30 dir" (a direction count).
    (
        r"(?:(?<![0-9] )|(?<=[a-z][0-9] )|(?<=[a-z][0-9]{2} ))(?<![0-9])\bdir\b(?! ?(?:ap|pa|rl|lr|hf|fh|si|is)\b)"
        r"|double.?ir|double.?inv|spcir.*dir"
        # "3DIR" / "2DIR": the dimension glued to the sequence ("3DFLAIR", "3DT1" alike), unless the name says
        # diffusion ("DWI_3dir" counts 3 directions).
        r"|^(?!.*\b(?:dwi|dti|diff))(?=.*(?<![a-z0-9])[23]dir\b)",
        "dir",
    ),
    # Siemens names its 3D FLAIR "t2_spc_da-fl_sag_p2_iso": "da-fl" is its dark-fluid abbreviation.
    (r"flair|dark.?fluid|dark.?fl\b|\bda.?fl\b", "flair"),
    (r"\bstir\b|tirm", "stir"),
    (r"dixon|\bideal\b|\bflex\b|mdixon", "dixon"),
    (r"mprage|mp.rage|tfl3d|bravo|ir.?fspgr|\btfe\b.*t1|t1.?tfe", "mprage"),
    # Names are matched as words (`_words`: "_" and "-" become spaces), so "ep2d_diff" is "ep2d diff" here. A
    # count of gradient directions glued to its unit ("DT_HIGH_32DIR", "64dirs", "30 directions") names a
    # diffusion acquisition, from 4 on ("2DIR"/"3DIR" are a 2D/3D double inversion recovery, above); "dir"
    # alone stays the double inversion recovery.
    (
        r"\bep.?b\d|ep2d.?diff|ep2d.?dti|\bdwi\b|\bdti\b|\bdiff\b|diffusion|resolve|tensor"
        r"|(?<![a-z0-9])(?:[4-9]|[1-9]\d{1,2})(?:dirs?|directions?)\b|(?<![a-z0-9])\d{1,3} directions?\b",
        "epi_dwi",
    ),
    (r"\bspc|space|cube|vista|mvox", "space"),
    (r"t2\*|t2.?star|merge|medic|hemo|mffe|\bgre.me\b|\bme.gre\b", "t2star"),
    # PROPELLER (GE), BLADE (Siemens) and MultiVane (Philips): turbo spin echoes read out in rotating blades
    # ("conventional PROPELLER based on fast spin echo (FSE)", Srinivasan et al., MRM 2018, doi:10.1002/mrm.26898);
    # a diffusion PROPELLER states its b-values, which decide first.
    (r"\btse|\bfse|frfse|turbo.?spin|tse2d|\bts?e\b|propeller|\bblade\b|multivane", "tse"),
    (r"\bfl3d|fspgr|\bspgr|vibe|\bffe\b.*3d", "spgr"),
)


# Families that are 3D acquisitions by definition: the MP-RAGE is "three-dimensional magnetization-prepared rapid
# gradient-echo imaging" (Mugler & Brookeman, MRM 1990;15:152, doi:10.1002/mrm.1910150117), the MP2RAGE its
# two-inversion 3D variant (Marques et al., NeuroImage 2010). A name or a prepared gradient echo that a 2D
# acquisition states (a Philips "T1TFE" survey, "Scan mode MS") is not one: the family is sought further.
THREE_D_ONLY = frozenset({"mprage", "mp2rage"})


# Siemens sequence files (tSequenceFileName "%SiemensSeq%\\tfl"): the file alone is ambiguous, so each entry is
# refined by stated facts (inversion, dimension, TE) in `_siemens_file`.
def _siemens_file(h: Hints) -> tuple[str | None, str]:
    match = re.search(r"%\w+%\\+([a-z0-9_]+)", h.sequence_name.lower())
    printed = re.fullmatch(r"[a-z][a-z0-9_]*", h.sequence_file.strip().lower())
    if not match and not printed:
        return None, ""
    name = match.group(1) if match else printed.group(0)
    inverted = h.inversion_time_ms is not None
    why = f"sequence file {name!r}" if match else f"printed sequence {h.sequence_file.strip()!r}"
    if name.startswith(("ep2d_diff", "resolve")) or "diff" in name:
        return "epi_dwi", why
    if name.startswith(("tse_vfl", "spc")):
        if inverted and (h.inversion_time_ms or 0) > 1200:
            return "flair", why + f", TI {h.inversion_time_ms:g} ms"
        return "space", why
    if name.startswith("tse"):
        return ("space" if h.acquisition_type == "3D" else "tse"), why
    if name.startswith("tfl"):
        if h.acquisition_type == "2D":  # a 2D turboFLASH (a B1 map, a TI scout): no MP-RAGE, no 3D spoiled GRE
            return "gre", why + ", 2D"
        return ("mprage" if inverted else "spgr"), why + (", with inversion" if inverted else "")
    if name.startswith(("gre", "fl")):
        if h.acquisition_type == "3D":
            return "spgr", why + ", 3D"
        if h.echo_time_ms is not None and h.echo_time_ms >= 10:
            return "t2star", why + f", 2D, TE {h.echo_time_ms:g} ms"
        return "gre", why
    return None, ""


def classify(h: Hints) -> tuple[str | None, str]:
    """(family, reason) — reason names the facts used."""
    seq = h.scanning_sequence.upper().replace("_", "\\")
    parts = set(seq.split("\\")) if seq else set()
    names = _words(f"{h.sequence_name} {h.description}")
    description = _words(h.description)
    variant = set(h.sequence_variant.upper().replace("_", "\\").split("\\")) - {""}
    if h.max_b is not None and h.max_b > 0:
        return "epi_dwi", f"b-value {h.max_b:g} s/mm²"
    if h.diffusion and h.max_b is None:
        return "epi_dwi", f"diffusion weighting stated ({h.diffusion})"
    for pattern, family in NAME_RULES:
        if re.search(pattern, description):
            if family in THREE_D_ONLY and h.acquisition_type == "2D":
                continue
            if _header_contradicts(parts, family):
                continue
            if family == "tse" and h.acquisition_type == "3D":
                family = "space"  # a 3D turbo spin echo is the single-slab TSE (SPACE / CUBE / VISTA)
            return _fluid_attenuated(h, family, f"name {h.description.strip()!r} matches {family}")
    family, why = _siemens_file(h)
    if family:
        return family, why
    technique = _technique(h.sequence_name)
    if technique == "dwise":
        return "epi_dwi", f"technique {h.sequence_name.strip()!r}: a diffusion-weighted spin-echo EPI"
    for pattern, family in NAME_RULES:
        if re.search(pattern, names):
            if family in THREE_D_ONLY and h.acquisition_type == "2D":
                continue
            if _header_contradicts(parts, family):
                continue
            if family == "tse" and h.acquisition_type == "3D":
                family = "space"  # as above
            return _fluid_attenuated(h, family, f"name {_shown(h)!r} matches {family}")
    # An echo-planar readout the header states (ScanningSequence EP), or its technique or name states where the
    # header's ScanningSequence does not: Philips writes only GR or SE there for its EPI and names the readout
    # in its Scanning Technique (2001,1020), "FEEPI" / "SEEPI", which dcm2niix copies to PulseSequenceName and a
    # PAR file prints as "Technique" (beside "EPI factor 39" in nibabel's phantom_EPI_asc_CLEAR PAR).
    # "EPI" in a series description is French for epilepsy too ("COR T2 EPI", a spin-echo coronal T2): there it
    # says echo-planar only beside a gradient echo, which an epilepsy TSE is not.
    named_epi = bool(re.search(r"\bepi\b", _words(h.sequence_name))) or (
        "GR" in parts and bool(re.search(r"\bepi\b", description))
    )
    planar = "EP" in parts or technique == "epi" or named_epi
    if planar and "SE" in parts:
        shown = h.scanning_sequence if "EP" in parts else f"{h.scanning_sequence or '?'}, {_shown(h)!r}"
        return "epi_dwi" if "DIFF" in names.upper() else "other", f"ScanningSequence={shown}: spin-echo EPI"
    if planar or re.search(r"\bepfid|\bepi?fid", names):
        # An echo-planar readout with no diffusion weighting stated (no b-value > 0, no diffusion name, no spin
        # echo): gradient-echo EPI, the readout of BOLD fMRI and perfusion (Siemens *epfid2d1_64), never one of
        # a protocol's structural sequences, whatever its TE.
        return "other", f"ScanningSequence={h.scanning_sequence or '?'}, {_shown(h)!r}: echo-planar, no diffusion"
    volume = h.acquisition_type != "2D"  # an MP-RAGE is a 3D acquisition (THREE_D_ONLY)
    if "GR" in parts and "IR" in parts and volume:
        return "mprage", f"ScanningSequence={h.scanning_sequence} (gradient echo with inversion)"
    if "GR" in parts and "MP" in variant and volume:
        return "mprage", f"ScanningSequence={h.scanning_sequence}, SequenceVariant={h.sequence_variant} (prepared)"
    if "GR" in parts and h.inversion_time_ms and volume:
        return "mprage", f"ScanningSequence={h.scanning_sequence}, TI {h.inversion_time_ms:g} ms"
    if parts & {"SE", "GR"} and h.acquisition_type is None:
        # TSE or 3D SPACE, 2D GRE or 3D SPGR: the header does not say which, so the family stays absent.
        return None, f"ScanningSequence={h.scanning_sequence}, 2D/3D not stated"
    if "SE" in parts and "IR" in parts and (h.inversion_time_ms or 0) > FLAIR_MIN_TI_MS:
        return "flair", f"ScanningSequence={h.scanning_sequence}, TI {h.inversion_time_ms:g} ms"
    if "SE" in parts and "IR" in parts and (h.inversion_time_ms or 0) > STIR_MAX_TI_MS:
        family = "space" if h.acquisition_type == "3D" else "tse"
        return family, f"ScanningSequence={h.scanning_sequence}, TI {h.inversion_time_ms:g} ms: a T1-weighted IR"
    if "SE" in parts and "IR" in parts:
        return "stir", f"ScanningSequence={h.scanning_sequence}, short TI"
    if "SE" in parts:
        family = "space" if h.acquisition_type == "3D" else "tse"
        return family, f"ScanningSequence={h.scanning_sequence}, {h.acquisition_type or '?'}"
    if "GR" in parts:
        if h.acquisition_type == "3D":
            return "spgr", f"ScanningSequence={h.scanning_sequence}, 3D"
        if h.echo_time_ms is not None and h.echo_time_ms >= 10:
            return "t2star", f"ScanningSequence={h.scanning_sequence}, 2D, TE {h.echo_time_ms:g} ms"
        return "gre", f"ScanningSequence={h.scanning_sequence}"
    return None, "not enough information"


# Inversion times (ms) that tell inversion-recovery spin echoes apart: STIR nulls fat (130-250 ms at 1.5-3 T), a
# T1-weighted IR / "T1 FLAIR" inverts at 700-1000 ms, a FLAIR nulls fluid at 1500-2800 ms (3D: 1650-1850).
STIR_MAX_TI_MS = 350
FLAIR_MIN_TI_MS = 1200


# Families whose echo is a spin echo (refocusing pulses): the turbo spin echoes, and the inversion-recovery spin
# echoes FLAIR, STIR, DIR.
SPIN_ECHO_FAMILIES = frozenset({"flair", "stir", "dir", "tse", "space"})


def _header_contradicts(parts: set[str], family: str) -> bool:
    """Whether the header's ScanningSequence (DICOM (0018,0020)) rules out the family a name word says.

    A gradient echo stated without spin echo or inversion recovery (GR, EP\\GR) is no spin-echo sequence, whatever
    its name mentions: GE names a T2* prescribed on the FLAIR's geometry "Axial T2 Star (Rx 2D FLAIR)" (the NIMH
    healthy-volunteer dataset, OpenNeuro ds004215: ScanningSequence GR, TE 20 ms). The name's next word is read."""
    return family in SPIN_ECHO_FAMILIES and "GR" in parts and not parts & {"SE", "IR"}


def _fluid_attenuated(h: Hints, family: str, why: str) -> tuple[str, str]:
    """The family a stated inversion time makes of a name's: a turbo spin echo named only as such ("t2_spc_…",
    "*spcir_278ns") with an inversion of more than 1200 ms nulls the fluid, it is the FLAIR; a "FLAIR" inverting
    at less than that is a T1-weighted inversion recovery (GE's "Sag T1 FLAIR", TI 860), a turbo spin echo."""
    ti = h.inversion_time_ms
    if family in ("space", "tse") and (ti or 0) > FLAIR_MIN_TI_MS:
        return "flair", why + f", TI {ti:g} ms: fluid-attenuated"
    if family == "stir" and ti is not None and ti > STIR_MAX_TI_MS:  # Siemens "t1_tirm_tra": a T1 TIRM, TI 850
        if ti > FLAIR_MIN_TI_MS:
            return "flair", why + f", but TI {ti:g} ms: fluid-attenuated"
        return ("space" if h.acquisition_type == "3D" else "tse"), why + f", but TI {ti:g} ms: a T1-weighted IR"
    if family == "flair" and ti is not None and STIR_MAX_TI_MS < ti <= FLAIR_MIN_TI_MS:
        return ("space" if h.acquisition_type == "3D" else "tse"), why + f", but TI {ti:g} ms: a T1-weighted IR"
    if family == "flair" and ti is None and re.search(r"\bt1\s?w?\s?flair", _words(h.description)):
        return ("space" if h.acquisition_type == "3D" else "tse"), why + ", but a T1 FLAIR: a T1-weighted IR"
    return family, why


def _technique(sequence_name: str) -> str | None:
    """The readout a Philips Scanning Technique (2001,1020) names, where the sequence name holds one: "dwise"
    for DwiSE (the diffusion-weighted spin-echo EPI of its DWI and DTI, the fixture Ingenia DTI's header), "epi"
    for a field-echo or spin-echo EPI (FEEPI: BOLD; SEEPI), None otherwise. Whole words only: Siemens'
    "epse2d1_72" or GE's "muxepi2" are not these words."""
    words = set(_words(sequence_name).split())
    if "dwise" in words:
        return "dwise"
    if words & {"feepi", "seepi", "epi"}:
        return "epi"
    return None


def _words(text: str) -> str:
    """Names as words: BIDS and console names join words with _ and - ("Axi_DTI"), which \\b does not split."""
    return re.sub(r"[_\-]+", " ", text.lower())


def _shown(h: Hints) -> str:
    return " / ".join(x.strip() for x in (h.sequence_name, h.description) if x.strip())


def set_family(
    acq,
    where: str,
    *,
    scanning_sequence: str = "",
    sequence_variant: str = "",
    sequence_name: str = "",
    sequence_file: str = "",
    description: str = "",
    diffusion: str = "",
) -> None:
    """Classify `acq` from the stated names plus the values it already holds, and record why."""
    b_values = acq.get("b_values")
    family, reason = classify(
        Hints(
            scanning_sequence=scanning_sequence,
            sequence_variant=sequence_variant,
            sequence_name=sequence_name,
            sequence_file=sequence_file,
            description=description,
            acquisition_type=acq.get("acquisition_type"),
            inversion_time_ms=acq.get("inversion_time_ms"),
            echo_time_ms=acq.get("echo_time_ms"),
            max_b=max(b_values) if b_values else None,
            diffusion=diffusion,
        )
    )
    acq.set("sequence_family", family, f"{where}: inferred, {reason}")
