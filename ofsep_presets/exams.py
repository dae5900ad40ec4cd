"""The exam model: between reading and matching, what was read is grouped into exams, and each acquisition is
placed in its program and body region from the evidence the input states.

An exam is one DICOM study on one scanner (StudyInstanceUID + model and serial or station), one BIDS
subject/session, or one export (a Siemens .exar1/.edx or print-out, a Philips ExamCard, one GE session of a
protocol tar). Inside an exam each acquisition gets `program` (the export's program path, the GE session) and
`region` with `region_reasons`: the region's words in the program path, the study description or the series
name, the DICOM body part or anatomy code, the coil (protocol_spec/model/regions.yaml); a sagittal or coronal
field of view larger than a head spans brain and spine and names neither. No evidence, no region: matching
then vetoes nothing.

A DICOM series and the dcm2niix sidecar written from it are one acquisition: the DICOM values win, the sidecar
fills what the DICOM headers did not say, and the provenance says which.

Nothing here prints a UID: exams are told apart by an ordinal, the scanner model and the names the input gives
its programs and subjects.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import Any

from .acquisition import Acquisition, Inspection, ReadError, scanner_from
from .echoes import bids_echo_key, join_echo_series
from .match import not_a_sequence, stack_is_evidence
from .readers.bids import FORMAT as BIDS_FORMAT
from .regions import (
    geometry_excludes,
    head_fov_max_mm,
    region_of_body_part,
    region_of_code,
    regions_named,
    regions_of_coil,
    tokens,
    vocabulary,
    weak_terms,
    whole_head,
)

DICOM = "dicom"
SIDECAR = "bids-json"

# Evidence weights: what names the whole program or study outweighs what one series or its coil suggests.
# A deliberate BodyPartExamined (SPINE, CSPINE, KNEE…) or anatomy code places an acquisition when nothing
# contradicts it; the terms a console fills in for any head(-neck) coil exam (HEAD, BRAIN: spine-generic sites
# tag whole cervical-cord sessions so, regions.yaml `weak_terms`) count like a coil: they place an acquisition
# only with other evidence agreeing. The slice stack itself (regions.yaml `coverage_evidence`) overrules such
# weak evidence: a sagittal stack 51 mm wide is no brain whatever the console's body part or the coil says.
WEIGHT = {"program": 3, "anatomy code": 2, "study": 2, "series": 2, "body part": 2, "coil": 1, "weak": 1}
DECIDES = 2  # the least weight that places an acquisition: a coil or a console's default body part alone does not
INHERITED = "no region evidence of its own"


def digest(text: str) -> str:
    """A short, one-way key for a UID or serial number: groups without ever showing the value."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:12]


@dataclass
class Exam:
    """One exam of the input: its acquisitions (with the inspections they came from) and how to name it."""

    index: int
    kind: str  # "DICOM study", "BIDS session", "export"
    label: str  # shareable: no UID, no path beyond a file name
    inspections: list[Inspection] = field(default_factory=list)
    # The exam step's bookkeeping, never printed: each acquisition's region evidence as `place` weighed it, and
    # the region a part's station had before it became a station of the whole (undone when an export is split).
    evidence: dict[int, list[tuple[str, str, str]]] = field(default_factory=dict, repr=False)
    stations: dict[int, tuple[str | None, list[str]]] = field(default_factory=dict, repr=False)

    @property
    def acquisitions(self) -> list[Acquisition]:
        return [a for i in self.inspections for a in i.acquisitions]

    @property
    def regions(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for acq in self.acquisitions:
            key = acq.region or "unknown"
            out[key] = out.get(key, 0) + 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "kind": self.kind, "label": self.label, "regions": self.regions}


# ---------------------------------------------------------------------------------------------- sidecar merge


