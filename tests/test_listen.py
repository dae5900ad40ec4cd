"""`listen` and `check pacs://…`/`dicomweb://…` with real peers: dcmtk's and pynetdicom's storescu, and Orthanc.

Truth: `check` of the same fixture files on disk (the tests of that path compare it with dcm2niix and the
vendors' printouts); here every network path must give the same verdicts. Orthanc (Debian `orthanc` and
`orthanc-dicomweb`) is started by the test on free loopback ports, as a site's PACS would run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pydicom
import pytest

from ofsep_presets.spool import Spool, SpoolFull, safe_name

from .conftest import FIXTURES
from .support import DICOMWEB_PLUGIN, ORTHANC, free_port
from .support import orthanc as running_orthanc

SERIES = FIXTURES / "dicom/Siemens/VE11_PD_T2_tse_sag_1.8mm"
FILES = sorted(SERIES.glob("*.dcm"))
DCMTK = shutil.which("storescu", path="/usr/bin")


def essential(doc: dict) -> dict:
    """What a physicist acts on: verdicts per sequence and check, the session rules, the overall status."""
    return {
        "status": doc["status"],
        "scanner": doc["scanner"],
        "sequences": [
            (s["id"], s["status"], s["matched"], [(c["param"], c["status"], c["observed"]) for c in s["checks"]])
            for s in doc["sequences"]
        ],
        "session": [(r["rule"], r["status"]) for r in doc["session"]],
        # Which exam the report judged, and its regions: `listen` names it as `check` does.
        "exam": {k: (doc["exam"] or {}).get(k) for k in ("kind", "label", "regions", "of")},
    }


def check_json(*paths: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "ofsep_presets", "check", *paths, "--format", "json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


class Node:
    """`ofsep-presets listen` in a subprocess (on `port`, 0: any free one), its stderr/stdout collected as they come."""

    def __init__(self, out: Path, *args: str, port: int = 0):
        self.out = out
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ofsep_presets",
                "listen",
                "--out",
                str(out),
                "--port",
                str(port),
                "--settle",
                "0.5",
                *args,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._collect, daemon=True).start()
        if "--watch" in args:
            self.wait_for("watching")
        else:
            self.port = int(self.wait_for("listening as").rsplit(":", 1)[1].split(";")[0])

    def _collect(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for(self, text: str, timeout: float = 120) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for line in list(self.lines):
                if text in line:
                    return line
            if self.proc.poll() is not None and not any(text in line for line in self.lines):
                break
            time.sleep(0.1)
        raise AssertionError(f"no {text!r} from listen; it said: {self.lines}")

    def report(self, timeout: float = 120) -> dict:
        line = self.wait_for("study-", timeout)
        return json.loads(Path(line.rsplit(" — ", 1)[1]).with_suffix(".json").read_text())

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(timeout=60)
        return "\n".join(self.lines)


@pytest.fixture
def node(tmp_path):
    started = []

    def start(*args: str) -> Node:
        started.append(Node(tmp_path / f"node{len(started)}", *args))
        return started[-1]

    yield start
    for n in started:
        if n.proc.poll() is None:
            n.proc.kill()


# -- the spool ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("uid", ["../../etc/passwd", "/etc/passwd", "1.2\x00/..", "a" * 5000, "..", "", "1.2.3/4"])
def test_a_hostile_uid_cannot_name_a_path(tmp_path, uid):
    spool = Spool(tmp_path / "spool")
    result = spool.store(uid, uid, uid, b"DICM")
    assert result.path.resolve().is_relative_to((tmp_path / "spool").resolve())
    assert len(result.path.relative_to(tmp_path / "spool").parts) == 3
    assert [p for p in tmp_path.iterdir()] == [tmp_path / "spool"]


def test_spool_keeps_real_uids_stores_once_and_refuses_past_its_budget(tmp_path):
    assert safe_name("1.2.840.10008.5.1.4.1.1.4") == "1.2.840.10008.5.1.4.1.1.4"
    spool = Spool(tmp_path / "spool", max_bytes=10, min_free_bytes=0)
    assert spool.store("1.2", "1.3", "1.4", b"12345").new
    assert not spool.store("1.2", "1.3", "1.4", b"other").new  # a duplicate: the first copy stays
    assert (tmp_path / "spool/1.2/1.3/1.4.dcm").read_bytes() == b"12345"
    with pytest.raises(SpoolFull):
        spool.store("1.2", "1.3", "1.5", b"123456")
    assert not list((tmp_path / "spool").rglob(".partial-*"))


# -- listen with real senders ------------------------------------------------------------------------------------


@pytest.mark.skipif(DCMTK is None, reason="dcmtk's storescu is not installed (.ci/run installs Debian's dcmtk)")
def test_dcmtk_storescu_sends_a_series_and_the_report_equals_check_of_the_folder(node):
    n = node()
    sent = subprocess.run(
        [DCMTK, "-aet", "CONSOLE", "-aec", "OFSEP-PRESETS", "127.0.0.1", str(n.port), *map(str, FILES)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sent.returncode == 0, sent.stderr
    assert essential(n.report()) == essential(check_json(str(SERIES)))
    stored = list((n.out / "spool").rglob("*.dcm"))
    assert len(stored) == len(FILES)
    assert "CONSOLE@127.0.0.1" in n.stop()


def test_pynetdicom_storescu_sends_twice_and_duplicates_are_counted_once(node):
    n = node()
    for _ in range(2):
        sent = subprocess.run(
            [
                sys.executable,
                "-m",
                "pynetdicom",
                "storescu",
                "-aet",
                "CONSOLE2",
                "127.0.0.1",
                str(n.port),
                *map(str, FILES),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sent.returncode == 0, sent.stderr
    assert essential(n.report()) == essential(check_json(str(SERIES)))
    assert len(list((n.out / "spool").rglob("*.dcm"))) == len(FILES)
    assert f"{len(FILES)} already there" in n.stop()


def test_a_peer_not_allowed_is_rejected_and_stores_nothing(node):
    n = node("--allow", "CONSOLE@127.0.0.1")
    sent = subprocess.run(
        [sys.executable, "-m", "pynetdicom", "storescu", "-aet", "INTRUDER", "127.0.0.1", str(n.port), str(FILES[0])],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "rejected" in (sent.stdout + sent.stderr).lower()
    assert not list((n.out / "spool").rglob("*.dcm"))
    assert "refused an association from INTRUDER@127.0.0.1" in n.stop()


def _association(port: int, aet: str = "CONSOLE", max_pdu: int = 16382, timeout: float = 300):
    from pynetdicom import AE
    from pynetdicom.sop_class import MRImageStorage

    ae = AE(ae_title=aet)
    ae.add_requested_context(MRImageStorage)
    ae.maximum_pdu_size = max_pdu
    ae.dimse_timeout = ae.network_timeout = ae.acse_timeout = timeout  # 300: a loaded CI machine, not a slow node
    assoc = ae.associate("127.0.0.1", port, ae_title="OFSEP-PRESETS", max_pdu=max_pdu)
    assert assoc.is_established
    return assoc


def test_a_sender_that_disconnects_mid_instance_leaves_no_file(node):
    n = node()
    assoc = _association(n.port, max_pdu=4096, timeout=5)  # the answer never comes: don't wait 300 s for it
    ds = pydicom.dcmread(FILES[0])
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.8.498.1"
    sock = assoc.dul.socket
    real_send, sent = sock.send, [0]

    def send_then_cut(data: bytes) -> None:
        sent[0] += 1
        if sent[0] == 4:  # a few P-DATA fragments of the instance are out: the cable is pulled
            sock.socket.shutdown(socket.SHUT_RDWR)
            sock.socket.close()
            raise OSError("cut")
        real_send(data)

    sock.send = send_then_cut
    with contextlib.suppress(Exception):  # the sender's side of a cut connection may raise anything
        assoc.send_c_store(ds)
    assoc.abort()
    time.sleep(2)
    assert not list((n.out / "spool").rglob("*.dcm"))
    assert not list((n.out / "spool").rglob(".partial-*"))
    n.stop()


def test_hostile_uids_sent_over_the_network_stay_in_the_spool(node, tmp_path):
    n = node()
    assoc = _association(n.port)
    ds = pydicom.dcmread(FILES[0])
    ds.StudyInstanceUID = "1.2.3/../../../../../escape"
    ds.SeriesInstanceUID = "/tmp"
    status = assoc.send_c_store(ds)
    assoc.release()
    assert status.Status == 0x0000
    files = [p for p in n.out.rglob("*") if p.is_file()]
    n.wait_for("study-")
    n.stop()
    assert all(p.resolve().is_relative_to(n.out.resolve()) for p in files)
    assert not (tmp_path / "escape").exists() and not Path("/escape").exists()


def write_instances(folder: Path, count: int, first: int) -> list[Path]:
    """`count` instances of the fixture series (new SOP Instance UIDs, pixel data dropped: headers are what a
    check reads, and the suite must stay small on disk)."""
    base = pydicom.dcmread(FILES[0])
    del base.PixelData
    folder.mkdir(parents=True)
    paths = []
    for i in range(first, first + count):
        base.SOPInstanceUID = base.file_meta.MediaStorageSOPInstanceUID = f"1.2.826.0.1.3680043.8.498.{i}"
        base.InstanceNumber = i
        paths.append(folder / f"{i:05d}.dcm")
        base.save_as(paths[-1], enforce_file_format=True)
    return paths


def test_many_instances_over_four_concurrent_associations_arrive_with_none_lost(node, tmp_path):
    """Four senders at once, each its own process and association (the full 20,000-instance run is
    benchmarks/bench_listen.py; the suite sends 1,200 to keep CI short)."""
    n = node()
    per, senders = 300, 4
    folders = [write_instances(tmp_path / f"scu{k}", per, 1 + k * per) for k in range(senders)]
    if DCMTK:
        commands = [
            [DCMTK, "-aet", f"SCU{k}", "-aec", "OFSEP-PRESETS", "127.0.0.1", str(n.port), *map(str, f)]
            for k, f in enumerate(folders)
        ]
    else:
        commands = [
            [
                sys.executable,
                "-m",
                "pynetdicom",
                "storescu",
                "-aet",
                f"SCU{k}",
                "127.0.0.1",
                str(n.port),
                str(f[0].parent),
            ]
            for k, f in enumerate(folders)
        ]
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for c in commands]
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * senders, outputs
    stored = list((n.out / "spool").rglob("*.dcm"))
    assert len(stored) == per * senders
    # An association that started late may have let the study settle early: the report that counts is the one
    # written once every instance was in (a study is re-checked when more instances arrive).
    line = n.wait_for(f"{per * senders} instances —", timeout=300)
    report = json.loads(Path(line.rsplit(" — ", 1)[1]).with_suffix(".json").read_text())
    assert essential(report) == essential(check_json(str(n.out / "spool")))
    n.stop()


def test_watch_takes_a_console_export_folder(node, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    n = node("--watch", str(share))
    for f in FILES:
        shutil.copy(f, share / f.name)
    (share / "notes.txt").write_text("not DICOM")
    assert essential(n.report()) == essential(check_json(str(SERIES)))
    assert sorted(p.name for p in share.iterdir()) == sorted([*(f.name for f in FILES), "notes.txt"])  # untouched
    n.stop()


# -- a real PACS: Orthanc --------------------------------------------------------------------------------------


@pytest.fixture
def orthanc(tmp_path):
    if ORTHANC is None:
        pytest.skip("Orthanc is not installed (.ci/run installs Debian's orthanc and orthanc-dicomweb)")
    listener = free_port()
    with running_orthanc(
        tmp_path / "pacs",
        FILES,
        HttpServerEnabled=True,
        DicomServerEnabled=True,
        DicomAlwaysAllowStore=True,
        DicomModalities={
            "ofsep": {
                "AET": "OFSEP-PRESETS",
                "Host": "127.0.0.1",
                "Port": listener,
                "AllowGet": True,
                "AllowStore": True,
            }
        },
    ) as pacs:
        yield {**pacs, "listener": listener}


def _study_uid() -> str:
    return str(pydicom.dcmread(FILES[0], stop_before_pixels=True).StudyInstanceUID)


def test_orthanc_sends_a_study_to_listen(orthanc, tmp_path):
    n = Node(tmp_path / "node", "--allow", "ORTHANC", port=orthanc["listener"])  # the port Orthanc knows us at
    try:
        studies = json.loads(urllib.request.urlopen(orthanc["url"] + "/studies", timeout=30).read())
        request = urllib.request.Request(
            orthanc["url"] + "/modalities/ofsep/store", data=json.dumps(studies).encode(), method="POST"
        )
        urllib.request.urlopen(request, timeout=120).read()
        assert essential(n.report()) == essential(check_json(str(SERIES)))
    finally:
        n.stop()


def test_check_pacs_url_pulls_with_c_get(orthanc):
    pulled = check_json(f"pacs://ORTHANC@127.0.0.1:{orthanc['dicom']}/{_study_uid()}")
    assert essential(pulled) == essential(check_json(str(SERIES)))
    assert pulled["source"].startswith("pacs://ORTHANC@127.0.0.1")


@pytest.mark.skipif(not DICOMWEB_PLUGIN.exists(), reason="Debian's orthanc-dicomweb is not installed")
def test_check_dicomweb_url_reads_the_metadata_only(orthanc):
    # Headers as DICOM JSON, plus per series the Siemens CSA series header as bulk data (Orthanc writes its
    # BulkDataURIs without the port: asked of the server the study came from). Without that header the pull does
    # not know the slice count the protocol states (35 in this PD/T2; 4 images are stored) and places the series
    # otherwise than the files do.
    port = orthanc["url"].rsplit(":", 1)[1]
    pulled = check_json(f"dicomweb://127.0.0.1:{port}/dicom-web/studies/{_study_uid()}")
    assert essential(pulled) == essential(check_json(str(SERIES)))


def test_bad_pacs_urls_say_how_to_write_them():
    for url in ("pacs://127.0.0.1:1/x", "dicomweb://host/nostudy"):
        proc = subprocess.run(
            [sys.executable, "-m", "ofsep_presets", "check", url], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 2 and "write " in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(not DICOMWEB_PLUGIN.exists(), reason="Debian's orthanc-dicomweb is not installed")
def test_check_dicomweb_answer_past_the_read_bound_is_refused(orthanc):
    # The study's metadata (4 instances of DICOM JSON, several kB) past a read bound of 2,000 bytes: refused in
    # one line that names the limit and how to raise it (limits.py), not read whole into memory first; and at
    # once, not asked again (dicomweb-client retried every failed request 5 times, 30 s of waits).
    port = orthanc["url"].rsplit(":", 1)[1]
    start = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ofsep_presets",
            "check",
            f"dicomweb://127.0.0.1:{port}/dicom-web/studies/{_study_uid()}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OFSEP_PRESETS_LIMIT_READ_BYTES": "2000"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "OFSEP_PRESETS_LIMIT_READ_BYTES" in proc.stderr and "Traceback" not in proc.stderr
    assert time.monotonic() - start < 20


def test_a_server_answer_with_no_stated_length_is_bounded_while_it_arrives():
    # An HTTP/1.0 answer with no Content-Length (the body ends when the server closes): the bound is counted on
    # the bytes as they arrive. Served by the standard library's http.server on loopback.
    import http.server

    from ofsep_presets.limits import LimitError
    from ofsep_presets.pull import _bounded_session

    body = b"x" * 50_000

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bulk"
    try:
        with pytest.raises(LimitError):
            _bounded_session("test", 10_000).get(url, timeout=10)
        assert _bounded_session("test", 60_000).get(url, timeout=10).content == body
    finally:
        server.shutdown()


@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_a_server_trickling_its_answer_is_refused_when_the_pulls_time_has_passed(monkeypatch, chunked):
    # A server that sends its answer a byte every 0.1 s: each socket read well within any timeout, the whole 1,000
    # bytes in 100 s. The pull's time (limit pull_seconds, 2 s here) ends it, checked between reads, with or
    # without a stated length (chunked transfer coding: RFC 9112 7.1).
    import http.server

    from ofsep_presets.limits import Clock, LimitError
    from ofsep_presets.pull import _bounded_session

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header(*(("Transfer-Encoding", "chunked") if chunked else ("Content-Length", "1000")))
            self.end_headers()
            try:
                for _ in range(1000):
                    self.wfile.write(b"1\r\nx\r\n" if chunked else b"x")
                    time.sleep(0.1)
                self.wfile.write(b"0\r\n\r\n" if chunked else b"")
            except OSError:
                pass  # the client gave up

        def log_message(self, *args):
            pass

    monkeypatch.setenv("OFSEP_PRESETS_LIMIT_PULL_SECONDS", "2")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/bulk"
    try:
        start = time.monotonic()
        with pytest.raises(LimitError, match="pull_seconds"):
            _bounded_session("test", 10_000, clock=Clock("test")).get(url, timeout=10)
        assert time.monotonic() - start < 6
    finally:
        server.shutdown()
        server.server_close()
