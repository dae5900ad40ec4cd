"""`render`: spec -> every vendor's exam card and parameter sheet, and printable checklists, plus an index.

Jinja2 runs sandboxed, with StrictUndefined (a typo fails the render instead of printing an empty cell on a
medical document) and autoescaping for HTML and XML. Text formats escape through explicit filters. Output is
byte-identical for identical input; nothing is stamped with the time unless asked.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from . import __version__
from .errors import OfsepError, TemplateError
from .output import prepare_dir, write_atomic
from .plan import dose_text, gadolinium_table
from .resources import templates_dir
from .sandbox import DataOnlyEnvironment, Helper, UnplainValue, Words, plain
from .sheets import Sheet, field_dir, field_text, sheet
from .spec import Spec
from .vendors import all_vendors
from .yamlload import load_yaml

LANGS = ("fr", "en")
FORMATS = ("html", "pdf", "md", "sheet")
FORMAT_HELP = {
    "html": "exam cards and checklists as HTML",
    "pdf": "checklists as A4 PDF",
    "md": "checklists as Markdown",
    "sheet": "each vendor's machine-readable parameter sheet (XML / text / CSV)",
}


@dataclass(frozen=True)
class Selection:
    """What to render; an empty tuple means 'all'."""

    vendors: tuple[str, ...] = ()
    fields: tuple[float, ...] = ()
    exams: tuple[str, ...] = ()
    variants: tuple[str, ...] = ()
    langs: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()

    def pick(self, spec: Spec) -> tuple[list[str], list[float], list, list[str], list[str]]:
        vendors = [v for v in spec.vendors if not self.vendors or v in self.vendors]
        fields = [f for f in spec.field_strengths_t if not self.fields or any(abs(f - g) < 0.2 for g in self.fields)]
        variants = [
            v
            for v in spec.variants()
            if (not self.exams or v.exam in self.exams) and (not self.variants or v.id in self.variants)
        ]
        langs = [lang for lang in LANGS if not self.langs or lang in self.langs]
        formats = [f for f in FORMATS if not self.formats or f in self.formats]
        return vendors, fields, variants, langs, formats


@dataclass
class RenderResult:
    out: Path
    files: list[Path] = field(default_factory=list)


def why_empty(spec: Spec, selection: Selection) -> str:
    """Say which option excludes everything, in the spec's own terms (e.g. "exam spine has no variant reduced")."""
    vendors, fields, variants, _, _ = selection.pick(spec)
    if not vendors:
        return f"{spec.id} has no vendor {', '.join(selection.vendors)} (it has {', '.join(spec.vendors)})"
    if not fields:
        wanted = ", ".join(f"{f:g} T" for f in selection.fields)
        have = ", ".join(f"{f:g} T" for f in spec.field_strengths_t)
        return f"{spec.id} has no field strength {wanted} (it has {have})"
    if not variants:
        lines = []
        for exam_id in selection.exams or tuple(spec.exams):
            have = [v.id for v in spec.variants() if v.exam == exam_id]
            lines.append(f"exam {exam_id} has no variant {', '.join(selection.variants)} (it has {', '.join(have)})")
        return "; ".join(lines)
    return "check --lang and --format"


class BadSelection(OfsepError):
    exit_code = 2


# -- Jinja environment ---------------------------------------------------------------------------------------


# A spec without an injection order or indications (spine-generic, MY-RADS) still renders: templates test these.
GADO_DEFAULTS: dict[str, Any] = {"when": None, "inject_before": None, "single_injection": None, "indications": []}


def _autoescape(name: str | None) -> bool:
    return bool(name) and (".html" in name or ".xml" in name)


def _md(value: Any) -> str:
    """Escape Markdown and inline HTML so a label prints as text."""
    text = str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", text)


def _tcl(value: Any) -> str:
    """Quote for a Tcl double-quoted string (GE LxProtocol): nothing in a value may start a command."""
    return re.sub(r'([\\"$\[\]])', r"\\\1", str(value)).replace("\n", " ")