def merge_sidecars(inspections: list[Inspection]) -> list[Inspection]:
    """Fold each dcm2niix sidecar into the DICOM series it was written from (same series number, and the same
    description where both state one). The DICOM wins; the sidecar fills gaps, its provenance prefixed."""
    series: dict[int, list[Acquisition]] = {}
    for inspection in inspections:
        if inspection.format == DICOM:
            for acq in inspection.acquisitions:
                if acq.get("series_number") is not None:
                    series.setdefault(acq.get("series_number"), []).append(acq)
    if not series:
        return inspections
    out = []
    for inspection in inspections:
        if inspection.format != SIDECAR:
            out.append(inspection)
            continue
        kept = []
        for sidecar in inspection.acquisitions:
            target = _dicom_of(sidecar, series)
            if target is None:
                kept.append(sidecar)
                continue
            filled = [p for p in sidecar.params if p not in target.params]
            for param in filled:
                target.set(param, sidecar.params[param], f"sidecar {sidecar.provenance[param]}")
            # Only values merge: the region evidence stays the DICOM's own, so a series is placed the same
            # whether it is read from files, with or without its sidecar, or from a PACS's metadata.
            target.context.setdefault("sidecar", sidecar.name)
        if kept or not inspection.acquisitions:
            out.append(_view(inspection, kept))
        merged = len(inspection.acquisitions) - len(kept)
        if merged and out:
            note = f"{merged} dcm2niix sidecar(s) read as the DICOM series they describe (DICOM values first)"
            (out[0] if out[0].format == DICOM else out[-1]).warnings.append(note)
    return out


def _dicom_of(sidecar: Acquisition, series: dict[int, list[Acquisition]]) -> Acquisition | None:
    number = sidecar.get("series_number")
    candidates = series.get(number, []) if number is not None else []
    name = _plain(sidecar.get("series_description"))
    fitting = [
        a
        for a in candidates
        if not name or not a.get("series_description") or _plain(a.get("series_description")) == name
    ]
    return fitting[0] if len(fitting) == 1 else None


def _plain(text: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "", str(text or "").lower())


def _view(inspection: Inspection, acquisitions: list[Acquisition]) -> Inspection:
    """The part of an input that belongs to one exam (its scanner is that of these acquisitions only)."""
    return Inspection(
        source=inspection.source,
        format=inspection.format,
        scanner=scanner_from(acquisitions) if acquisitions else dict(inspection.scanner),
        acquisitions=list(acquisitions),
        warnings=list(inspection.warnings),
    )


# ---------------------------------------------------------------------------------------------- grouping


def _exam_key(inspection: Inspection, acq: Acquisition) -> tuple[str, ...]:
    ctx = acq.context
    if inspection.format == DICOM:
        return ("DICOM study", ctx.get("study", "?"), ctx.get("scanner", "?"))
    if inspection.format == SIDECAR:
        if ctx.get("subject"):
            return ("BIDS session", ctx.get("dataset", ""), ctx["subject"], ctx.get("session", ""))
        return ("BIDS session", ctx.get("dataset", inspection.source), ctx.get("scanner", "?"), "")
    return ("export", ctx.get("source", inspection.source), ctx.get("exam", ""))


def prepare(inspections: list[Inspection]) -> list[Inspection]:
    """The exam step for one exam's inputs (what `check` runs before matching): sidecars folded into their
    DICOM series, every acquisition placed in its program and region. Idempotent."""
    merged = merge_sidecars(inspections)
    split(merged)
    return merged


def split(inspections: list[Inspection]) -> list[Exam]:
    """The exams in what was read, in input order, each acquisition placed in its program and region."""
    inspections = merge_sidecars(inspections)
    groups: dict[tuple[str, ...], dict[int, list[Acquisition]]] = {}
    for pos, inspection in enumerate(inspections):
        for acq in inspection.acquisitions:
            groups.setdefault(_exam_key(inspection, acq), {}).setdefault(pos, []).append(acq)
    _join_workstation_series(groups)
    exams: list[Exam] = []
    counters: dict[str, int] = {}
    warned: set[int] = set()  # an input's warnings are reported once, with the first exam drawn from it
    for key, by_input in groups.items():
        kind = key[0]
        counters[kind] = counters.get(kind, 0) + 1
        views = []
        for pos, acqs in by_input.items():
            view = _view(inspections[pos], acqs)
            if pos in warned:
                view.warnings = []
            warned.add(pos)
            views.append(view)
        exam = Exam(len(exams) + 1, kind, "", views)
        # A session's echo-<n> sidecars of one acquisition (a DICOM folder's echo series are joined as it is read).
        join_echo_series(
            [a for v in views if v.format == BIDS_FORMAT for a in v.acquisitions], "files of their own", bids_echo_key
        )
        exam.label = _label(exam, key, counters[kind])
        place(exam)
        parts = _competing_programs(exam)
        if parts is None:
            exams.append(exam)
            continue
        counters[kind] -= 1
        for program, acqs in parts:
            counters[kind] += 1
            wanted = {id(a) for a in acqs}
            part = Exam(len(exams) + 1, kind, "", [])
            for view in views:
                kept = [a for a in view.acquisitions if id(a) in wanted]
                if kept:
                    sub = _view(view, kept)
                    sub.warnings = view.warnings if not part.inspections else []
                    part.inspections.append(sub)
            part.label = _label(part, (*key[:2], program), counters[kind])
            # Each program is an exam of its own: a part's station is one of the whole only beside this program's
            # series (a library's lumbar program is not the cord's lower station because a C-spine program is
            # also in the library).
            for acq in part.acquisitions:
                if id(acq) in exam.stations:
                    acq.region, acq.region_reasons = exam.stations[id(acq)]
            part.evidence = exam.evidence
            _stations_of_the_whole(part)
            exams.append(part)
    return exams


