"""The command line: a thin layer that parses options and calls the library (contract: ../shared/notes/cli.md)."""

from __future__ import annotations

import sys

import click

from . import __version__
from .errors import OfsepError

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class FieldStrength(click.ParamType):
    """A field strength as people type it: 3, 3T, 3.0, 3 T, 1.5, 1,5, 1.5T (French decimal comma too)."""

    name = "TESLA"
    KNOWN = (1.5, 3.0)

    def convert(self, value, param, ctx):
        import re

        if isinstance(value, float):
            return value
        text = str(value).strip()
        found = re.fullmatch(r"(\d+(?:[.,]\d+)?)\s*(?:t|tesla)?", text, re.I)
        if found:
            tesla = float(found.group(1).replace(",", "."))
            for known in self.KNOWN:
                if abs(tesla - known) < 0.2:
                    return known
        self.fail(
            f"{value!r} is not a field strength this tool knows: give 1.5 or 3 (1.5T, 3T, 3.0 work too)", param, ctx
        )


FIELD = FieldStrength()


def fail(error: OfsepError) -> None:
    click.echo(f"ofsep-presets: {error}", err=True)
    sys.exit(error.exit_code)


class Commands(click.Group):
    """The top-level help lists each command with its whole first sentence (click cuts it at 45 characters).

    An OS error nobody handled (a full disk under stdout, a folder that vanished) is one line and exit 2, never a
    traceback: CI reads exit 1 as "not compliant".
    """

    def invoke(self, ctx: click.Context):
        import errno

        try:
            return super().invoke(ctx)
        except OSError as exc:
            if exc.errno == errno.EPIPE:
                raise  # click ends quietly when the reader of stdout went away
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            click.echo(f"ofsep-presets: {where}{exc.strerror or exc}", err=True)
            sys.exit(2)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=300)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=Commands, context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="ofsep-presets")
