"""Small helpers several test modules need: one copy each, so a fix reaches every test that uses them."""

from __future__ import annotations

import io
import resource
import subprocess
import sys
import tarfile
from collections.abc import Iterable
from pathlib import Path

# Far above what a check of a small export needs, far below what a YAML or XML bomb expands to.
MEMORY = 1536 * 2**20


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
