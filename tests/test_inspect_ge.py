"""GE protocol tar: agrees with GE's own Protocol report of the same protocol; tar members are read safely."""

from __future__ import annotations

import hashlib
import html
import io
import re
import tarfile

import pytest

from ofsep_presets.acquisition import ReadError
from ofsep_presets.readers import inspect_path

from .conftest import FIXTURES

GE = FIXTURES / "vendor-exports/ge/GE_750_no-FOCUS"
# Report label -> (canonical parameter, scale from the report's unit)
REPORT = {
    "TR": ("repetition_time_ms", 1),
    "TE": ("echo_time_ms", 1),
    "TI": ("inversion_time_ms", 1),
    "Flip Angle": ("flip_angle_deg", 1),
    "Slice Thickness": ("slice_thickness_mm", 1),
    "FOV": ("fov_read", 10),
    "Freq": ("matrix_read", 1),
    "Phase": ("matrix_phase", 1),
    "NEX": ("averages", 1),
    "Echo Train Length": ("echo_train_length", 1),
}


def report_sections() -> dict[str, str]:
    text = html.unescape(re.sub(r"<[^>]+>", " ", (GE / "spine_generic_ge_750_no-FOCUS.html").read_text("latin-1")))
    parts = re.split(r"Series Description\s+", text)[1:]
    return {part.split("\n")[0].strip(): part for part in parts}


def printed(section: str, label: str) -> float | None:
    match = re.search(rf"(?:^|\s){re.escape(label)}\s+(-?\d+(?:\.\d+)?)\s", section)
    return float(match.group(1)) if match else None


def test_tar_agrees_with_the_protocol_report():
    [inspection] = inspect_path(GE / "protocol.tar")
    sections = report_sections()
    assert [a.name for a in inspection.acquisitions] == list(sections)  # task names, not folder names
    checked = 0
    for acq in inspection.acquisitions:
        ours = dict(acq.params)
        ours.update(fov_read=(ours.get("fov_mm") or [None])[0])
        ours.update(
            matrix_read=(ours.get("matrix") or [None, None])[0], matrix_phase=(ours.get("matrix") or [None, None])[1]
        )
        for label, (param, scale) in REPORT.items():
            expected = printed(sections[acq.name], label)
            if expected is None:  # "Minimum" or not printed for this series: nothing to compare
                assert (
                    param not in ("echo_time_ms", "repetition_time_ms")
                    or ours.get(param) is None
                    or printed(sections[acq.name], label) is None
                )
                continue
            if param.startswith("matrix") and expected == 0:  # calibration scan: no imaging matrix
                assert ours.get(param) is None, acq.name
                continue
            if param == "fov_read" and ours.get(param) is None:
                # fov_mm is a [read, phase] pair; without PHASEFOV in the export the pair is absent, and the
                # report shows no phase FOV for that series either: nothing the input told was lost.
                assert printed(sections[acq.name], "Phase FOV") is None, acq.name
                continue
            assert ours.get(param) == pytest.approx(expected * scale), (acq.name, label, ours.get(param), expected)
            checked += 1
    assert checked >= 50


def test_tar_semantics():
    [inspection] = inspect_path(GE / "protocol.tar")
    acq = {a.name: a.params for a in inspection.acquisitions}
    assert acq["T1w"]["sequence_family"] == "mprage"  # SPGR + IrP: IR-FSPGR
    assert "echo_time_ms" not in acq["T1w"]  # TE "Minimum": the export does not tell the value
    assert acq["DWI"]["b_values"] == [0.0, 800.0] and acq["DWI"]["diffusion_directions"] == 30
    assert "b_values" not in acq["T2w"]  # MULTIBVALUE "1000.0;" is a leftover: IOPT has no DIFF
    assert acq["T1w"]["fov_mm"] == [320.0, 256.0]  # FOV "32.0" cm, PHASEFOV "0.80"
    assert "fov_mm" not in acq["T2w"]  # FOV "25.6" cm but no PHASEFOV: the pair is not fully stated


def test_tar_field_strength_from_the_session_agrees_with_the_report():
    """session.xml MRSessionData `fieldstrength` "30000" (gauss) is the MR750's 3 T, as the Protocol report's header
    prints it ("DISCOVERY 750 3T"): every series of the tar states it, from the session."""
    [tar] = inspect_path(GE / "protocol.tar")
    [report] = inspect_path(GE / "spine_generic_ge_750_no-FOCUS.html")
    assert report.scanner["field_strength_t"] == 3.0
    assert {a.params.get("field_strength_t") for a in tar.acquisitions} == {3.0}
    assert all("MRSessionData fieldstrength" in a.provenance["field_strength_t"] for a in tar.acquisitions)