def _quoted(value: Any) -> str:
    """Philips printout string: double quotes escaped, one line."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _printout_value(value: Any) -> str:
    """Philips printouts write numbers bare and everything else in double quotes."""
    text = str(value)
    return text if _is_number(text) else f'"{_quoted(text)}"'


def _csv_row(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(
        # A leading = + - @ would make a spreadsheet evaluate the cell: prefix it.
        ["'" + s if s[:1] in ("=", "+", "-", "@") and not _is_number(s) else s for s in (str(v) for v in values)]
    )
    return buffer.getvalue().rstrip("\n")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@cache
def _strings() -> dict[str, dict[str, str]]:
    return {k: dict(v) for k, v in load_yaml(templates_dir() / "common" / "strings.yaml").items()}


def words(lang: str) -> Words:
    return Words({k: v.get(lang) or v["en"] for k, v in _strings().items()})


def environment(extra_templates: Path | None = None) -> DataOnlyEnvironment:
    """Bundled templates, overridden by the user's own: both run in the data-only sandbox (sandbox.py)."""
    loaders: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(templates_dir()))]
    if extra_templates is not None:
        loaders.insert(0, jinja2.FileSystemLoader(str(extra_templates)))
    env = DataOnlyEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=_md, tcl=_tcl, quoted=_quoted, csv_row=_csv_row, printout_value=_printout_value)
    return env


def _template_location(exc: BaseException) -> tuple[str, int] | None:
    """The template file and line an error happened at (Jinja rewrites tracebacks to template lines)."""
    root = str(templates_dir())
    found = None
    for frame, line in traceback.walk_tb(exc.__traceback__):
        name = frame.f_code.co_filename
        if name.endswith(".j2") or name.startswith(root):
            found = (name, line)
    return found


def render_template(
    env: DataOnlyEnvironment, name: str, context: dict[str, Any], memo: dict[int, Any] | None = None
) -> str:
    """Render `name` with `context` turned into plain data first (`memo` shares that work across documents)."""
    try:
        data = plain(context, memo if memo is not None else {})
    except UnplainValue as exc:
        raise TemplateError(f"template {name}: {exc}") from None
    try:
        return env.get_template(name).render(data)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"template {exc.filename or exc.name}, line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateNotFound as exc:
        raise TemplateError(f"template {exc.name} not found under {templates_dir()}") from None
    except (Exception, RecursionError) as exc:  # noqa: BLE001 - whatever a template does wrong is its error
        # A user template is code we do not control: 1 / 0, a for over a number, a recursion without end... all
        # end in one line naming the template, exit 2. Our own bugs still show where they happened.
        where = _template_location(exc)
        if where is None and not isinstance(exc, jinja2.TemplateError | ArithmeticError | RecursionError):
            raise
        place = f"template {where[0]}, line {where[1]}" if where else f"template {name}"
        detail = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TemplateError(f"{place}: {detail}") from None


# -- documents -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Doc:
    """One output file: where it goes and how to make it."""

    path: str
    kind: str  # examcard | sheet | checklist-html | checklist-md | checklist-pdf
    vendor: str
    field_t: float
    variant: str
    lang: str | None


def base_context(spec: Spec, lang: str, stamp: str | None) -> dict[str, Any]:
    # Helper(...) marks the only functions a template may call (sandbox.py).
    return {
        "spec": spec,
        "lang": lang,
        "t": words(lang),
        "version": __version__,
        "generated_at": stamp,
        "text": Helper(lambda value: (value.get(lang) or value.get("en") or "") if isinstance(value, dict) else value),
    }


def sheet_context(spec: Spec, sh: Sheet, stamp: str | None, to_root: str) -> dict[str, Any]:
    lang = sh.lang
    ctx = base_context(spec, lang, stamp)
    ctx.update(
        sheet=sh,
        vendor=sh.vendor,
        field_t=sh.field_t,
        field_label=field_text(sh.field_t, lang),
        exam=spec.exams[sh.variant.exam],
        variant=sh.variant,
        to_root=to_root,
        gado={
            **GADO_DEFAULTS,
            **spec.gadolinium,
            "dose_text": dose_text(spec.gadolinium.get("dose_mmol_per_kg"), lang),
        },
        gado_in_variant="gadolinium" in sh.variant.order,
        gado_table=gadolinium_table(spec, lang),
        post_contrast=set(spec.gadolinium.get("post_contrast", [])),
    )
    if sh.vendor.document.get("layout") == "philips-printout":
        ctx["printout"] = _printout_scans(sh)
    return ctx