def _made_later(acq: Acquisition) -> bool:
    """A series computed from others (a reformat, a projection, a map: match.derived_reason, match.is_map) or
    created after the examination (value 2 SECONDARY, PS3.3 C.7.6.1.1.2): what a workstation adds to a study,
    not what a scanner acquired."""
    from .match import derived_reason, is_map

    return is_map(acq) or derived_reason(acq) is not None


def _join_workstation_series(groups: dict[tuple[str, ...], dict[int, list[Acquisition]]]) -> None:
    """Series a workstation or PACS added to a study (reformats, projections, maps: derived or secondary images
    written under its own model, station and serial) belong to the exam of the scanner that acquired the study:
    one DICOM study whose other series were acquired on one scanner is one exam, not one per device."""
    studies: dict[str, list[tuple[str, ...]]] = {}
    for key in groups:
        if key[0] == "DICOM study" and key[1] != "?":
            studies.setdefault(key[1], []).append(key)
    for keys in studies.values():
        if len(keys) < 2:
            continue
        acquired = [k for k in keys if not all(_made_later(a) for acqs in groups[k].values() for a in acqs)]
        if len(acquired) != 1:
            continue
        home = groups[acquired[0]]
        for key in keys:
            if key != acquired[0]:
                for pos, acqs in groups.pop(key).items():
                    home.setdefault(pos, []).extend(acqs)


def _competing_programs(exam: Exam) -> list[tuple[str, list[Acquisition]]] | None:
    """An export's programs as exams of their own when two of them image the same region: a site library holding
    several head programs (a routine head and the OFSEP brain, a standard and a reduced variant) holds several
    exams; put together, one program's 3D T1 and another's FLAIR would pass a protocol neither program is.
    Programs of different regions (the OFSEP brain and spinal programs of one export) stay one exam."""
    if exam.kind != "export":
        return None
    programs: dict[str, list[Acquisition]] = {}
    for acq in exam.acquisitions:
        programs.setdefault(acq.program or "", []).append(acq)
    if len(programs) < 2:
        return None
    holders: dict[str, set[str]] = {}
    for program, acqs in programs.items():
        for acq in acqs:
            # A part's station is the whole's only beside the other programs (a cord done with a C-Spine and an
            # L-Spine program): it makes no program of its own compete.
            if acq.region in ("brain", "spine") and program and id(acq) not in exam.stations:
                holders.setdefault(acq.region, set()).add(program)
    if not any(len(h) > 1 for h in holders.values()):
        return None
    return list(programs.items())


def _label(exam: Exam, key: tuple[str, ...], ordinal: int) -> str:
    acqs = exam.acquisitions
    first = acqs[0] if acqs else None
    scanner = (
        " ".join(str(v) for v in (first.get("manufacturer"), first.get("model")) if first is not None and v)
        or "scanner not stated"
    )
    count = f"{len(acqs)} acquisition(s)"
    if exam.kind == "DICOM study":
        return f"DICOM study {ordinal} ({scanner}, {count})"
    if exam.kind == "BIDS session":
        if len(key) > 2 and key[2].startswith("sub-"):
            name = key[2] + (f"/{key[3]}" if key[3] else "")
            return f"BIDS {name} ({scanner}, {count})"
        return f"sidecars {ordinal} ({scanner}, {count})"
    name = PurePath(key[1]).name
    program = key[2]
    return f"{name}" + (f" · {program}" if program else "") + f" ({scanner}, {count})"


# ---------------------------------------------------------------------------------------------- regions


