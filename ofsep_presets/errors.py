"""The project's own error types.

Every failure a user can cause (a bad spec, a bad option, an unreadable file) is one of these, so the CLI can
turn it into a message and an exit code instead of a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass


class OfsepError(Exception):
    """Base of every error the project raises on purpose; the message is written for the user."""

    exit_code = 2


@dataclass(frozen=True, order=True)
class Problem:
    """One finding of spec validation, located at a file and line so an editor can jump to it."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        # Line 0 means "the file as a whole" (or no file at all): print no line number an editor would jump to.
        if not self.file:
            return self.message
        if self.line <= 0:
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.message}"


class SpecError(OfsepError):
    """A spec file could not be loaded or is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(set(problems))
        super().__init__("\n".join(str(p) for p in self.problems))


class TemplateError(OfsepError):
    """A template failed to render: the message names the template file and line."""


class OutputExistsError(OfsepError):
    """Refusing to write into a non-empty output directory without --force."""

    exit_code = 1