def _printout_scans(sh: Sheet) -> dict[str, Any]:
    """Each sequence of the sheet as the Philips printout's rows (printout_sheet.py), by sequence id."""
    from .printout_sheet import scan

    families = {product: family for family, products in sh.vendor.families.items() for product in products}
    out, injected = {}, False
    for step in sh.steps:
        if step.sequence is None:
            injected = True
        else:
            out[step.sequence.id] = scan(step.sequence, families.get(step.sequence.product or ""), injected)
    return out


def plan_docs(spec: Spec, selection: Selection) -> list[Doc]:
    vendors, fields, variants, langs, formats = selection.pick(spec)
    if not (vendors and fields and variants and langs and formats):
        raise BadSelection(f"that selection renders nothing: {why_empty(spec, selection)}")
    registry = all_vendors()
    docs = []
    for vendor_id in vendors:
        for field_t in fields:
            for variant in variants:
                folder = f"{vendor_id}/{field_dir(field_t)}/{variant.key}"
                if "sheet" in formats:
                    name = registry[vendor_id].document["filename"]
                    docs.append(Doc(f"{folder}/{name}", "sheet", vendor_id, field_t, variant.key, None))
                for lang in langs:
                    if "html" in formats:
                        docs.append(
                            Doc(f"{folder}/examcard.{lang}.html", "examcard", vendor_id, field_t, variant.key, lang)
                        )
                        docs.append(
                            Doc(
                                f"{folder}/checklist.{lang}.html",
                                "checklist-html",
                                vendor_id,
                                field_t,
                                variant.key,
                                lang,
                            )
                        )
                    if "md" in formats:
                        docs.append(
                            Doc(f"{folder}/checklist.{lang}.md", "checklist-md", vendor_id, field_t, variant.key, lang)
                        )
                    if "pdf" in formats:
                        docs.append(
                            Doc(
                                f"{folder}/checklist.{lang}.pdf", "checklist-pdf", vendor_id, field_t, variant.key, lang
                            )
                        )
    return docs


def render(
    spec: Spec,
    out: Path,
    selection: Selection = Selection(),
    force: bool = False,
    timestamp: bool = False,
    templates: Path | None = None,
    progress: Callable[[int], Any] | None = None,
    workers: int | None = None,
) -> RenderResult:
    """Render the selection into `out`; returns the files written (index first)."""
    docs = plan_docs(spec, selection)
    env = environment(templates)
    prepare_dir(out, force)
    earlier = _rendered_before(out) if force else set()
    # Listed before anything is written: a render killed half-way still names every file it may have left.
    _write_manifest(out, earlier | {d.path for d in docs} | {"index.html"})
    stamp = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat() if timestamp else None
    registry = all_vendors()
    result = RenderResult(out)
    sheets: dict[tuple[str, float, str, str], Sheet] = {}
    memo: dict[int, Any] = {}  # the spec and each sheet become plain data once, not once per document

    def get_sheet(doc: Doc, lang: str) -> Sheet:
        key = (doc.vendor, doc.field_t, doc.variant, lang)
        if key not in sheets:
            exam, variant = doc.variant.split("-", 1)
            sheets[key] = sheet(spec, registry[doc.vendor], doc.field_t, spec.variant(exam, variant), lang)
        return sheets[key]

    from .pdf import executor, html_to_pdf

    wants_pdf = any(doc.kind == "checklist-pdf" for doc in docs)
    # Processes laying out PDFs, this one included: it renders the HTML, text and XML documents while the pool's
    # workers lay out the first PDFs, then lays out those no worker has started yet (see below).
    count = workers if workers is not None else min(2, os.cpu_count() or 1)
    pending: list[tuple[Doc, str, Any]] = []
    contexts: dict[tuple[str, float, str, str], dict[str, Any]] = {}  # one context per sheet, not per document

    def context(doc: Doc, lang: str) -> dict[str, Any]:
        key = (doc.vendor, doc.field_t, doc.variant, lang)
        if key not in contexts:
            contexts[key] = sheet_context(spec, get_sheet(doc, lang), stamp, "../../../")
        return contexts[key]

    with executor(count - 1 if wants_pdf else 0) as pool:
        for doc in docs:
            lang = doc.lang or "en"
            ctx = context(doc, lang)
            if doc.kind == "checklist-pdf":
                html = render_template(env, "common/checklist.html.j2", {**ctx, "for_pdf": True}, memo)
                pending.append((doc, html, pool.submit(html_to_pdf, html)))
                continue
            if doc.kind == "sheet" and registry[doc.vendor].document.get("archive") == "tar":
                write_atomic(out / doc.path, protocol_tar(env, registry[doc.vendor], ctx, memo))
            else:
                write_atomic(out / doc.path, render_template(env, _template_for(doc, registry[doc.vendor]), ctx, memo))
            result.files.append(out / doc.path)
            if progress:
                progress(1)
        # Work sharing: the PDFs no worker has started yet are laid out here, last first, while the workers go on
        # from the front. A PDF is the same bytes whichever process lays it out.
        done: dict[int, bytes] = {}
        if count > 1:
            for index in range(len(pending) - 1, -1, -1):
                _, html, future = pending[index]
                if future.cancel():
                    done[index] = html_to_pdf(html)
        for index, (doc, _, future) in enumerate(pending):
            write_atomic(out / doc.path, done[index] if index in done else future.result())
            result.files.append(out / doc.path)
            if progress:
                progress(1)

    index = render_template(
        env,
        "common/index.html.j2",
        {
            **base_context(spec, (selection.langs or ("en",))[0] if len(selection.langs or ()) == 1 else "en", stamp),
            "groups": _group(docs),
            "vendors": registry,
            "field_text": Helper(field_text),
            "variants": {v.key: v for v in spec.variants()},
            # The index is read in both languages: each page's links in its own language, labels in both.
            "fr": words("fr"),
            "en": words("en"),
            "vendor_order": list(dict.fromkeys(d.vendor for d in docs)),
            "fields": sorted({d.field_t for d in docs}),
            "variant_order": list(dict.fromkeys(d.variant for d in docs)),
        },
        memo,
    )
    write_atomic(out / "index.html", index)
    result.files.insert(0, out / "index.html")
    written = {f.relative_to(out).as_posix() for f in result.files}
    _remove_stale(out, earlier - written)
    _write_manifest(out, written)
    return result