def place(exam: Exam) -> None:
    """Set each acquisition's `program`, `region` and `region_reasons` from the evidence (never a guess), then
    let a series with no evidence at all take the one region the exam's other series were placed in."""
    fresh = [acq for acq in exam.acquisitions if acq.region is None]
    pending = []
    for acq in exam.acquisitions:
        acq.program = acq.context.get("program") or acq.program
        if acq.region is None:  # placed already (by an earlier pass, or by the caller who knows better): kept
            pending.append((acq, evidence_of(acq)))
    mixed = _filed_but_mixed(pending)
    mixed_programs = _program_but_mixed(pending)
    for acq, evidence in pending:
        filed = {r for r, kind, _ in evidence if kind in FILED and r in mixed}
        shared = {r for r, kind, _ in evidence if kind == "program" and (acq.program, r) in mixed_programs}
        evidence = [
            (r, "weak" if (kind in FILED and r in mixed) or (kind == "program" and r in shared) else kind, why)
            for r, kind, why in evidence
        ]
        exam.evidence[id(acq)] = evidence
        acq.region, acq.region_reasons = decide(evidence, acq)
        acq.region_reasons += [f"{r} is filed for the whole exam, which also holds {mixed[r]}" for r in sorted(filed)]
        acq.region_reasons += [
            f"the program names {r} but also holds {mixed_programs[(acq.program, r)]}" for r in sorted(shared)
        ]
        if not evidence:
            acq.context["no_region_evidence"] = "1"
        elif acq.region is None and len({r for r, _, _ in evidence}) == 1:
            # Too weak to place it alone (a coil), but of one region only: agreeing with its exam, it is that region's
            acq.context["weak_region_evidence"] = evidence[0][0]
    _stations_of_the_whole(exam)
    _inherit(exam, fresh)


# Free texts read for region words, and coded statements looked up: (context key, kind of evidence, words).
_NAMED = (
    ("program", "program", "the program path names"),
    ("study_description", "study", "the study description names"),
    ("dataset_name", "study", "the dataset's name names"),
    ("exam_protocol", "study", "the exam's protocol names"),  # GE's ProtocolName (readers/dicom.py)
)
_CODED = (
    ("body_part", "body part", "BodyPartExamined"),
    ("anatomy", "anatomy code", "anatomy code"),
    ("exam_anatomy", "anatomy code", "the exam card's anatomy"),  # chosen for the card: never a console default
    ("exam_region", "anatomy code", "the exam card's anatomic region"),  # Philips "SRT.T-D9200.Knee"
)
CHOSEN = ("exam_anatomy", "exam_region")  # what a card is filed under by choice: never a console default


def _region_of_statement(key: str, code: str) -> str | None:
    """The region a coded statement names. A card's own filing may be a coded triplet ("SRT.T-A0100.Brain":
    scheme, code, meaning) or a word of the console's anatomy list ("Lower Extremity"): the code, then its
    meaning, then its words."""
    region = region_of_code(code)
    if region or key not in CHOSEN:
        return region
    parts = [p.strip() for p in code.split(".")]
    if len(parts) == 3:
        region = region_of_code(parts[1]) or region_of_body_part(parts[2])
        if region:
            return region
    named = regions_named(parts[-1])
    return next(iter(named)) if len(named) == 1 else None


FILED = ("body part", "anatomy code")  # what is filed for a program or a registration, not said by the series


def _filed_but_mixed(pending: list[tuple[Acquisition, list[tuple[str, str, str]]]]) -> dict[str, str]:
    """{region: why} for the regions filed as a body part or anatomy that this exam shows to be only part of it.

    A site registering a combined brain and cord exam (OFSEP: "de préférence lors du même examen") files one body
    part for every series; a series whose own slice stack rules that region out (a 176 mm wide sagittal brain
    slab filed SPINE), or a name of the exam or a series naming the other region, shows the filing is the
    exam's, not each series': it then counts as a console default (weak) for every series of the exam."""
    out: dict[str, str] = {}
    filed = {r for _, evidence in pending for r, kind, _ in evidence if kind in FILED}
    for region in sorted(filed):
        for acq, evidence in pending:
            excluded = geometry_excludes(acq) if stack_is_evidence(acq) else {}
            if region in excluded and any(r == region and kind in FILED for r, kind, _ in evidence):
                out[region] = f"{acq.name!r}, whose {excluded[region]}"
                break
            named = [r for r, kind, _ in evidence if kind in ("program", "study", "series") and r != region]
            if region in ("brain", "spine") and set(named) & {"brain", "spine"} - {region}:
                out[region] = f"{acq.name!r}, named for {'/'.join(sorted(set(named)))}"
                break
    return out


