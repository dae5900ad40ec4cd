"""Small helpers several test modules need: one copy each, so a fix reaches every test that uses them."""

from __future__ import annotations

import contextlib
import io
import json
import resource
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

# Far above what a check of a small export needs, far below what a YAML or XML bomb expands to.
MEMORY = 1536 * 2**20
# A real PACS for `listen` and `check pacs://` / `dicomweb://`: Debian's orthanc and orthanc-dicomweb (.ci/run).
ORTHANC = shutil.which("Orthanc") or shutil.which("Orthanc", path="/usr/sbin")
DICOMWEB_PLUGIN = Path("/usr/share/orthanc/plugins/libOrthancDicomWeb.so")


def tar_of(members: Iterable[tuple[str, bytes]]) -> bytes:
    """An uncompressed tar holding these (name, bytes) members, as a GE protocol tar is."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _limited(memory: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


def bounded_cli(*args: str, timeout: float = 60, memory: int = MEMORY) -> subprocess.CompletedProcess:
    """The CLI in a subprocess with a memory limit and a timeout: a regression fails instead of hanging the suite."""
    return subprocess.run(
        [sys.executable, "-m", "ofsep_presets", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=lambda: _limited(memory),
    )


def print_xml(folder: Path, parameters: Iterable[tuple[str, str]]) -> Path:
    """A minimal Siemens print-protocol XML (PrintOut / Protocol / Card / ProtParameter {Label, ValueAndUnit}, the
    layout of the VE11C fixture printout) holding one step with these (label, value) rows."""
    rows = "".join(
        f"<ProtParameter><Label>{label}</Label><ValueAndUnit>{value}</ValueAndUnit></ProtParameter>"
        for label, value in parameters
    )
    path = folder / "print.xml"
    path.write_text(
        "<?xml version='1.0'?><PrintOut><PrintProtocol><Protocol><HeaderProtPath>\\\\USER\\x\\t1</HeaderProtPath>"
        f"<Card>{rows}</Card></Protocol></PrintProtocol></PrintOut>",
        encoding="utf-8",
    )
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def orthanc(root: Path, files: Iterable[Path] = (), **config: object) -> Iterator[dict]:
    """Orthanc on free loopback ports (HTTP with DICOMweb when the plugin is installed, DICOM as AET ORTHANC, C-GET
    allowed), its database and log in `root`, `files` stored into it; `config` adds to or overrides its settings.
    Gives {"url": http://127.0.0.1:PORT, "http": PORT, "dicom": PORT}; Orthanc is stopped on leaving."""
    http, dicom = free_port(), free_port()
    settings = {
        "Name": "test-pacs",
        "StorageDirectory": str(root / "db"),
        "IndexDirectory": str(root / "db"),
        "HttpPort": http,
        "DicomPort": dicom,
        "DicomAet": "ORTHANC",
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": False,
        "DicomCheckCalledAet": False,
        "DicomAlwaysAllowGet": True,
        "Plugins": [str(DICOMWEB_PLUGIN)] if DICOMWEB_PLUGIN.exists() else [],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/"},
        **config,
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "orthanc.json").write_text(json.dumps(settings))
    url = f"http://127.0.0.1:{http}"
    with (root / "orthanc.log").open("w") as log:
        proc = subprocess.Popen([ORTHANC, str(root / "orthanc.json")], stdout=log, stderr=subprocess.STDOUT)
        try:
            for _ in range(300):
                try:
                    urllib.request.urlopen(url + "/system", timeout=1).read()
                    break
                except OSError:
                    time.sleep(0.1)
            else:
                raise AssertionError(f"Orthanc did not start (its log: {root / 'orthanc.log'})")
            for f in files:
                request = urllib.request.Request(url + "/instances", data=f.read_bytes(), method="POST")
                urllib.request.urlopen(request, timeout=30).read()
            yield {"url": url, "http": http, "dicom": dicom}
        finally:
            proc.terminate()
            proc.wait(timeout=30)
