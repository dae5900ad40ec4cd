"""The command line: a thin layer that parses options and calls the library (contract: ../shared/notes/cli.md)."""

from __future__ import annotations

import sys

import click

from . import __version__
from .errors import OfsepError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def fail(error: OfsepError) -> None:
    click.echo(f"ofsep-presets: {error}", err=True)
    sys.exit(error.exit_code)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="ofsep-presets")
def main() -> None:
    """Render the OFSEP MRI protocol into vendor exam cards and checklists, and check scanners against it.

    \b
    Start here:
      ofsep-presets render              every exam card and checklist into ./ofsep-presets-out/
      ofsep-presets validate my.yaml    check a spec or a site overlay
      ofsep-presets plan --situation first-diagnosis
    """


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
def validate(files: tuple[str, ...]) -> None:
    """Validate spec files (or site overlays); print each problem as FILE:LINE: MESSAGE.

    Exit 0 when every file is valid, 2 when any is not.
    """
    from .validate import validate as run

    problems = list(run(files))
    for problem in problems:
        click.echo(str(problem))
    if problems:
        click.echo(f"{len(problems)} problem(s) in {len(files)} file(s)", err=True)
        sys.exit(2)
    click.echo(f"{len(files)} file(s) valid", err=True)