def _program_but_mixed(pending: list[tuple[Acquisition, list[tuple[str, str, str]]]]) -> dict[tuple[Any, str], str]:
    """{(program, region): why} for a program path naming the brain or the spine that holds a series named for the
    other one: OFSEP asks for brain and cord "de préférence lors du même examen", and a site may keep both in one
    program of its Head folder ("t2_tse_sag_C-spine" beside "t1_mprage_sag"). Its folder is then the program's
    filing, not each series' region: it counts as weak evidence, the series' own names decide, and a series named
    neither is placed by nothing (matching then takes it for what it is)."""
    named: dict[Any, dict[str, str]] = {}
    filed: dict[Any, set[str]] = {}
    for acq, evidence in pending:
        for region, kind, _ in evidence:
            if kind == "series" and region in ("brain", "spine"):
                named.setdefault(acq.program, {}).setdefault(region, acq.name)
            if kind == "program":
                filed.setdefault(acq.program, set()).add(region)
    out: dict[tuple[Any, str], str] = {}
    for program, regions in filed.items():
        for region in regions & {"brain", "spine"}:
            other = "spine" if region == "brain" else "brain"
            if other in regions:  # "SEP cerveau moelle": the program names both
                out[(program, region)] = f"its own name's {other}"
            elif other in named.get(program, {}):
                out[(program, region)] = f"{named[program][other]!r}, named for the {other}"
    return out


def evidence_of(acq: Acquisition) -> list[tuple[str, str, str]]:
    """Every piece of region evidence the input states for one acquisition: (region, kind, reason)."""
    ctx = acq.context
    out: list[tuple[str, str, str]] = []
    for key, kind, words in _NAMED:
        out += [(region, kind, f"{words} {word!r}") for region, word in regions_named(ctx.get(key)).items()]
    for key, kind, words in _CODED:
        code = ctx.get(key)
        region = _region_of_statement(key, code) if code else None
        if region:
            weak = key not in CHOSEN and code.strip().upper() in weak_terms()
            out.append((region, "weak" if weak else kind, f"{words} {code}"))
    names = " ".join(str(v) for v in (acq.name, acq.get("series_description"), ctx.get("protocol_name")) if v)
    out += [(region, "series", f"the series name names {word!r}") for region, word in regions_named(names).items()]
    out += [(region, "coil", f"coil {word!r}") for region, word in regions_of_coil(ctx.get("coil")).items()]
    return _refined(out, _generic(acq))


def _generic(acq: Acquisition) -> list[tuple[str, str, str]]:
    """The evidence of a program or study text that names a region by its generic words only (the spinal column:
    GE's "adult_spine_…" folder, a "Rachis" study)."""
    out = []
    ctx = acq.context
    for key, kind, words in _NAMED:
        for region, word in regions_named(ctx.get(key)).items():
            if tokens(word) in vocabulary()[region].generic:
                out.append((region, kind, f"{words} {word!r}"))
    for key, kind, words in _CODED:
        code = ctx.get(key)
        region = _region_of_statement(key, code) if code else None
        if region:
            parts = [p.strip().upper() for p in str(code).split(".")]
            if {parts[-1], parts[1] if len(parts) == 3 else ""} & vocabulary()[region].generic_codes:
                weak = key not in CHOSEN and code.strip().upper() in weak_terms()
                out.append((region, "weak" if weak else kind, f"{words} {code}"))
    return out