# `render` lists what it wrote in this file of its --out folder; `render --force` deletes what an earlier render
# listed and this one did not write again, and nothing else: a user's own files there are never touched.
MANIFEST = ".ofsep-render.json"
MANIFEST_MARK = "ofsep-presets render"
# The only names a render writes (index.html, VENDOR/FIELD/EXAM-VARIANT/document): a listed name of another shape
# (an edited manifest naming ../x, or a user's notes.txt at the top) is never deleted.
RENDERED_NAME = re.compile(
    r"^(?:index\.html|[a-z0-9]+/[0-9.]+T/[a-z0-9-]+/[A-Za-z0-9_-]+(?:\.[a-z]{2})?\.[a-z0-9]{1,8})$"
)


def _rendered_before(out: Path) -> set[str]:
    """The files an earlier render listed in its manifest (empty when there is none or it is not ours)."""
    path = out / MANIFEST
    if path.is_symlink() or not path.is_file():
        return set()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return set()
    if not isinstance(doc, dict) or doc.get("render") != MANIFEST_MARK or not isinstance(doc.get("files"), list):
        return set()
    return {f for f in doc["files"] if isinstance(f, str) and RENDERED_NAME.match(f)}


def _write_manifest(out: Path, files: set[str]) -> None:
    write_atomic(out / MANIFEST, json.dumps({"render": MANIFEST_MARK, "files": sorted(files)}, indent=1) + "\n")


def _remove_stale(out: Path, stale: set[str]) -> None:
    """Delete an earlier render's documents this one did not write (plain files only, never through a link),
    then the folders that leaves empty."""
    for name in sorted(stale):
        path = out / name
        parts = [out.joinpath(*Path(name).parts[: i + 1]) for i in range(len(Path(name).parts))]
        if any(p.is_symlink() for p in parts) or not path.is_file():
            continue
        try:
            path.unlink()
        except OSError:
            continue
        for folder in reversed(parts[:-1]):
            try:
                folder.rmdir()  # only when empty
            except OSError:
                break


# -- the GE sheet: a protocol tar in the console's Protocol Exchange layout ---------------------------------------

# Every member's mode, owner and time are fixed, so the same input gives the same bytes (the time is the epoch, as
# the PDFs pin SOURCE_DATE_EPOCH; a tar member's time says nothing about the protocol).
_TAR_FILE_MODE, _TAR_DIR_MODE = 0o644, 0o755