def test_tar_software_version_is_the_release_its_session_states():
    """session.xml MRSessionData `MR_VERSION`: the release that saved the export, read from the tar's own bytes here;
    every series of the tar states it, from the session."""
    with tarfile.open(GE / "protocol.tar") as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("session.xml"))
        stated = re.search(rb'name="MR_VERSION" value="([^"]+)"', tar.extractfile(member).read()).group(1).decode()
    [inspection] = inspect_path(GE / "protocol.tar")
    assert stated == "DV25.1#0" and inspection.scanner["software_version"] == stated
    assert all("MR_VERSION" in a.provenance["software_version"] for a in inspection.acquisitions)


def test_a_session_without_a_plausible_field_strength_states_none(tmp_path):
    for value in ("", "abc", "-15000", "1e12", "nan"):
        session = (
            '<session xmlns="http://wf.di.med.ge.com/2006/session"><data name="MRSessionData">'
            f'<property name="fieldstrength" value="{value}"/></data><task name="T1w">'
            '<data name="LxProtocol"><property name="CONTENT_PROPERTY" value="s1"/></data></task></session>'
        ).encode()
        path = tmp_path / "p.tar"
        path.write_bytes(_tar({"exam/session.xml": session, "exam/s1/LxProtocol": b'set PSEQ "SPGR"\nset TR "7.0"\n'}))
        [inspection] = inspect_path(path)
        assert "field_strength_t" not in inspection.acquisitions[0].params, value


def _tar(members: dict[str, bytes], links: dict[str, str] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return buffer.getvalue()


def test_hostile_tar_members_are_not_read(tmp_path):
    lx = (
        b'set PSEQ "SPGR"\nset IMODE "3D"\nset PLANE "AXIAL"\nset TR "35.0"\nset TE "4.0"\nset FOV "23.0"\n'
        b'set SLTHICK "5.0"\n'
    )
    path = tmp_path / "evil.tar"
    path.write_bytes(
        _tar(
            {"good/LxProtocol": lx, "../escape/LxProtocol": lx, "/abs/LxProtocol": lx},
            links={"link/LxProtocol": "/etc/passwd"},
        )
    )
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    [inspection] = inspect_path(path)
    assert [a.name for a in inspection.acquisitions] == ["good"]
    assert inspection.warnings == ["3 tar member(s) refused (links, absolute or '..' names, oversize)"]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not (tmp_path / "escape").exists() and not (tmp_path.parent / "escape").exists()


def test_tar_size_cap(tmp_path, monkeypatch):
    path = tmp_path / "big.tar"
    path.write_bytes(_tar({f"s{i}/LxProtocol": b'set PSEQ "SPGR"\n' + b"#" * 900 for i in range(3)}))
    [inspection] = inspect_path(path)  # within the limits: read
    monkeypatch.setenv("OFSEP_PRESETS_LIMIT_READ_BYTES", "1000")
    with pytest.raises(ReadError, match="read_bytes limit"):
        inspect_path(path)


def test_bare_lxprotocol(tmp_path):
    with tarfile.open(GE / "protocol.tar") as source:
        member = next(m for m in source.getmembers() if m.name.endswith("T2w_20190130092322849_10/LxProtocol"))
        (tmp_path / "LxProtocol").write_bytes(source.extractfile(member).read())
    [inspection] = inspect_path(tmp_path / "LxProtocol")
    assert inspection.format == "ge-lxprotocol"
    assert inspection.acquisitions[0].params["repetition_time_ms"] == 2500.0


def test_a_tar_repacked_from_its_folder_reads_the_same(tmp_path):
    """`tar -cf x.tar .` (members named ./exam/...) reads as the original: same tasks, same values."""
    with tarfile.open(GE / "protocol.tar") as source:
        members = {m.name: source.extractfile(m).read() for m in source.getmembers() if m.isreg()}
    path = tmp_path / "repacked.tar"
    path.write_bytes(_tar({f"./{name}": data for name, data in members.items()}))
    with tarfile.open(path) as archive:
        assert all(name.startswith("./") for name in archive.getnames())
    [original] = inspect_path(GE / "protocol.tar")
    [repacked] = inspect_path(path)
    assert len(repacked.acquisitions) == len(original.acquisitions) >= 8
    assert [a.params for a in repacked.acquisitions] == [a.params for a in original.acquisitions]
