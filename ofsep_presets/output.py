"""Writing rendered files: never into someone's non-empty folder without --force, always atomically."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from .errors import OfsepError, OutputExistsError


class OutputError(OfsepError, OSError):
    """The output cannot be written (read-only or full file system, no permission): exit 2, one line.

    Also an OSError, so code that handles a failed write as an OS error keeps working.
    """

    exit_code = 2


_HINTS = {
    errno.EROFS: "the file system is read-only",
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}


def output_error(path: Path, exc: OSError) -> OutputError:
    """The one-line message for a write that failed: what, where, why, what to do."""
    why = _HINTS.get(exc.errno or 0) or exc.strerror or str(exc)
    return OutputError(f"cannot write {path}: {why}; free space, or choose another output location")


def prepare_dir(out: Path, force: bool) -> None:
    try:
        _prepare_dir(out, force)
    except OutputError:
        raise
    except OSError as exc:
        raise output_error(out, exc) from None


def _prepare_dir(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} exists and is not a directory; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise OutputExistsError(
            f"{out} is not empty; nothing was written. Use --force to overwrite the files ofsep-presets writes "
            f"there, or --out to choose another directory."
        )
    out.mkdir(parents=True, exist_ok=True)


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write to a temporary file beside `path`, then rename: a reader never sees half a file.

    Any OS error (read-only or full file system, no permission) is an OutputError, and leaves no temporary file.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise output_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; a report is as readable as any file the user writes
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise output_error(path, exc) from None
    except BaseException:
        _discard(tmp)
        raise


def _discard(tmp: str) -> None:
    with contextlib.suppress(OSError):  # a read-only file system may refuse even this; nothing else to do
        Path(tmp).unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