def _refined(out: list[tuple[str, str, str]], generic: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """A part of a region stated beside texts that name the whole only by its generic words (GE's "adult_spine_"
    folder with the anatomy code of the lumbar spine, a "Rachis" study of LSPINE series): those words name the
    column the part belongs to, and count for the part. A statement of the whole's own (a cord word, CSPINE, the
    cervical spine's code) keeps the whole, and the weights decide."""
    vocab = vocabulary()
    # A series' own name does not refine its program's filing: "Sag T2 lumbar" in "adult_spine_Routine" is a
    # station of a spine program; an anatomy code, a body part or a program or study name does.
    for part in {r for r, kind, _ in out if vocab[r].refines and kind not in ("series", "coil", "weak")}:
        whole = vocab[part].refines
        stated = [e for e in out if e[0] == whole and e[1] not in ("coil", "weak")]
        if stated and all(e in generic for e in stated):
            out = [
                (part, k, f"{why} (the column, whose {part} part is stated)") if e in stated else e
                for e in out
                for (_, k, why) in [e]
            ]
    return out


def _stations_of_the_whole(exam: Exam) -> None:
    """A part of a region (the lumbar spine) is a region of its own only when nothing else in the exam places a
    series in the whole (the spine). OFSEP's spinal exam is the cord, "la totalité de la moelle en 2 ou 3
    acquisitions" (seed 001), whose lower station covers the conus and is often named or filed lumbar ("T2 sag
    dorso-lombaire", LSPINE, CID 4031 T-11503). The exam is the DICOM study on one scanner, the BIDS session or the
    export (each program once an export is split into the exams it holds), not one program of it: a cord done
    with a Siemens "Spine\\C-Spine" and a "Spine\\L-Spine" program is one exam.

    The whole is placed by a series decided to be of it by any evidence but a coil or a console default (a
    cervical or cord name or code, CSPINE, TSPINE, a generic SPINE filing or folder of another series), or by a
    statement of the whole's own words or codes in any series' evidence (cord words in the study or exam
    description: "IRM médullaire", "IRM moelle"). Beside it, each series stating the part (decided the part, or
    left undecided by a tie with it) is a station of the whole: its part's evidence counts for the whole, and the
    weights decide again. A localizer, field map or calibration series states nothing here (it is planned on, not
    a station: a lumbar exam's "whole spine loc" covers the column). A lumbar program alone (every spinal
    statement of the exam lumbar: the MR-AAT "adult_spine_A13_Neu_LumbarSpine" program) stays lumbar."""
    vocab = vocabulary()
    acqs = exam.acquisitions
    for whole in sorted({r.refines for r in vocab.values() if r.refines}):
        parts = {r.name for r in vocab.values() if r.refines == whole}
        # A localizer, field map or calibration places no station: it is an aid the stations are planned on, and a
        # lumbar exam's localizer covers the column ("whole spine loc"), so its words state nothing of the exam.
        stated = {
            id(a): _statements_of(a, whole, exam.evidence.get(id(a), []))
            if not_a_sequence(a) is None
            else (False, set())
            for a in acqs
        }
        if not any(own or generic for own, generic in stated.values()):
            continue
        for acq in acqs:
            evidence = exam.evidence.get(id(acq), [])
            if acq.region not in (*parts, None) or not any(r in parts and k not in WEAK for r, k, _ in evidence):
                continue
            carried = {why for _, _, why in _generic(acq)}
            beside = [a for a in acqs if a is not acq and (stated[id(a)][0] or stated[id(a)][1] - carried)]
            if not beside and not stated[id(acq)][0]:
                continue
            as_whole = [(whole, k, f"{why} ({r})") if r in parts else (r, k, why) for r, k, why in evidence]
            region, reasons = decide(as_whole, acq)
            if region != whole:
                continue
            exam.stations.setdefault(id(acq), (acq.region, acq.region_reasons))
            acq.region = whole
            beside.sort(key=lambda a: a.region != whole)  # a series of the whole first, then one stating it
            where = (
                f"whose series {beside[0].name!r} is of the {whole}"
                if beside and beside[0].region == whole
                else f"whose series {beside[0].name!r} states the {whole}"
                if beside
                else f"whose own statements name the {whole}"
            )
            acq.region_reasons = [*reasons, f"a {'/'.join(sorted(parts))} station of an exam {where}: {whole}"]


WEAK = ("coil", "weak")  # evidence that places nothing alone: a coil, a console's default


def _statements_of(acq: Acquisition, whole: str, evidence: list[tuple[str, str, str]]) -> tuple[bool, set[str]]:
    """How an acquisition states `whole` (its evidence as `place` weighed it; a coil or a console default is no
    statement): whether by words or codes of the whole's own (a cord word, CSPINE, CID 4031 T-11501), and the
    generic statements (the column's words, SPINE, T-D04FF) of a series decided to be of the whole."""
    stated = [why for r, k, why in evidence if r == whole and k not in WEAK]
    generic = {why for _, _, why in _generic(acq)}
    own = any(why not in generic for why in stated)
    return own, ({why for why in stated if why in generic} if acq.region == whole else set())


def _inherit(exam: Exam, fresh: list[Acquisition]) -> None:
    """A series with no region evidence at all (or only a weak hint of that same region), in an exam whose other
    series were all placed in one region, is of that region (a "sag T2" without words in a study whose every other
    series says brain), unless its own slice stack rules that region out or spans head and spine, or the exam holds
    a series whose stack rules that region out (a combined card whose cord series alone are named, "T2 SAG
    CERVICAL", beside a 3D head slab: its unnamed "DIFFUSION AXIALE" is not therefore a cord series)."""
    placed = [a for a in exam.acquisitions if a.region is not None and INHERITED not in " ".join(a.region_reasons)]
    regions = {a.region for a in placed}
    lean = None if placed else _weak_lean(exam)
    if lean:
        regions = {lean}
    if len(regions) != 1:
        return
    (region,) = regions
    if not lean and any(region in geometry_excludes(a) for a in exam.acquisitions if stack_is_evidence(a)):
        return  # the exam holds series its own stacks rule out of that region (a 3D head slab beside cord series)
    for acq in fresh:
        weak = acq.context.get("weak_region_evidence")
        if acq.region is not None or not (acq.context.get("no_region_evidence") or weak == region):
            continue
        if region in geometry_excludes(acq) or _spans_head_and_spine(acq):
            continue
        acq.region = region
        if lean:
            acq.region_reasons = [
                f"{INHERITED} strong enough to place it; every series of the exam with any evidence names {region} "
                "only (a console's body part or a coil), and none says otherwise"
            ]
            continue
        hint = f" that places it (a {weak} coil alone)" if weak else ""
        acq.region_reasons = [f"{INHERITED}{hint}; the exam's other {len(placed)} placed series are {region}"]


def _weak_lean(exam: Exam) -> str | None:
    """The one region that all the evidence of an exam names, when none of it places a series by itself.

    A clinical head study whose every series is filed HEAD (the console's body part for a head coil) and whose
    names say no region ("Sag T1 +C", "Ax T1 SE +C") is a head study: none of its series is a spinal sequence. Only
    when nothing in the exam says otherwise: no series of another region or of split evidence, and no slice stack
    that rules the region out (a 51 mm wide sagittal cord T2 filed BRAIN, as spine-generic sites do, keeps its
    whole exam undecided)."""
    regions: set[str] = set()
    for acq in exam.acquisitions:
        if acq.region is not None:
            return None
        weak = acq.context.get("weak_region_evidence")
        if weak:
            regions.add(weak)
        elif not acq.context.get("no_region_evidence"):
            return None  # evidence of two regions, or of a region that does not decide
    if len(regions) != 1:
        return None
    (region,) = regions
    if any(region in geometry_excludes(acq) for acq in exam.acquisitions if stack_is_evidence(acq)):
        return None
    return region


def decide(evidence: list[tuple[str, str, str]], acq: Acquisition) -> tuple[str | None, list[str]]:
    """The region with the most weight of evidence; a tie, or nothing, decides nothing (and says so)."""
    spans = _spans_head_and_spine(acq)
    excluded = geometry_excludes(acq)
    score: dict[str, int] = {}
    overruled: set[str] = set()
    for region, kind, _ in evidence:
        # The slice stack overrules what a console fills in or a coil suggests, not what a program, a study or
        # the series' own name states (a pituitary sagittal T2 of a Head program is still of the head).
        if region in excluded and WEIGHT[kind] < DECIDES:
            overruled.add(region)
            continue
        score[region] = score.get(region, 0) + WEIGHT[kind]
    reasons = [f"{reason} → {region}" for region, _, reason in evidence]
    reasons += [f"{excluded[region]}: not {region}" for region in sorted(overruled)]
    if not score:
        return None, reasons + (["no evidence of the body region"] if not spans else [spans])
    best = max(score.values())
    top = sorted(r for r, s in score.items() if s == best)
    if len(top) > 1:
        if set(top) == {"brain", "orbits"}:
            top = ["orbits"]
            reasons = reasons + ["orbits imaged within the head"]
        else:
            return None, reasons + [f"the evidence is split ({', '.join(top)}): region not decided"]
    region = top[0]
    if best < DECIDES:
        return None, reasons + [f"weak evidence only (weight {best} < {DECIDES}): region not decided"]
    if spans and region in ("brain", "spine"):
        return None, reasons + [spans]
    head = whole_head(acq) if region == "orbits" and "brain" not in excluded else None
    if head:  # the orbits lie in the head: a slab of the whole head is a brain acquisition that also shows them
        return "brain", reasons + [f"{head}, orbits included: brain"]
    return region, reasons


def _spans_head_and_spine(acq: Acquisition) -> str | None:
    """A sagittal or coronal field of view taller than a head covers brain and cervical cord at once."""
    fov = acq.get("fov_mm")
    if not fov or acq.get("orientation") not in ("sagittal", "coronal"):
        return None
    limit = head_fov_max_mm()
    if max(fov) <= limit:
        return None
    return f"{acq.get('orientation')} FoV {max(fov):g} mm > {limit:g} mm spans head and spine: no single region"


def as_one(inspections: list[Inspection]) -> dict[str, Any]:
    """The `exam` a report names when its caller judges the whole input as one (an audit site, a study `listen`
    received): that exam, or how many exams were joined, with their regions."""
    exams = split(inspections)
    if len(exams) == 1:
        return {**exams[0].to_json(), "of": 1}
    joined = Exam(1, "as one exam", f"{len(exams)} exams judged as one", [v for e in exams for v in e.inspections])
    return {**joined.to_json(), "of": 1}


# ---------------------------------------------------------------------------------------------- scanners


def _scanner_key(exam: Exam) -> str:
    """The scanner an exam ran on: the readers' grouping key (manufacturer, model, digest of the serial or
    station), or the manufacturer and model the input states; "" when it states neither."""
    for acq in exam.acquisitions:
        if acq.context.get("scanner"):
            return acq.context["scanner"]
    first = exam.acquisitions[0] if exam.acquisitions else None
    if first is None:
        return ""
    return f"{first.get('manufacturer') or ''}|{first.get('model') or ''}|"


def by_scanner(exams: list[Exam]) -> list[Exam]:
    """The exams of one scanner joined into one (a site's brain and spine dummy runs are its whole protocol),
    in order of first appearance. Exams whose scanner the input does not state stay one each."""
    groups: dict[str, list[Exam]] = {}
    for exam in exams:
        key = _scanner_key(exam)
        groups.setdefault(key if key.strip("|") else f"unstated {exam.index}", []).append(exam)
    out: list[Exam] = []
    for members in groups.values():
        if len(members) == 1:
            out.append(members[0])
            continue
        inspections = [view for exam in members for view in exam.inspections]
        scanner = members[0].label.split("(", 1)[-1].split(",", 1)[0] if "(" in members[0].label else "scanner"
        label = f"{scanner} ({len(members)} exams: {', '.join(str(e.index) for e in members)})"
        out.append(Exam(len(out) + 1, "scanner", label, inspections))
    for index, exam in enumerate(out, 1):
        exam.index = index
    return out


# ---------------------------------------------------------------------------------------------- selection


def select(exams: list[Exam], wanted: str) -> Exam:
    """The exam holding `wanted`: a file or folder read (by path), a series number or name, or a program."""
    path = Path(wanted)
    found: list[Exam] = []
    if path.exists():
        target = path.resolve()
        for exam in exams:
            for acq in exam.acquisitions:
                source = acq.context.get("source")
                if source and _under(Path(source), target):
                    found.append(exam)
                    break
    else:
        for exam in exams:
            for acq in exam.acquisitions:
                number = acq.get("series_number")
                names = {acq.name, str(acq.get("series_description") or "")}
                if acq.program:  # an export's program, by its path or its own name
                    names |= {acq.program, re.split(r"[\\/]", acq.program.rstrip("\\/"))[-1]}
                if wanted in names or (number is not None and wanted.isdigit() and int(wanted) == number):
                    found.append(exam)
                    break
    if not found:
        raise ReadError(f"--exam-of {wanted}: no exam holds this file, series number or series name")
    if len(found) > 1:
        listed = "; ".join(e.label for e in found)
        raise ReadError(f"--exam-of {wanted}: found in {len(found)} exams ({listed}); name a file or folder instead")
    return found[0]


def _under(path: Path, target: Path) -> bool:
    try:
        resolved = path.resolve()
    except OSError:
        return False
    return resolved == target or target in resolved.parents