def main() -> None:
    """Render the OFSEP MRI protocol into vendor exam cards and checklists, and check scanners against it.

    \b
    Start here:
      ofsep-presets render              every exam card and checklist into ./ofsep-presets-out/
      ofsep-presets inspect EXPORT      what a scanner export, DICOM folder or BIDS sidecar says
      ofsep-presets check DUMMY-RUN/    a dummy run or an export against the spec, with verdicts
      ofsep-presets validate my.yaml    check a spec or a site overlay
      ofsep-presets plan --situation first-diagnosis

    Every command has its own help: ofsep-presets COMMAND --help.

    \b
    Limits: every reader works under budgets (bytes read and inflated, counts, depth, seconds per input);
    an input past one exits 2 naming the limit. Raise one for a trusted file with its environment variable:
      OFSEP_PRESETS_LIMIT_READ_BYTES, _INFLATE_BYTES, _INFLATE_TOTAL, _INFLATE_ARCHIVE, _LOOP_COUNT, _MEMBERS,
      _ELEMENTS, _SECONDS (README, "Limits", has the defaults).
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


def _load(spec_ref: str):
    from .spec import load_spec

    return load_spec(spec_ref)


# check and compare write the same kind of report: one wording of what "shareable" removes.
SHAREABLE_OPTION = click.option(
    "--shareable",
    is_flag=True,
    help="A report to share: no input path, file name or free text (inputs become 'input N', patient series "
    "'series N'); verdicts unchanged.",
)
SPEC_OPTION = click.option(
    "--spec",
    "spec_ref",
    default="ofsep-2020",
    show_default=True,
    metavar="NAME|FILE",
    help="A bundled spec name (see `ofsep-presets specs`) or a spec/overlay YAML file.",
)


@main.command()
@click.option(
    "--out",
    "out",
    default="ofsep-presets-out",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to write into (must be empty or new, unless --force).",
)
@SPEC_OPTION
@click.option(
    "--vendor",
    "vendors",
    multiple=True,
    type=click.Choice(["siemens", "philips", "ge", "canon"]),
    help="Only this vendor (repeatable).",
)
@click.option(
    "--field", "fields", multiple=True, type=FIELD, help="Only this field strength: 1.5 or 3 (3T, 1,5 also work)."
)
@click.option(
    "--exam",
    "exams",
    multiple=True,
    metavar="EXAM",
    help="Only this exam of the spec (OFSEP: brain, spine; see `specs`).",
)
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="VARIANT",
    help="Only this variant (OFSEP: standard, reduced; MY-RADS: core, comprehensive).",
)
@click.option("--lang", "langs", multiple=True, type=click.Choice(["fr", "en"]), help="Only this language.")
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["html", "pdf", "md", "sheet"]),
    help="Only these outputs: html (exam cards + checklists), pdf and md (checklists), "
    "sheet (each vendor's machine-readable parameter sheet).",
)
@click.option("--force", is_flag=True, help="Overwrite the files ofsep-presets writes in a non-empty --out.")
@click.option(
    "--timestamp", is_flag=True, help="Stamp documents with the generation time (off: output is reproducible)."
)
@click.option(
    "--templates",
    "templates",
    type=click.Path(file_okay=False, exists=True),
    help="A folder of your own templates that override the bundled ones (rendered sandboxed).",
)
@click.option("--quiet", is_flag=True, help="No progress bar, no summary.")
def render(out, spec_ref, vendors, fields, exams, variants, langs, formats, force, timestamp, templates, quiet):
    """Render exam cards, parameter sheets and printable checklists.

    With no option: every vendor × field strength × exam × variant, in French and English, as HTML, PDF,
    Markdown and each vendor's parameter sheet, with an index.html linking everything.

    \b
    Examples:
      ofsep-presets render
      ofsep-presets render --vendor ge --field 3 --exam brain --lang fr --out ge-3T
      ofsep-presets render --spec my-site.yaml --format pdf --force

    Exit codes: 0 done; 1 refused (output folder not empty, no --force); 2 bad spec or option.
    """
    from pathlib import Path

    from .render import Selection, count_docs
    from .render import render as run

    try:
        spec = _load(spec_ref)
        selection = Selection(
            tuple(vendors), tuple(fields), tuple(exams), tuple(variants), tuple(langs), tuple(formats)
        )
        unknown_exams = set(exams) - set(spec.exams)
        unknown_variants = set(variants) - {v.id for v in spec.variants()}
        if unknown_exams or unknown_variants:
            raise click.BadParameter(
                f"unknown {'exam' if unknown_exams else 'variant'} "
                f"{', '.join(sorted(unknown_exams or unknown_variants))}; this spec has exams "
                f"{', '.join(spec.exams)} and variants {', '.join(sorted({v.id for v in spec.variants()}))}"
            )
        total = count_docs(spec, selection)
        show = not quiet and sys.stderr.isatty()
        with click.progressbar(length=total, label="rendering", file=sys.stderr) if show else _NoBar() as bar:
            result = run(
                spec,
                Path(out),
                selection,
                force=force,
                timestamp=timestamp,
                templates=Path(templates) if templates else None,
                progress=bar.update,
            )
    except OfsepError as error:
        fail(error)
    if not quiet:
        click.echo(f"wrote {len(result.files)} files to {result.out}/ (open {result.out}/index.html)", err=True)


class _NoBar:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n: int) -> None:
        pass


@main.command()
@click.option(
    "--situation",
    required=True,
    metavar="SITUATION",
    help="e.g. first-diagnosis, annual-follow-up, dmt-start, dmt-6-months, relapse, "
    "natalizumab-high-pml-risk, treatment-fingolimod (an unknown one lists them all).",
)
@SPEC_OPTION
@click.option("--date", "date", metavar="YYYY-MM-DD", help="Date of this MRI, to compute when the next one is due.")
@click.option(
    "--last-spine",
    "last_spine",
    metavar="YYYY-MM-DD",
    help="Date of the last spinal cord MRI, to compute when the next one is due (the spec's cord rhythm).",
)
@click.option("--lang", default="en", type=click.Choice(["fr", "en"]), show_default=True)
@click.option("--format", "fmt", default="text", type=click.Choice(["text", "json"]), show_default=True)
def plan(situation, spec_ref, date, last_spine, lang, fmt):
    """Which exam(s), which variant, gadolinium or not, and when the next MRI is due.

    Rules come from the spec (OFSEP 2020 sheet, the care pathway of seed 002, and PML surveillance).
    Exit 0, or 2 for an unknown situation (the message lists the known ones).
    """
    import datetime as dt
    import json

    from .plan import make_plan, plan_text

    def day(value, option):
        if not value:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not a date like 2026-11-23", param_hint=option) from None

    try:
        spec = _load(spec_ref)
        result = make_plan(spec, situation, lang, day(date, "--date"), day(last_spine, "--last-spine"))
    except OfsepError as error:
        fail(error)
    if fmt == "json":
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
        return
    click.echo(plan_text(spec, result, lang))


@main.command()
@click.argument("spec_ref", required=False, metavar="[SPEC]")
def specs(spec_ref) -> None:
    """List the bundled protocol specs with their version and source; with SPEC, every source it cites.

    Every rule, suggestion and consideration of a spec names one of these sources, so a reader can check it.
    """
    from .resources import bundled_spec_names

    if spec_ref:
        try:
            spec = _load(spec_ref)
        except OfsepError as error:
            fail(error)
        click.echo(f"{spec.id}\t{spec.version}\t{spec.title.get('en')}")
        for source_id, source in spec.sources.items():
            citation = ", ".join(str(source[k]) for k in ("title", "publisher", "url") if source.get(k))
            click.echo(f"  {source_id}\t{source.get('kind', '')}\t{citation}")
        return
    for name in bundled_spec_names():
        try:
            spec = _load(name)
        except OfsepError as error:
            click.echo(f"{name}\t(invalid: {str(error).splitlines()[0]})")
            continue
        requirement = [s for s in spec.sources.values() if s.get("kind") == "requirement"]
        source = requirement[0]["title"] if requirement else ""
        click.echo(f"{spec.id}\t{spec.version}\t{spec.title.get('en')}\t{source}")


TABLE_COLUMNS = (
    ("sequence_family", "family"),
    ("acquisition_type", "dim"),
    ("orientation", "orient"),
    ("repetition_time_ms", "TR ms"),
    ("echo_time_ms", "TE ms"),
    ("inversion_time_ms", "TI ms"),
    ("flip_angle_deg", "FA"),
    ("slice_thickness_mm", "slice mm"),
    ("voxel_size_mm", "voxel mm"),
    ("b_values", "b"),
    ("diffusion_directions", "dirs"),
)


def _cell(value) -> str:
    from .units import format_number

    if value is None:
        return "-"
    if isinstance(value, list):
        return "×".join(_cell(v) for v in value)
    if isinstance(value, float):
        return format_number(round(value, 3), None)
    return str(value)


def inspection_table(inspection) -> str:
    doc = inspection.to_json()
    scanner = ", ".join(f"{k}={v}" for k, v in doc["scanner"].items())
    lines = [f"{doc['source']}  [{doc['format']}]  {scanner}"]
    rows = [["name"] + [title for _, title in TABLE_COLUMNS]]
    for acq in doc["acquisitions"]:
        rows.append([acq["name"]] + [_cell(acq["params"].get(param)) for param, _ in TABLE_COLUMNS])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        lines.append("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    if doc["warnings"]:
        from .notices import summarise

        count = len(doc["warnings"])
        lines.append(f"  {count} warning{'s' if count > 1 else ''} (what could not be read or disagrees, and why):")
        lines.extend(f"  warning: {line}" for line in summarise(doc["warnings"]))
    return "\n".join(lines)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "fmt",
    default="table",
    type=click.Choice(["table", "json"]),
    show_default=True,
    help="table: one line per acquisition; json: the canonical contract, every value with its provenance.",
)
@click.option("--quiet", is_flag=True, help="No progress bar.")
def inspect(paths, fmt, quiet):
    """Read scanner exports, DICOM or BIDS sidecars into canonical acquisitions.

    PATH may be a file or a folder (read recursively; files of no known format are skipped and counted).
    A value the input cannot tell is left out, never guessed. Exit 0, or 2 when an input cannot be read.
    """

    documents, failed = _read_inputs(paths, quiet)
    if fmt == "json":
        payload = [d.to_json() for d in documents]
        # One document per input, an unreadable one included, in the order given: what could not be read and
        # why, for a script as for a person (the reason also goes to stderr; the exit status stays 2).
        for shift, (raw, reason, at) in enumerate(failed):
            error = {"source": raw, "format": None, "scanner": {}, "acquisitions": [], "warnings": [], "error": reason}
            payload.insert(at + shift, error)
        from .textsafe import strict_json

        click.echo(strict_json(payload[0] if len(payload) == 1 else payload))  # RFC 8259: no Infinity, no NaN
    else:
        click.echo("\n\n".join(inspection_table(d) for d in documents))
    if failed:
        sys.exit(2)


def _pull(ref: str):
    """A study on a PACS (pacs://, dicomweb://), fetched into a temporary spool and read like a folder."""
    import tempfile
    from pathlib import Path

    from .pull import fetch
    from .readers import inspect_path

    with tempfile.TemporaryDirectory(prefix="ofsep-presets-pull-") as tmp:
        remote = fetch(ref, Path(tmp) / "spool")
        documents = inspect_path(Path(tmp) / "spool")
    for document in documents:
        document.source = remote.label
    if documents and remote.warnings:
        documents[0].warnings.extend(remote.warnings)  # what the pull left out, said once
    return documents


def _read_inputs(paths, quiet: bool):
    """Read every PATH (progress bar on a terminal for big folders); an unreadable one is reported, not fatal:
    the documents read, and (PATH, reason, place among the documents) for each input that could not be.

    A PATH may also be a study on a PACS: pacs://AET@HOST:PORT/STUDY_UID or dicomweb://HOST:PORT/BASE/studies/UID.
    """
    from pathlib import Path

    from .pull import is_remote
    from .readers import inspect_path

    documents: list = []
    failed: list[tuple[str, str, int]] = []  # (input as given, why it could not be read, its place among documents)
    show = not quiet and sys.stderr.isatty()
    for raw in paths:
        if is_remote(raw):
            try:
                documents += _pull(raw)
            except OfsepError as error:
                click.echo(f"ofsep-presets: {error}", err=True)
                failed.append((raw, str(error), len(documents)))
            continue
        path = Path(raw)
        total = sum(1 for p in path.rglob("*") if p.is_file()) if show and path.is_dir() else 0
        bar = click.progressbar(length=total, label=f"reading {raw}", file=sys.stderr) if total > 200 else _NoBar()
        try:
            with bar:
                documents += inspect_path(path, progress=bar.update)
        except OfsepError as error:
            click.echo(f"ofsep-presets: {error}", err=True)
            failed.append((raw, str(error), len(documents)))
    return documents, failed


def _parse_map(values) -> dict[str, str]:
    forced = {}
    for value in values:
        series, sep, sequence = value.partition("=")
        if not sep or not series.strip():
            raise click.BadParameter(
                f'{value!r}: write SERIES=SEQUENCE, e.g. --map "5=brain.t1_3d"', param_hint="--map"
            )
        forced[series.strip()] = sequence.strip()
    return forced


def _check_map_series(forced: dict[str, str], documents) -> None:
    """Every SERIES of --map must name a series of the input: a typo would otherwise be ignored without a word."""
    if not forced:
        return
    known: set[str] = set()
    for doc in documents:
        for acq in doc.acquisitions:
            number = acq.get("series_number")
            names = (acq.name, acq.get("series_description"), None if number is None else str(number))
            known.update(name for name in names if name)
    absent = [series for series in forced if series not in known]
    if absent:
        from .specfile import did_you_mean

        raise click.BadParameter(
            f"no series {absent[0]!r} in the input{did_you_mean(absent[0], sorted(known))}; "
            "give a series number or name as `ofsep-presets inspect` lists them",
            param_hint="--map",
        )


def _check_out(out: str | None) -> None:
    """Refuse a bad --out before any input is read (a FIFO or /dev/zero is never opened, see reportfile.py)."""
    from pathlib import Path

    from .reportfile import check_target

    if out is not None and out != "-":
        check_target(Path(out))


def _emit(text: str, out: str | None) -> None:
    """Write a report to stdout or to --out (atomically; only a provably earlier ofsep-presets report is replaced)."""
    from pathlib import Path

    from .output import write_atomic

    if out is None or out == "-":
        click.echo(text, nl=False)
        return
    _check_out(out)  # again: the inputs took time, the file may have changed
    write_atomic(Path(out), text)
    click.echo(f"report written to {out}", err=True)


REPORT_FORMATS = ["table", "json", "html", "junit", "csv"]


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@SPEC_OPTION
@click.option(
    "--variant",
    default=None,
    metavar="V",
    help="Force the variant (standard, reduced); inferred from the sequences found otherwise.",
)
@click.option(
    "--field",
    "field_t",
    default=None,
    type=FIELD,
    help="Force the field strength: 1.5 or 3 (3T, 1,5 also work); read from the input otherwise.",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="SERIES=SEQ",
    help="Take SERIES (its name or series number) for spec sequence SEQ (e.g. 5=brain.t1_3d); "
    "SEQ '-' leaves the series out. Repeatable.",
)
@click.option(
    "--format",
    "fmt",
    default="table",
    type=click.Choice(REPORT_FORMATS),
    show_default=True,
    help="table (colour on a terminal), json (the report contract), html (one self-contained page), "
    "junit (for CI systems), csv (one row per check).",
)
@click.option(
    "--preset",
    "preset",
    default=None,
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="A site preset (`snapshot`): checks against the spec it extends and reports drift from its values.",
)
@click.option(
    "--exam-of",
    "exam_of",
    default=None,
    metavar="SERIES_PATH_OR_PROGRAM",
    help="The input holds several exams: check the one holding this file or folder, series number or name, or "
    "export program (its path or name: a library holding two head programs holds two exams).",
)
@click.option(
    "--each", is_flag=True, help="The input holds several exams: one report per exam (table or json), each verdict."
)
@click.option(
    "--one-exam",
    "one_exam",
    is_flag=True,
    help="Judge everything given as one exam whatever its studies (a dummy run split over studies, a demo).",
)
@click.option("--out", "out", default=None, metavar="FILE", help="Write the report to FILE instead of stdout.")
@SHAREABLE_OPTION
@click.option("--quiet", is_flag=True, help="No progress bar.")
def check(paths, spec_ref, variant, field_t, maps, fmt, exam_of, each, one_exam, out, quiet, preset, shareable):
    """Check an export or a dummy run against the spec: per sequence, per parameter, and the session rules.

    \b
    PATH: any input `inspect` reads (a DICOM folder, .zip or .tar[.gz], an .exar1, an .ExamCard, a GE tar, BIDS, ...),
    or a study on a PACS: pacs://PEER_AET@HOST:PORT/STUDY_UID (C-GET) or dicomweb://HOST:PORT/BASE/studies/UID
    (WADO-RS metadata: headers only). What was read is grouped into exams (a DICOM study on one scanner, a BIDS
    subject/session, an export), and each acquisition is placed in its body region from the program path,
    anatomy code, study description, names, body part and coil. Input holding several exams is refused (exit 2)
    unless told which: --exam-of SERIES_PATH_OR_PROGRAM, --each (one report and verdict per exam), or --one-exam (all of
    it judged as one). Acquisitions are matched to the spec's sequences (family, name, contrast, 2D/3D...), each
    with its reasons; localizers and unmatched series are listed, not errors.
    \b
    Verdicts: pass, warn, fail, missing (a required sequence not found), unknown (the input cannot tell:
    never counted as a pass), not-applicable.
    Exit 0 compliant (pass or warn); 1 non-compliant (a fail, a missing sequence, or an unknown that an error
    rule needs); 2 an input or the spec cannot be read.
    With --preset, drift (values changed since the snapshot) is reported in its own section and in the JSON
    `drift` object; it does not change the compliance verdict or the exit code.
    \b
    Examples:
      ofsep-presets check dummy-run/                       table on the terminal
      ofsep-presets check new-export.exar1 --preset site.yaml   compliance + drift since the snapshot
      ofsep-presets check site.exar1 --format html --out report.html
      ofsep-presets check exam.zip --variant reduced --map "7=brain.flair_3d"
    """
    from .check import check as run
    from .report import write

    try:
        _check_out(out)
        forced = _parse_map(maps)
        if preset and click.get_current_context().get_parameter_source("spec_ref").name != "DEFAULT":
            raise click.BadParameter(
                "a preset names its spec itself (`extends`); leave out --spec", param_hint="--spec"
            )
        spec = _load(preset or spec_ref)
        if preset and not spec.preset:
            raise click.BadParameter(f"{preset} is a spec, not a site preset (`ofsep-presets snapshot` writes one)")
        unknown = [seq for seq in forced.values() if seq != "-" and seq not in spec.sequences]
        if unknown:
            raise click.BadParameter(
                f"no sequence {unknown[0]!r} in {spec.id}; sequences: {', '.join(spec.sequences)}", param_hint="--map"
            )
        if variant is not None:
            known = sorted({v.id for v in spec.variants()})
            if variant not in known:
                from .specfile import did_you_mean

                raise click.BadParameter(
                    f"{spec.id} has no variant {variant!r}{did_you_mean(variant, known)}; it has {', '.join(known)}",
                    param_hint="--variant",
                )
        if sum(map(bool, (each, exam_of, one_exam))) > 1:
            raise click.BadParameter("give one of --exam-of, --each, --one-exam", param_hint="--each")
        if each and fmt not in ("table", "json"):
            raise click.BadParameter("--each writes one report per exam as table or json", param_hint="--format")
        documents, failed = _read_inputs(paths, quiet)
        if failed:
            sys.exit(2)
        _check_map_series(forced, documents)
        from .exams import Exam, select, split

        exams = every = split(documents)
        if one_exam and len(exams) > 1:
            exams = every = [Exam(1, "as one exam", f"{len(every)} exams judged as one (--one-exam)", documents)]
        if exam_of:
            exams = [select(exams, exam_of)]
        elif len(exams) > 1 and not each:
            raise OfsepError(
                f"the input holds {len(exams)} exams ({'; '.join(f'{e.index}. {e.label}' for e in exams[:6])}"
                f"{'; …' if len(exams) > 6 else ''}): check one with --exam-of SERIES_PATH_OR_PROGRAM, "
                "or each with --each"
            )
        reports = []
        for exam in exams:
            report = run(exam.inspections, spec, variant=variant, field_t=field_t, forced=forced)
            report.exam = {**exam.to_json(), "of": len(every)}
            if shareable:
                from .shareable import Redactor

                report = Redactor(documents, paths).apply(report)
            reports.append(report)
        colour = fmt == "table" and out is None and sys.stdout.isatty()
        if each:
            from .report import write_each

            _emit(write_each(reports, fmt, colour), out)
        else:
            _emit(write(reports[0], fmt, colour), out)
    except OfsepError as error:
        fail(error)
    sys.exit(0 if all(r.compliant for r in reports) else 1)


@main.command()
@click.argument("a", type=click.Path())
@click.argument("b", type=click.Path())
@SPEC_OPTION
@click.option(
    "--format",
    "fmt",
    default="table",
    type=click.Choice(["table", "json", "html", "csv"]),
    show_default=True,
    help="table, json, html (self-contained page) or csv.",
)
@click.option("--out", "out", default=None, metavar="FILE", help="Write to FILE instead of stdout.")
@SHAREABLE_OPTION
@click.option("--quiet", is_flag=True, help="No progress bar.")
def compare(a, b, spec_ref, fmt, out, quiet, shareable):
    """Two exports, dummy runs or presets side by side, in canonical terms and in both vendors' words.

    Acquisitions of A and B are matched through the spec's sequences (so a Siemens MPRAGE meets a Philips
    3D T1-TFE); differing parameters are listed with each side's console label and value.
    Exit 0 same, 1 differences, 2 unreadable.
    """
    from .compare import compare as run
    from .compare import write

    try:
        _check_out(out)
        spec = _load(spec_ref)
        left, failed_a = _read_inputs([a], quiet)
        right, failed_b = _read_inputs([b], quiet)
        if failed_a or failed_b:
            sys.exit(2)
        result = run(left, right, spec, a, b)
        if shareable:
            from .shareable import Redactor

            result = Redactor([*left, *right], [a, b]).apply(result)
        _emit(write(result, fmt, fmt == "table" and out is None and sys.stdout.isatty()), out)
    except OfsepError as error:
        fail(error)
    sys.exit(0 if result.same else 1)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@SPEC_OPTION
@click.option("--out", "out", required=True, metavar="DIR", help="Folder for audit.html, audit.csv, audit.json.")
@click.option(
    "--executor",
    "executor_ref",
    metavar="local|serial|dask://HOST:PORT",
    help="Where sites are checked: the local cores (default), this process, or a Dask scheduler.",
)
@click.option("--jobs", type=click.IntRange(1, 4096), metavar="N", help="Local worker processes (default: cores).")
@click.option(
    "--site-per",
    "site_per",
    type=click.Choice(["folder", "exam", "scanner"]),
    default="folder",
    show_default=True,
    help="What one site is: each PATH; each exam a PATH holds; or each scanner (its exams judged together).",
)
@click.option("--quiet", is_flag=True, help="No progress bar, no summary.")
def audit(paths, spec_ref, out, executor_ref, jobs, site_per, quiet):
    """Check many sites at once: one HTML page, a CSV and a JSON document.

    \b
    PATH: one site (or session) each, anything `check` reads; a BIDS dataset root stands for its subjects
    (or their sessions). DIR receives:
      audit.html   sites × sequences matrix coloured by verdict, breakdowns by vendor, model and software,
                   per-parameter distributions (inline SVG), each site's findings; self-contained
      audit.csv    one row per site × sequence × check
      audit.json   the same, with each site's full `check --format json` document
      sites/       each site's own check report (HTML)
      cache.sqlite each site's result; a re-run over unchanged files opens none of them
    A PATH holding several exams (DICOM studies, scanners) is one site judged as one unless --site-per exam
    (a site per exam, named "PATH · exam N") or --site-per scanner (a site per scanner, its exams together);
    those re-read their inputs on every run (the cache keeps one site per PATH).
    A site is compliant, fails (a stated value breaks a rule), misses a required sequence, or cannot be told
    (its input does not state a required value: the report says what to ask the site for).
    DIR must be new, empty, or an earlier audit's folder (rewritten, its cache reused); one audit at a time.
    Sites are checked in parallel on the local cores, or on a Dask cluster with --executor dask://HOST:PORT
    (pip install 'ofsep-presets[dask]'; the workers must see the sites under the same paths).
    Exit 0 every site compliant; 1 some are not; 2 a site or the spec cannot be read (the others are
    reported), or DIR cannot be used.
    \b
    Examples:
      ofsep-presets audit site-*/ --out audit-2026
      ofsep-presets audit bids-dataset/ --spec spine-generic --out audit-sg
      ofsep-presets audit /cohort/site-*/ --out audit-cohort --executor dask://scheduler:8786
    """
    from pathlib import Path

    from . import audit as lib
    from .acquisition import ReadError
    from .auditfolder import AuditFolder
    from .cache import spec_digest

    try:
        spec = _load(spec_ref)
        digest = spec_digest(list(spec.files))
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            raise ReadError(f"{missing[0]}: no such file or folder")
        sites = lib.discover(Path(p) for p in paths)
        only = Path(paths[0])
        lone = len(sites) == 1 and site_per == "folder" and not quiet and only.is_dir()
        if lone and all(p.is_dir() for p in only.iterdir()):
            click.echo(f"note: {only} is audited as one site; to audit each of its folders, pass {only}/*/", err=True)
        show = not quiet and sys.stderr.isatty()
        bar = click.progressbar(length=len(sites), label="auditing", file=sys.stderr) if show else _NoBar()
        with AuditFolder(Path(out)) as folder, bar:
            result = lib.run(
                sites,
                spec,
                spec_ref,
                digest,
                folder,
                executor_ref,
                jobs,
                progress=lambda site: bar.update(1),
                per=site_per,
            )
    except OfsepError as error:
        fail(error)
    except OSError as error:  # the output folder's file system (read-only, full): one line, exit 2
        fail(OfsepError(f"cannot write the audit into {out}: {error.strerror or error}"))
    if not quiet:
        for note in result.notes:
            click.echo(f"note: {note}", err=True)
    for site in result.unreadable:
        click.echo(f"ofsep-presets: {site.id}: {site.error}", err=True)
    if not quiet:
        click.echo(f"{result.summary_line()} ({result.hits} from the cache); open {Path(out) / 'audit.html'}", err=True)
    sys.exit(2 if result.unreadable else 0 if all(site.compliant for site in result.sites) else 1)


@main.command()
@click.argument("export", type=click.Path())
@click.option("-o", "--out", "out", required=True, metavar="FILE", help="The preset file to write (never replaced).")
@SPEC_OPTION
@click.option("--quiet", is_flag=True, help="No progress bar, no summary.")
def snapshot(export, out, spec_ref, quiet):
    """Write a site preset: the exact values of EXPORT, as an overlay of the spec (validated like any spec).

    \b
    EXPORT: anything `check` reads (an .exar1, an ExamCard, a GE protocol tar, a DICOM dummy run...).
    The preset `extends` the spec and holds, per matched sequence, every value the export states, plus the
    scanner it came from. Later exports of the site are checked against it with
      ofsep-presets check NEW-EXPORT --preset FILE
    which reports OFSEP compliance as usual and, separately, the drift: every value that changed.
    Exit 0 written; 2 unreadable export, no sequence matched, or FILE exists (never replaced).
    \b
    Example:
      ofsep-presets snapshot site-2026-11.exar1 -o site.yaml --spec ofsep-2020
    """
    from pathlib import Path

    from .preset import snapshot_file

    try:
        documents, failed = _read_inputs([export], quiet)
        if failed:
            sys.exit(2)
        count = snapshot_file(documents, spec_ref, Path(out))
    except OfsepError as error:
        fail(error)
    if not quiet:
        click.echo(f"preset written to {out}: {count} sequences of {export}", err=True)


@main.command()
@click.option("--out", "out", required=True, metavar="DIR", help="Spool and reports: DIR/spool/…, DIR/reports/.")
@click.option("--port", default=11112, show_default=True, help="TCP port to listen on (0: any free port).")
@click.option("--ae-title", "ae_title", default="OFSEP-PRESETS", show_default=True, help="This node's AE title.")
@click.option("--bind", default="127.0.0.1", show_default=True, help="Address to listen on (0.0.0.0: every interface).")
@click.option(
    "--allow",
    "allow",
    multiple=True,
    metavar="AET@HOST",
    help="Accept associations only from this AE title at this host (AET alone: from any host). Repeatable; "
    "without it every peer that reaches the port may send.",
)
@SPEC_OPTION
@click.option("--preset", default=None, metavar="FILE", type=click.Path(dir_okay=False), help="Check against a preset.")
@click.option(
    "--settle",
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="A study is checked once no association sending it is open and nothing came for this long.",
)
@click.option("--max-gb", default=50.0, show_default=True, help="Spool size budget; past it stores are refused.")
@click.option("--min-free-gb", default=1.0, show_default=True, help="Refuse stores when the disk would have less free.")
@click.option("--delete-after-check", is_flag=True, help="Delete a study's instances once its report is written.")
@click.option(
    "--watch",
    "watch",
    default=None,
    metavar="DIR",
    type=click.Path(file_okay=False, exists=True),
    help="Instead of listening on the network, take the DICOM files a console exports into DIR.",
)
def listen(out, port, ae_title, bind, allow, spec_ref, preset, settle, max_gb, min_free_gb, delete_after_check, watch):
    """Receive a dummy run from a console or a PACS (DICOM C-STORE) and check each study as it completes.

    \b
    A DICOM Storage SCP (C-ECHO too) that accepts every storage object in every transfer syntax pydicom
    reads. Received instances are written to DIR/spool/<study>/<series>/<instance>.dcm (atomically, never
    outside DIR, a duplicate stored once). A study is checked like `check` checks a folder when it is complete
    (its associations released and --settle seconds quiet); its report goes to DIR/reports/study-….html and
    .json, and one line is printed: scanner, verdict, report. Send SIGUSR1 to check every pending study now.
    Ctrl-C stops cleanly: in-flight instances are finished or dropped whole, pending studies are checked.
    \b
    The spool keeps what the console sent, patient data included: keep DIR private, or use
    --delete-after-check. Reports carry no patient identifier.
    \b
    At the console (or in a PACS), add a DICOM node: AE title OFSEP-PRESETS, this machine's address, the port.
    Examples:
      ofsep-presets listen --out dummy-runs --bind 0.0.0.0 --allow MRC12345@10.1.2.3
      ofsep-presets listen --out dummy-runs --watch /mnt/console-export
    """
    import signal
    import threading
    from pathlib import Path

    from .listen import Listener, Peer, Watcher
    from .node import Node

    def say(text: str) -> None:
        click.echo(text, err=not text.startswith("study-"))

    try:
        peers = tuple(Peer.parse(a) for a in allow)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--allow") from None
    try:
        spec = _load(preset or spec_ref)
        node = Node(
            Path(out),
            spec,
            settle=settle,
            max_bytes=int(max_gb * 1024**3),
            min_free_bytes=int(min_free_gb * 1024**3),
            delete_after_check=delete_after_check,
            say=say,
        )
    except OfsepError as error:
        fail(error)
    except OSError as error:
        click.echo(f"ofsep-presets: cannot use {out}: {error.strerror or error}", err=True)
        sys.exit(2)
    stop = threading.Event()
    now = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # also when started in the background (SIGINT ignored)
    signal.signal(signal.SIGUSR1, lambda *_: now.set())
    listener = None
    try:
        if watch:
            watcher = Watcher(node, Path(watch), say=say)
            click.echo(f"watching {watch}; spool and reports in {out} (Ctrl-C to stop)", err=True)
        else:
            listener = Listener(node, bind=bind, port=port, ae_title=ae_title, allow=peers, say=say)
            try:
                listener.start()
            except OSError as error:
                click.echo(f"ofsep-presets: cannot listen on {bind}:{port}: {error.strerror or error}", err=True)
                sys.exit(2)
            click.echo(
                f"listening as {ae_title} on {bind}:{listener.port}; reports in {out} (Ctrl-C to stop)", err=True
            )
        while not stop.is_set():
            if watch:
                watcher.look()
            node.check_due(force=now.is_set())
            now.clear()
            stop.wait(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        if listener is not None:
            listener.stop()
    node.check_due(force=True)
    click.echo(f"stopped: {len(node.checked)} study check(s) written to {node.reports}", err=True)