def _console_folder(name: str, limit: int = 40, keep: str = "-") -> str:
    """A folder name as the GE console writes one from a task name: its letters and digits, spaces dropped
    ("Cal HNS CTL123" -> "CalHNSCTL123"); never empty, never a path. The exam folder keeps its underscores, as
    the console's own does ("adult_spine_20190130_spine_generic_…"): its words are the program's name."""
    return (re.sub(rf"[^A-Za-z0-9{re.escape(keep)}]+", "", name)[:limit]) or "series"


# An LxProtocol is Latin-1 text (the console's, and our reader's, encoding): the few signs our sheets print outside
# Latin-1 are written as the console would type them; anything else becomes "?".
_LATIN1 = str.maketrans({"≤": "<=", "≥": ">=", "—": "-", "–": "-", "×": "x", "…": "...", "’": "'", "→": "->"})


def _latin1(text: str) -> bytes:
    return text.translate(_LATIN1).encode("latin-1", errors="replace")


def _tar_member(archive: Any, name: str, data: bytes | None = None) -> None:
    import tarfile

    info = tarfile.TarInfo(name)
    info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
    if data is None:
        info.type, info.mode = tarfile.DIRTYPE, _TAR_DIR_MODE
        archive.addfile(info)
        return
    info.mode, info.size = _TAR_FILE_MODE, len(data)
    archive.addfile(info, io.BytesIO(data))


def protocol_tar(env: DataOnlyEnvironment, vendor: Any, ctx: dict[str, Any], memo: dict[int, Any]) -> bytes:
    """One exam as the GE console exports it (Protocol Notebook / Exchange): a tar of one exam folder holding
    session.xml (the tasks in scan order, each naming its series folder) and per series its LxProtocol and its
    Protocol Notes (.pn/notes.html). A real GE user gets this file from the console; our GE protocol reader takes
    it by content (a ustar header, then session.xml and LxProtocol members), as it takes the console's own.

    The injection is no series on a GE console: it is said in the Protocol Notes of the series it precedes.
    """
    import tarfile

    sh: Sheet = ctx["sheet"]
    doc = vendor.document
    exam_folder = _console_folder(f"{sh.spec.id}_{sh.variant.exam}_{sh.variant.id}", 80, keep="-_")
    tasks: list[dict[str, Any]] = []
    injection = None
    for step in sh.steps:
        if step.sequence is None:
            injection = step
            continue
        number = len(tasks) + 1
        name = step.sequence.step_name
        folder = f"{_console_folder(name)}_{number}"
        tasks.append(
            {
                "number": number,
                "name": name,
                "folder": folder,
                "injection": injection,
                "s": step.sequence,
            }
        )
        injection = None
    numbers = {task["s"].id: task["number"] for task in tasks}
    for task in tasks:  # "same parameters as series N": N as the console numbers its series (no injection step)
        task["same_as"] = numbers.get(task["s"].same_as or "")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        _tar_member(archive, f"{exam_folder}/")
        session = render_template(
            env, f"{vendor.id}/{doc['session_template']}", {**ctx, "tasks": tasks, "exam_folder": exam_folder}, memo
        )
        _tar_member(archive, f"{exam_folder}/session.xml", session.encode("utf-8"))
        for task in tasks:
            series_ctx = {**ctx, "task": task, "s": task["s"]}
            base = f"{exam_folder}/{task['folder']}"
            _tar_member(archive, f"{base}/")
            lx = render_template(env, f"{vendor.id}/{doc['template']}", series_ctx, memo)
            _tar_member(archive, f"{base}/LxProtocol", _latin1(lx))
            _tar_member(archive, f"{base}/.pn/")
            notes = render_template(env, f"{vendor.id}/{doc['notes_template']}", series_ctx, memo)
            _tar_member(archive, f"{base}/.pn/notes.html", notes.encode("utf-8"))
    return buffer.getvalue()


def _template_for(doc: Doc, vendor) -> str:
    return {
        "examcard": f"{doc.vendor}/examcard.html.j2",
        "sheet": f"{doc.vendor}/{vendor.document['template']}",
        "checklist-html": "common/checklist.html.j2",
        "checklist-md": "common/checklist.md.j2",
    }[doc.kind]


def _group(docs: list[Doc]) -> dict[tuple[str, float, str], list[Doc]]:
    groups: dict[tuple[str, float, str], list[Doc]] = {}
    for doc in docs:
        groups.setdefault((doc.vendor, doc.field_t, doc.variant), []).append(doc)
    return groups


def count_docs(spec: Spec, selection: Selection) -> int:
    return len(plan_docs(spec, selection))
