"""Site presets on the real spine-generic exports: `snapshot` writes a valid overlay, `check --preset` on the same
export reports no drift, and on an edited copy of the GE protocol tar it reports exactly the edits — apart from
compliance (one edit stays within the protocol's tolerance, the other breaks it)."""

from __future__ import annotations

import io
import json
import tarfile

import pytest
from click.testing import CliRunner

from ofsep_presets.cli import main

from .conftest import FIXTURES, ROOT

EXPORTS = FIXTURES / "vendor-exports"
GE_TAR = EXPORTS / "ge/GE_750_no-FOCUS/protocol.tar"
SAME = {
    "ge": GE_TAR,
    "siemens": EXPORTS / "siemens/Prisma_VE11C_no-ZOOMit/spine_generic_Prisma_VE11C_no-ZOOMit.exar1",
    "philips": EXPORTS / "philips/spine_generic_philips_R53.ExamCard",
}


def _run(*args: str):
    return CliRunner().invoke(main, list(args))


def _snapshot(export, target):
    result = _run("snapshot", str(export), "-o", str(target), "--spec", "spine-generic")
    assert result.exit_code == 0, result.stderr
    return target


@pytest.mark.parametrize("vendor", sorted(SAME))
def test_snapshot_then_check_preset_on_the_same_export_reports_no_drift(vendor, tmp_path):
    preset = _snapshot(SAME[vendor], tmp_path / "site.yaml")
    assert _run("validate", str(preset)).exit_code == 0
    assert "extends: spine-generic" in preset.read_text()
    plain = json.loads(_run("check", str(SAME[vendor]), "--spec", "spine-generic", "--format", "json").stdout)
    result = _run("check", str(SAME[vendor]), "--preset", str(preset), "--format", "json")
    report = json.loads(result.stdout)
    assert report["drift"]["status"] == "none" and report["drift"]["changes"] == []
    assert report["drift"]["compared"] > 30
    # Compliance is the spec's, unchanged by the preset.
    # The Philips card holds MT-off inside the GRE-MT (second dynamic): a warning to verify (spine-generic spec).
    expected = "warn" if vendor == "philips" else "pass"
    assert result.exit_code == 0 and report["status"] == plain["status"] == expected
    assert [(s["id"], s["status"]) for s in report["sequences"]] == [(s["id"], s["status"]) for s in plain["sequences"]]


def _edited_copy(target, edits: dict[str, tuple[str, str]]):
    """The GE tar with `set KEY "old"` replaced by `set KEY "new"` in the LxProtocol of the named protocol folder."""
    with tarfile.open(GE_TAR) as src, tarfile.open(target, "w") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read() if member.isfile() else None
            folder = member.name.split("/")[1] if member.name.count("/") >= 2 else ""
            if data is not None and member.name.endswith("/LxProtocol") and folder.split("_")[0] in edits:
                key, (old, new) = edits[folder.split("_")[0]]
                before = f'set {key} "{old}"'.encode()
                assert data.count(before) == 1, (member.name, before)
                data = data.replace(before, f'set {key} "{new}"'.encode())
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data) if data is not None else None)
    return target


def test_check_preset_on_an_edited_copy_reports_exactly_the_edits(tmp_path):
    preset = _snapshot(GE_TAR, tmp_path / "site.yaml")
    edited = _edited_copy(
        tmp_path / "protocol-edited.tar",
        {"T1w": ("FLIPANG", ("9", "9.4")), "T2w": ("TR", ("2500.0", "2600.0"))},
    )
    result = _run("check", str(edited), "--preset", str(preset), "--format", "json")
    report = json.loads(result.stdout)
    changes = {(c["sequence"], c["param"], c["preset"], c["observed"], c["status"]) for c in report["drift"]["changes"]}
    assert changes == {
        ("sg.t1w", "flip_angle_deg", 9, 9.4, "changed"),
        ("sg.t2w", "repetition_time_ms", 2500, 2600, "changed"),
    }
    # Separately, compliance: 9.4° is within the spec's 9 ± 0.5; a GE T2w TR of 2600 ms is not 2500.
    status = {s["id"]: s["status"] for s in report["sequences"]}
    assert status["sg.t1w"] == "pass" and status["sg.t2w"] == "fail"
    assert result.exit_code == 1
    table = _run("check", str(edited), "--preset", str(preset)).stdout
    assert "Drift from the preset of protocol.tar: 2" in table
    assert "sg.t2w repetition_time_ms: preset 2500 → now 2600" in table
    junit = _run("check", str(edited), "--preset", str(preset), "--format", "junit").stdout
    assert junit.count('type="drift"') == 2


def test_snapshot_never_replaces_a_file_and_a_plain_spec_is_not_a_preset(tmp_path):
    target = tmp_path / "site.yaml"
    target.write_text("mine\n")
    result = _run("snapshot", str(GE_TAR), "-o", str(target), "--spec", "spine-generic")
    assert result.exit_code == 2 and "never replaced" in result.stderr
    assert target.read_text() == "mine\n" and sorted(p.name for p in tmp_path.iterdir()) == ["site.yaml"]
    result = _run("check", str(GE_TAR), "--preset", str(ROOT / "protocol_spec" / "spine-generic.yaml"))
    assert result.exit_code == 2 and "not a site preset" in result.stderr
    preset = _snapshot(GE_TAR, tmp_path / "other.yaml")
    result = _run("check", str(GE_TAR), "--preset", str(preset), "--spec", "ofsep-2020")
    assert result.exit_code == 2 and "leave out --spec" in result.stderr
