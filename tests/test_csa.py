"""The CSA header reader (ofsep_presets.csa) against nibabel's csareader, the reference it replaces: every CSA
header of the fixture DICOM files read to the same names and items, and damaged headers refused or read alike."""

from __future__ import annotations

import gzip
import io
import warnings

import pydicom
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ofsep_presets import csa

from .conftest import FIXTURES

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # nibabel warns about its experimental DICOM readers on import
    from nibabel.nicom import csareader


def _headers() -> list[bytes]:
    """The CSA image and series headers of the fixture files: (0029,xx10/xx20) of the 'SIEMENS CSA HEADER' block."""
    out = []
    for path in sorted((FIXTURES / "dicom").rglob("*")):
        if not path.is_file() or path.suffix in (".json", ".bval", ".bvec", ".md", ".txt"):
            continue
        raw = path.read_bytes()
        raw = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        try:
            ds = pydicom.dcmread(io.BytesIO(raw), stop_before_pixels=True)
        except Exception:
            continue
        for tag in (0x00291010, 0x00291020, 0x00291110, 0x00291120):
            if tag in ds and isinstance(ds[tag].value, bytes) and ds[tag].value not in out:
                out.append(ds[tag].value)
    return out


HEADERS = _headers()


def _nibabel(header: bytes):
    try:
        return {name: tag["items"] for name, tag in csareader.read(header)["tags"].items()}
    except Exception as exc:  # nibabel raises CSAReadError, struct.error, AssertionError, UnboundLocalError...
        return type(exc)


def _ours(header: bytes):
    try:
        return csa.tags(header)
    except Exception as exc:
        return type(exc)


def test_every_fixture_csa_header_reads_as_nibabel_reads_it():
    assert len(HEADERS) >= 10
    read = 0
    for header in HEADERS:
        expected = _nibabel(header)
        assert (_ours(header) == expected) if isinstance(expected, dict) else not isinstance(_ours(header), dict)
        read += isinstance(expected, dict)
    assert read >= 10
    protocols = [csa.tags(h).get("MrPhoenixProtocol") for h in HEADERS if isinstance(_nibabel(h), dict)]
    assert any(p and "### ASCCONV BEGIN" in str(p[0]) for p in protocols)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(0, 10_000),
    damage=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), min_size=1, max_size=4),
    cut=st.one_of(st.none(), st.integers(0, 6000)),
)
def test_damaged_csa_headers_read_as_nibabel_reads_them(index, damage, cut):
    """Bytes changed in the tag and item headers (counts, lengths, VM, VR) or the header cut short: both refuse it,
    or both read the same names and items."""
    header = bytearray(HEADERS[index % len(HEADERS)])
    for offset, value in damage:
        if offset < len(header):
            header[offset] = value
    header = bytes(header[:cut] if cut is not None else header)
    expected = _nibabel(header)
    got = _ours(header)
    if isinstance(expected, dict):
        assert got == expected
    else:
        assert not isinstance(got, dict)


@pytest.mark.parametrize("first", [b"SV10\x04\x03\x02\x01", b""])
def test_tiny_and_empty_headers_are_refused_alike(first):
    for header in (first, first + b"\x00" * 8, first + b"\x01\x00\x00\x00\x4d\x00\x00\x00"):
        assert isinstance(_nibabel(header), type) and isinstance(_ours(header), type)


def _built(kind: int, tags: list[tuple[bytes, int, bytes, list[tuple[int, int, bytes]]]]) -> bytes:
    """A CSA header from (name, VM, VR, [(x0, x1, value)]): CSA2 (b"SV10") or CSA1, items padded to 4 bytes."""
    import struct

    out = (b"SV10\x04\x03\x02\x01" if kind == 2 else b"") + struct.pack("<2I", len(tags), 77)
    for name, vm, vr, items in tags:
        out += struct.pack("<64si4s3i", name, vm, vr, 0, len(items), 0)
        for x0, x1, value in items:
            out += struct.pack("<4i", x0, x1, 0, 0) + value + b"\x00" * (-len(value) % 4)
    return out


@pytest.mark.parametrize(
    "header",
    [
        _built(2, [(b"A\x00", 1, b"ST\x00\x00", [(0, -1, b"")]), (b"B\x00", 1, b"IS\x00\x00", [(0, 2, b"7\x00")])]),
        _built(2, [(b"N\x00", 0, b"DS\x00\x00", [(0, 4, b"1.5\x00"), (0, 0, b""), (0, 4, b"2.5\x00")])]),
        _built(2, [(b"NoNul", 2, b"IS", [(0, 2, b"12"), (0, 2, b"34"), (0, 0, b"")])]),
        _built(1, [(b"T0\x00", 1, b"IS\x00\x00", [(5, 5, b"1\x00")]), (b"T1\x00", 1, b"IS\x00\x00", [])]),
        _built(1, [(b"T0\x00", 1, b"IS\x00\x00", []), (b"T1\x00", 1, b"LO\x00\x00", [(7, 4, b"abc\x00")])]),
        _built(2, [(b"X\x00", 1, b"IS\x00\x00", [(0, 2, b"x\x00")])]),
    ],
)
def test_hand_built_headers_read_as_nibabel_reads_them(header):
    """The corners nibabel has: a length of -1 (the rest of the header), VM 0, fewer items than stated, names and
    items without a NUL (left bytes), CSA1 lengths counted from tag 1's items, a number item that is not one."""
    expected = _nibabel(header)
    got = _ours(header)
    assert got == expected if isinstance(expected, dict) else not isinstance(got, dict)
