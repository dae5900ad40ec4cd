"""What a Siemens printed card states beyond the shared vocabulary: the acquired voxel's ingredients, words such as
"Interpolation On" or "MTC Off", and the header's voxel in its printed order.

Shared by the PDF/text printout and the print-to-XML (both are the console's cards, label by label). The rows and
words are data (protocol_spec/vendors/printouts/siemens-printout.yaml). The matrix follows from them as the console
computes it, exactly as the export reader does from the same fields: [base, base × phase resolution × FoV phase].

The header's "Voxel size: a×b×c" is phase × read × slice, and with interpolation on VE and XA print the
interpolated pixel: it is then the reconstructed voxel, not the acquired one (`derived` computes that from the
rows above, as for the export).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

from .. import units
from ..acquisition import Acquisition
from ..resources import spec_dir
from ..yamlload import load_yaml

_VOXEL = re.compile(r"Voxel Size:\s*([\d.]+)\s*[×x*]\s*([\d.]+)\s*[×x*]\s*([\d.]+)", re.I)
# The header's acquisition time: "TA: 4:44" (VB, VE: minutes:seconds), "TA: 4:44 min" or "TA: 19 sec" (XA).
_TA = re.compile(r"\bTA:\s*(?:(?:(\d+):)?(\d+):(\d\d)(?!\d)(?:\s*min\b)?|(\d+(?:\.\d+)?)\s*sec\b)")


@cache
def _spec() -> dict:
    return load_yaml(spec_dir() / "vendors" / "printouts" / "siemens-printout.yaml")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def extra_labels() -> set[str]:
    """The printed labels read here (normalised), for the pairing of a PDF/text card."""
    spec = _spec()
    labels = {
        _norm(label) for part in ("numbers", "words") for entry in spec[part].values() for label in entry["labels"]
    }
    labels |= {_norm(label) for rule in spec["implies"] for label in rule["labels"]}
    named = (*spec["larmor_labels"], *spec["single_echo_labels"], *spec.get("sequence_name_labels", []))
    return labels | {_norm(label) for label in named}


def printed_sequence_name(labelled: Iterable[tuple[str, str]]) -> str:
    """The step's sequence as its "Sequence Name" row prints it (XA prints it nowhere else), or ""."""
    wanted = {_norm(label) for label in _spec().get("sequence_name_labels", [])}
    return next((value.strip() for label, value in labelled if _norm(label) in wanted and value.strip()), "")


def add_printed_values(acq: Acquisition, labelled, title: str, header: str, where: str) -> None:
    """Set what the card's rows and header state that the vocabulary does not read (first printing wins)."""
    spec = _spec()
    seen: set[str] = set()
    for label, value in labelled:
        key = _norm(label)
        text = " ".join(value.split())
        for param, entry in spec["numbers"].items():
            if key not in {_norm(n) for n in entry["labels"]} or param in seen:
                continue
            seen.add(param)
            unit = entry.get("unit")
            number = text[: -len(unit)].strip() if unit and text.endswith(unit) else text
            with acq.reading(f"{label}={value}"):
                parsed = float(number)
                acq.set(param, int(parsed) if entry.get("integer") else parsed, f"{where} {label}={value}")
        for param, entry in spec["words"].items():
            if key not in {_norm(n) for n in entry["labels"]} or param in seen or param in acq.params:
                continue
            words = {_norm(w): v for w, v in entry["values"].items()}
            if _norm(text) in words:
                seen.add(param)
                acq.set(param, words[_norm(text)], f"{where} {label}={value}")
        for rule in spec["implies"]:
            if key in {_norm(n) for n in rule["labels"]} and _norm(text) == _norm(rule["word"]):
                for param, implied in rule["sets"].items():
                    if param not in acq.params:
                        acq.set(param, implied, f"{where} {label}={value} (no parallel imaging)")
        if key in {_norm(n) for n in spec["larmor_labels"]} and "field_strength_t" not in acq.params:
            _field_strength(acq, label, text, where)
        if key in {_norm(n) for n in spec["single_echo_labels"]} and text == "1" and acq.get("echo_time_ms"):
            acq.set("echo_times_ms", [acq.get("echo_time_ms")], f"{where} {label}={value} (one echo: TE)")
    _matrix(acq, where)
    _header_voxel(acq, title, header, where)
    _header_time(acq, header, where)


def _field_strength(acq: Acquisition, label: str, text: str, where: str) -> None:
    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*MHz", text)
    if not found:
        return
    b0 = units.field_from_proton_larmor_hz(float(found.group(1)) * 1e6)
    # As for the exports (ascconv): 2.89 T is a "3 T" system, the nominal value is what a protocol names.
    nominal = units.nominal_field_t(b0)
    acq.set("field_strength_t", nominal, f"{where} {label}={text} = {b0:.3f} T (nominal {nominal:g} T)")


def _matrix(acq: Acquisition, where: str) -> None:
    base, pct, fov = acq.get("base_resolution"), acq.get("phase_resolution_pct"), acq.get("fov_mm")
    if not base or not pct or not fov or not fov[0]:
        return
    phase = units.phase_lines(base, pct, fov)
    acq.set(
        "matrix",
        [base, phase],
        f"{where} Base resolution {base} × Phase resolution {pct:g} % × FoV phase/read {fov[1]:g}/{fov[0]:g} mm",
    )


def _header_time(acq: Acquisition, header: str, where: str) -> None:
    """The step's acquisition time from the header's TA (the export's lTotalScanTimeSec, to the second)."""
    found = _TA.search(header)
    if found is None or "duration_s" in acq.params:
        return
    hours, minutes, seconds, alone = found.groups()
    total = float(alone) if alone else int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    acq.set("duration_s", float(total), f"{where} header '{found.group(0)}'")


def _header_voxel(acq: Acquisition, title: str, header: str, where: str) -> None:
    found = _VOXEL.search(header)
    if not found:
        return
    phase, read, through = (float(x) for x in found.groups())
    printed = f"{where} header 'Voxel size: {found.group(1)}×{found.group(2)}×{found.group(3)}' (phase × read × slice)"
    voxel = _spec()["voxel"]
    interpolated = acq.get("interpolation")
    if interpolated and any(re.search(p, title) for p in voxel["unknown_when_interpolated"]):
        acq.warn(f"voxel_size_mm from {printed}: this console may print the interpolated pixel")
        return
    if interpolated and not any(re.search(p, title) for p in voxel["acquired_when_interpolated"]):
        acq.set(
            "reconstructed_voxel_mm", [read, phase, through], f"{printed}, the interpolated pixel (Interpolation On)"
        )
        return
    acq.set("voxel_size_mm", [read, phase, through], printed)
