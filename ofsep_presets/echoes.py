"""One acquisition's echoes stored apart, joined: the series (DICOM) or sidecars (BIDS `echo-<n>`) of one
multi-echo acquisition are one acquisition with every echo time, and the later echoes say whose echo they are.

A console or converter may store each echo of a multi-echo acquisition on its own: Siemens saves one series per
echo (dcm2niix issues 101 and 568), dcm2niix writes one image and sidecar per echo (`_e2`, BIDS `echo-2`, with
"EchoNumber" in the sidecar). Matching must judge the acquisition once, by all its echoes (a multi-echo GRE by its
T2*-weighted later echoes), never its later echoes as acquisitions of their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .acquisition import Acquisition


def _echo_key(acq: Acquisition) -> tuple | None:
    """What the series of one acquisition's echoes share: the study and scanner, the series' own protocol
    (ProtocolName where it names the series' protocol: never GE's exam-level one), TR and the geometry."""
    protocol = acq.context.get("protocol_name")
    if not protocol or not acq.context.get("echo_numbers") or acq.get("repetition_time_ms") is None:
        return None
    return (
        acq.context.get("study"),
        acq.context.get("scanner"),
        protocol,
        acq.get("repetition_time_ms"),
        acq.get("orientation"),
        acq.get("slice_thickness_mm"),
        tuple(acq.get("matrix") or ()),
        tuple(acq.get("fov_mm") or ()),
    )


def bids_echo_key(acq: Acquisition) -> tuple | None:
    """A BIDS file's echo key: the DICOM one, and its name without the `echo-<n>` entity. The files of one
    acquisition's echoes differ in that entity only (BIDS: "echo-<index>" is the echo of a multi-echo acquisition);
    two runs of one protocol differ in `run-`, and de-identified sidecars often lose the SeriesNumber that would
    tell them apart otherwise."""
    key = _echo_key(acq)
    if key is None:
        return None
    return (*key, re.sub(r"_echo-[0-9]+(?=_)", "", acq.name))


def join_echo_series(
    acquisitions: list[Acquisition],
    stored: str = "series of their own",
    key: Callable[[Acquisition], tuple | None] | None = None,
) -> None:
    """The echoes of one acquisition stored as series of their own are one multi-echo acquisition: a series whose
    images all state a later echo (EchoNumbers (0018,0086) >= 2, PS3.3 C.8.3.1: "the echo number used in generating
    this image"; a dcm2niix sidecar's "EchoNumber") is another echo of the series of the same protocol, TR and
    geometry that holds echo 1 (the nearest before it in series number). That series takes every echo time; the
    later echo's series says whose echo it is (context `echo_of`), and matching lists it as such, never as an
    acquisition of its own. Idempotent: a series joined already is joined the same way again. `key`: what the
    echoes of one acquisition share (`_echo_key` by default; BIDS files: `bids_echo_key`)."""
    groups: dict[tuple, list[Acquisition]] = {}
    for acq in acquisitions:
        shared = (key or _echo_key)(acq)
        if shared is not None:
            groups.setdefault(shared, []).append(acq)
    for members in groups.values():
        if len(members) < 2:
            continue

        def numbers(acq: Acquisition) -> set[int]:
            return {int(n) for n in acq.context["echo_numbers"].split(",")}

        firsts = [a for a in members if 1 in numbers(a)]
        laters = [a for a in members if min(numbers(a)) >= 2]
        if not firsts or not laters:
            continue
        joined: dict[int, list[Acquisition]] = {}
        for later in laters:
            mine = _series_number(later)
            before = [a for a in firsts if _series_number(a) <= mine]
            home = max(before, key=_series_number) if before else min(firsts, key=_series_number)
            if numbers(later) & numbers(home):
                continue  # the same echo twice: a repeat, not another echo
            joined.setdefault(id(home), [home]).append(later)
        for home, *echoes in joined.values():
            times = set(_echoes(home))
            parts = [f"{home.name!r} echo {home.context['echo_numbers']} (TE {_shown(home)} ms)"]
            for later in echoes:
                times |= set(_echoes(later))
                parts.append(f"{later.name!r} echo {later.context['echo_numbers']} (TE {_shown(later)} ms)")
                later.context["echo_of"] = home.name
            if not times:
                continue
            told = " and ".join(sorted({a.context.get("echo_numbers_from", "EchoNumbers") for a in [home, *echoes]}))
            home.set(
                "echo_times_ms",
                sorted(times),
                f"one acquisition's echoes stored as {stored} ({told}; the same ProtocolName, TR "
                "and geometry): " + "; ".join(parts),
            )


def _series_number(acq: Acquisition) -> int:
    return acq.get("series_number") or 0


def _echoes(acq: Acquisition) -> list[float]:
    """Every echo time a series states (its own EchoTime values, else its echo time)."""
    times = acq.get("echo_times_ms")
    if times:
        return list(times)
    return [acq.get("echo_time_ms")] if acq.get("echo_time_ms") is not None else []


def _shown(acq: Acquisition) -> str:
    """The echo times the series' own files state."""
    return acq.context.get("series_echo_times") or "/".join(f"{t:g}" for t in _echoes(acq)) or "not stated"
