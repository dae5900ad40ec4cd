"""An audit folder proves it is ours before it is reused (issue 14): planted caches, symbolic links, two audits at
once, an audit killed with SIGKILL, and one site whose check crashes. Every attack is built by the test itself.

The truth each test holds to comes from outside the cache: sub-mgh's own T2w sidecar states TR 2000 ms and flip
180° (the VB17 protocol, test_audit.py), so that site fails whatever a cache file says."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from ofsep_presets import __version__
from ofsep_presets import audit as audit_module
from ofsep_presets.cache import fingerprint, spec_digest
from ofsep_presets.cli import main
from ofsep_presets.spec import load_spec

from .conftest import FIXTURES, ROOT

DATASET = FIXTURES / "bids" / "spine-generic-single-subject"
MGH = DATASET / "sub-mgh"


def _audit(*args: str):
    return CliRunner().invoke(main, ["audit", *args])


def _mgh(out: Path, *more: str):
    return _audit(str(MGH), "--spec", "spine-generic", "--out", str(out), *more)


def _forged_report() -> dict:
    """sub-mgh's real check document with every verdict turned to pass and a script in a series name."""
    from ofsep_presets.check import check
    from ofsep_presets.readers import inspect_path
    from ofsep_presets.report import to_json

    doc = to_json(check(inspect_path(MGH), load_spec("spine-generic")))
    doc["status"] = "pass"
    for seq in doc["sequences"]:
        seq["status"] = "pass"
        seq["matched"] = "<script>alert(1)</script>"
        for c in seq["checks"]:
            c["status"] = "pass"
    for r in doc["session"]:
        r["status"] = "pass"
    return doc


def _key_stamp_spec() -> tuple[str, str, str]:
    spec = load_spec("spine-generic")
    return str(MGH.resolve()), fingerprint(MGH), spec_digest(list(spec.files))


def test_a_planted_cache_of_the_old_layout_forges_no_pass_and_injects_no_html(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    key, stamp, spec = _key_stamp_spec()
    db = sqlite3.connect(out / "cache.sqlite")
    db.execute("CREATE TABLE sites (key TEXT PRIMARY KEY, stamp TEXT, spec TEXT, tool TEXT, report TEXT, page TEXT)")
    db.execute(
        "INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?)",
        (key, stamp, spec, f"{__version__}/1", json.dumps(_forged_report()), "<script>alert(1)</script>"),
    )
    db.commit()
    db.close()
    result = _mgh(out)
    assert result.exit_code == 1, result.stderr  # sub-mgh fails, whatever the planted row said
    doc = json.loads((out / "audit.json").read_text())
    assert doc["sites"][0]["verdict"] == "fail" and "0 from the cache" in result.stderr
    for page in out.rglob("*.html"):
        assert "<script" not in page.read_text(), page


def test_a_cache_signed_with_another_secret_or_edited_after_signing_is_not_used(tmp_path):
    out = tmp_path / "out"
    assert _mgh(out).exit_code == 1
    db = sqlite3.connect(out / "cache.sqlite")
    (key, stamp, spec, tool, page) = db.execute("SELECT key, stamp, spec, tool, page FROM sites").fetchone()
    forged = json.dumps(_forged_report())
    import hashlib
    import hmac

    other = hmac.new(b"another folder's secret", "\0".join([key, stamp, spec, tool, forged, page]).encode(), "sha256")
    db.execute("UPDATE sites SET report = ?, mac = ?", (forged, other.hexdigest()))
    db.commit()
    result = _mgh(out)
    assert result.exit_code == 1 and "0 from the cache" in result.stderr
    # Our own row, its report edited afterwards (the signature kept): refused too.
    (text,) = db.execute("SELECT report FROM sites").fetchone()
    db.execute("UPDATE sites SET report = ?", (text.replace('"fail"', '"pass"'),))
    db.commit()
    result = _mgh(out)
    assert result.exit_code == 1 and "0 from the cache" in result.stderr
    # A second run with the row untouched is served from the cache (the checks above are not always-miss).
    result = _mgh(out)
    assert result.exit_code == 1 and "1 from the cache" in result.stderr
    db.close()
    assert hashlib  # imported for the attacker's signature above


def _plant(out: Path, build) -> None:
    out.mkdir(exist_ok=True)
    path = out / "cache.sqlite"
    path.unlink(missing_ok=True)
    build(path)


def _rows(report: str | None, page: str | None = "x") -> callable:
    def build(path: Path) -> None:
        key, stamp, spec = _key_stamp_spec()
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('schema', '2')")
        db.execute(
            "CREATE TABLE sites (key TEXT PRIMARY KEY, stamp TEXT NOT NULL, spec TEXT NOT NULL, tool TEXT NOT NULL,"
            " report TEXT, page TEXT, mac TEXT)"
        )
        db.execute(
            "INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?)", (key, stamp, spec, f"{__version__}/2", report, page, "0")
        )
        db.commit()
        db.close()

    return build


DAMAGE = {
    "not a database": lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000),
    "random bytes": lambda p: p.write_bytes(os.urandom(5000)),
    "a table without the columns": lambda p: (
        sqlite3.connect(p).execute("CREATE TABLE sites (key TEXT)").connection.commit()
    ),
    "report not JSON": _rows("{not json"),
    "report a JSON list": _rows("[1, 2, 3]"),
    "report with wrong types": _rows(json.dumps({"status": 7, "sequences": "all"})),
    "report NULL, page NULL": _rows(None, None),
    "report as a blob": _rows(b"\x00\x01"),  # type: ignore[arg-type]
    "empty file": lambda p: p.write_bytes(b""),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_or_planted_cache_is_never_fatal(tmp_path, damage):
    out = tmp_path / "out"
    _plant(out, DAMAGE[damage])
    result = _mgh(out)
    assert result.exit_code == 1, (damage, result.stderr, result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    assert json.loads((out / "audit.json").read_text())["sites"][0]["verdict"] == "fail"
    assert _mgh(out).stderr.count("1 from the cache") == 1  # rebuilt: the next run uses it


def test_a_sites_symlink_is_refused_and_nothing_where_it_points_is_deleted(tmp_path):
    out = tmp_path / "out"
    assert _mgh(out).exit_code == 1
    victim = tmp_path / "someone-else"
    victim.mkdir()
    (victim / "index.html").write_text("mine")
    (victim / "sub-mgh.html").write_text("mine too")
    import shutil

    shutil.rmtree(out / "sites")
    (out / "sites").symlink_to(victim)
    result = _mgh(out)
    assert result.exit_code == 2 and "symbolic link" in result.stderr
    assert sorted(p.name for p in victim.iterdir()) == ["index.html", "sub-mgh.html"]
    assert (victim / "sub-mgh.html").read_text() == "mine too"


@pytest.mark.parametrize("name", ["cache.sqlite", "audit.json", "audit.html", "cache.sqlite-journal"])
def test_a_symlinked_file_of_ours_is_refused_and_never_written_through(tmp_path, name):
    out = tmp_path / "out"
    assert _mgh(out).exit_code == 1
    victim = tmp_path / "other-application.db"
    db = sqlite3.connect(victim)
    db.execute("CREATE TABLE sites (key TEXT)")
    db.commit()
    db.close()
    before = victim.read_bytes()
    (out / name).unlink(missing_ok=True)
    (out / name).symlink_to(victim)
    result = _mgh(out)
    assert result.exit_code == 2 and "symbolic link" in result.stderr, result.stderr
    assert victim.read_bytes() == before


def test_a_fresh_folder_with_a_planted_symlinked_cache_is_refused(tmp_path):
    victim = tmp_path / "other.db"
    victim.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "cache.sqlite").symlink_to(victim)
    result = _mgh(out)
    assert result.exit_code == 2 and victim.read_bytes() == b"precious"


def test_a_second_audit_into_a_busy_folder_exits_2_naming_the_first(tmp_path):
    out = tmp_path / "out"
    assert _mgh(out).exit_code == 1
    before = (out / "audit.json").read_bytes()
    fd = os.open(out / ".ofsep-audit.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.ftruncate(fd, 0)
        os.write(fd, b"4242\n")
        result = _mgh(out)
    finally:
        os.close(fd)
    assert result.exit_code == 2 and "another audit (pid 4242)" in result.stderr
    assert (out / "audit.json").read_bytes() == before
    assert _mgh(out).exit_code == 1  # the lock is gone with its holder


def _spawn(out: Path, *sites: Path) -> subprocess.Popen:
    args = [sys.executable, "-m", "ofsep_presets", "audit", *map(str, sites), "--spec", "spine-generic"]
    return subprocess.Popen(
        [*args, "--out", str(out), "--executor", "serial", "--quiet"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=os.environ | {"PYTHONPATH": str(ROOT)},
    )


def _wait_for(predicate, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.02)


def _slow_sites(tmp_path: Path, n: int = 60) -> list[Path]:
    """Many copies of one site's sidecars: an audit that takes long enough to be caught in the middle."""
    import shutil

    sites = []
    for i in range(n):
        site = tmp_path / "data" / f"site-{i:03d}"
        shutil.copytree(MGH, site)
        sites.append(site)
    return sites


def test_two_audits_at_once_do_not_interleave(tmp_path):
    sites = _slow_sites(tmp_path)
    out = tmp_path / "out"
    first = _spawn(out, *sites)
    lock = out / ".ofsep-audit.lock"
    _wait_for(lambda: lock.is_file() and lock.read_text().strip() == str(first.pid))
    second = _spawn(out, *sites[:3])
    _, err = second.communicate(timeout=120)
    first.communicate(timeout=300)
    assert second.returncode == 2 and f"another audit (pid {first.pid})" in err.decode()
    assert first.returncode == 1
    doc = json.loads((out / "audit.json").read_text())
    html = (out / "audit.html").read_text()
    assert len(doc["sites"]) == len(sites) and f"{len(sites)} sites" in html


def test_an_audit_killed_with_sigkill_leaves_a_folder_the_next_run_accepts_and_repairs(tmp_path):
    sites = _slow_sites(tmp_path)
    out = tmp_path / "out"
    victim = _spawn(out, *sites)
    _wait_for(lambda: (out / "sites").is_dir() and len(list((out / "sites").glob("*.html"))) >= 3)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    assert not (out / "audit.json").exists()  # killed mid-audit, before any report
    assert (out / ".ofsep-audit.lock").read_text().strip() == str(victim.pid)  # a stale lock of a dead pid
    result = _audit(*map(str, sites), "--spec", "spine-generic", "--out", str(out))
    assert result.exit_code == 1, result.stderr
    doc = json.loads((out / "audit.json").read_text())
    assert len(doc["sites"]) == len(sites) and doc["summary"]["fail"] == len(sites)
    assert "from the cache" in result.stderr and "(0 from the cache)" not in result.stderr  # the dead run's work kept
    leftovers = [p.name for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_half_written_folder_of_an_older_audit_is_accepted(tmp_path):
    out = tmp_path / "out"
    (out / "sites").mkdir(parents=True)
    (out / "cache.sqlite").write_bytes(b"half")
    (out / ".audit.json.k1ll3d.tmp").write_text('{"audit": "ofsep-presets audit", "sit')
    (out / ".ofsep-audit.lock").write_text("999999\n")
    result = _mgh(out)
    assert result.exit_code == 1, result.stderr
    assert not (out / ".audit.json.k1ll3d.tmp").exists()
    assert json.loads((out / "audit.json").read_text())["summary"]["sites"] == 1


def test_someone_elses_folder_is_still_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "cache.sqlite").write_bytes(b"x")
    (out / "thesis.tex").write_text("mine")
    result = _mgh(out)
    assert result.exit_code == 2 and "holds no earlier audit" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["cache.sqlite", "thesis.tex"]


def test_a_crash_inside_check_on_one_site_is_that_sites_error_and_the_others_are_written(tmp_path, monkeypatch):
    real = audit_module.check

    def crashing(inspections, spec):
        if any("sub-unf" in i.source for i in inspections):
            raise OverflowError("int too large to convert to float")
        return real(inspections, spec)

    monkeypatch.setattr(audit_module, "check", crashing)
    out = tmp_path / "out"
    sites = [str(DATASET / "sub-unf"), str(MGH), str(DATASET / "sub-poly")]
    result = _audit(*sites, "--spec", "spine-generic", "--out", str(out), "--executor", "serial")
    assert result.exit_code == 2, result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    doc = json.loads((out / "audit.json").read_text())
    by_id = {s["id"]: s for s in doc["sites"]}
    assert by_id["sub-unf"]["verdict"] == "unreadable"
    assert "OverflowError" in by_id["sub-unf"]["error"] and "int too large" in by_id["sub-unf"]["error"]
    assert by_id["sub-mgh"]["verdict"] == "fail" and by_id["sub-poly"]["report"] is not None
    assert sorted(p.name for p in (out / "sites").iterdir()) == ["sub-mgh.html", "sub-poly.html"]
    assert "sub-unf" in result.stderr


def test_a_site_that_kills_its_worker_process_is_named_and_the_others_are_checked(tmp_path, monkeypatch):
    real = audit_module.check
    parent = os.getpid()

    def killing(inspections, spec):
        if any("sub-unf" in i.source for i in inspections) and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)  # the kernel's OOM killer does the same to a worker
        return real(inspections, spec)

    monkeypatch.setattr(audit_module, "check", killing)  # worker processes are forked from this one
    out = tmp_path / "out"
    sites = [str(DATASET / "sub-poly"), str(DATASET / "sub-unf"), str(MGH), str(DATASET / "sub-ucl")]
    result = _audit(*sites, "--spec", "spine-generic", "--out", str(out), "--jobs", "2")
    assert result.exit_code == 2, (result.stderr, result.exception)
    by_id = {s["id"]: s for s in json.loads((out / "audit.json").read_text())["sites"]}
    assert by_id["sub-unf"]["verdict"] == "unreadable" and "worker process" in by_id["sub-unf"]["error"]
    assert all(by_id[s]["report"] is not None for s in ("sub-poly", "sub-mgh", "sub-ucl"))


def test_a_warm_rerun_with_nothing_changed_rewrites_no_overview_and_the_same_json(tmp_path):
    """Nothing changed: audit.json comes out byte for byte as before (the cached documents spliced in as signed)
    and audit.html, which follows from it, is left as it is. An edited audit.html is written again."""
    out = tmp_path / "out"
    assert _mgh(out).exit_code == 1
    json_before = (out / "audit.json").read_bytes()
    html = out / "audit.html"
    stamp = html.stat().st_mtime_ns
    result = _mgh(out)
    assert result.exit_code == 1 and "1 from the cache" in result.stderr
    assert (out / "audit.json").read_bytes() == json_before
    assert html.stat().st_mtime_ns == stamp
    html.write_text("<p>edited</p>", encoding="utf-8")
    assert _mgh(out).exit_code == 1
    assert "edited" not in html.read_text(encoding="utf-8") and "sub-mgh" in html.read_text(encoding="utf-8")


def test_the_cache_signs_only_a_document_whose_verdict_follows_from_its_findings():
    """What the cache signs it validated once (a warm audit does not validate signed rows again): a document whose
    verdict does not follow from its findings is never kept."""
    from ofsep_presets.cache import Cache

    store = Cache(None, b"secret")
    inconsistent = _forged_report()
    inconsistent["session"][0]["status"] = "fail"  # the document still says "pass"
    store.put("k", "s", "spec", inconsistent, "page-digest")
    assert store.get("k", "s", "spec") is None
    store.put("k", "s", "spec", _forged_report(), "page-digest")  # consistent (every verdict pass): kept
    assert store.get("k", "s", "spec") is not None
