"""User templates (`render --templates DIR`) are untrusted code: they see plain data and can call nothing else.

Each payload below is what a hostile template would try; each must end in one line naming the template,
exit 2, no traceback, the secret unread and no file written outside the output folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ofsep_presets.cli import main
from ofsep_presets.render import environment, render_template
from ofsep_presets.sandbox import Helper, plain

SECRET = "ofsep-presets-template-must-never-read-this"


def _write_template(tmp_path: Path, body: str) -> None:
    folder = tmp_path / "templates" / "ge"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lxprotocol.txt.j2").write_text(body, encoding="utf-8")


def _render(tmp_path: Path, body: str | None = None):
    """Render one GE sheet with a user template folder whose lxprotocol template is `body`."""
    if body is not None:
        _write_template(tmp_path, body)
    args = ["render", "--out", str(tmp_path / "out"), "--vendor", "ge", "--field", "3", "--exam", "brain"]
    args += ["--variant", "standard", "--format", "sheet", "--quiet", "--templates", str(tmp_path / "templates")]
    return CliRunner().invoke(main, args)


def _files_outside_output(tmp_path: Path) -> set[str]:
    out = tmp_path / "out"
    return {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() and out not in p.parents}


PAYLOADS = {
    # Path methods on the spec's file paths (the finding of issue 14).
    "joinpath_read_text": '{{ spec.files[0].joinpath("SECRET").read_text() }}',
    "path_read_text": '{{ spec.path.parent.joinpath("SECRET").read_text() }}',
    "path_open": '{{ spec.files[0].joinpath("SECRET").open().read() }}',
    "write_text": '{{ spec.files[0].joinpath("PWNED").write_text("x") }}',
    "sheet_spec_path": '{{ sheet.spec.path.joinpath("SECRET").read_bytes() }}',
    "attr_filter": '{{ (spec.files[0] | attr("joinpath"))("SECRET") | attr("read_text") }}',
    "map_attribute": '{{ (spec.files | map(attribute="read_text") | first)("SECRET") }}',
    # Walks to Python internals.
    "mro_subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "init_globals": "{{ text.__init__.__globals__ }}",
    "helper_function": "{{ text.function.__globals__ }}",
    "cycler_globals": "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "item_dunder": "{{ spec['__class__'] }}",
    # Methods of objects the view model used to carry.
    "spec_method": "{{ spec.variants() }}",
    "vendor_object": "{{ sheet.vendor.cards[0].fields[0].__class__ }}",
    "dict_update": "{{ spec.update({'id': 'x'}) }}",
    "list_pop": "{{ spec.vendors.pop() }}",
}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_hostile_user_template_is_refused(tmp_path, name):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    body = PAYLOADS[name].replace("SECRET", str(secret)).replace("PWNED", str(tmp_path / "pwned.txt"))
    _write_template(tmp_path, body + "\n")
    before = _files_outside_output(tmp_path)
    result = _render(tmp_path)
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "lxprotocol.txt.j2" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert SECRET not in result.output
    for written in (tmp_path / "out").rglob("*"):
        assert written.is_dir() or SECRET not in written.read_text(encoding="utf-8", errors="replace")
    assert _files_outside_output(tmp_path) == before


@pytest.mark.parametrize(
    "body",
    [
        "{{ 1 / 0 }}",
        # Sizes past the 10 M limit of sandbox.py, yet small enough (< 1 GB) not to take the machine down if the
        # bound ever regresses.
        "{{ 'x' * (2 * 10 ** 8) }}",
        "{{ 2 ** (10 ** 9) }}",
        "{{ 'x'.ljust(2 * 10 ** 8) }}",
        "{{ 'x' | center(2 * 10 ** 8) }}",
        "{{ '%0200000000d' % 1 }}",
        "{{ '{:>200000000}'.format(1) }}",
        "{{ range(10 ** 9) | list }}",
        "{{ [1] * (5 * 10 ** 7) }}",
        "{% for x in 5 %}{% endfor %}",
    ],
)
def test_template_runtime_error_is_one_line_exit_2(tmp_path, body):
    result = _render(tmp_path, body + "\n")
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert "lxprotocol.txt.j2" in result.stderr and "line 1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output


def test_user_template_still_reads_the_view_model(tmp_path):
    """What templates are for still works: the data, our helpers, macros, loops, str.format, Jinja's globals."""
    body = (
        "{% import 'common/_macros.html.j2' as m %}"
        "{{ spec.id }}|{{ text(spec.title) }}|{{ sheet.vendor.name }}|{{ spec.files[0].rsplit('/', 1)[1] }}|"
        "{% for s in sheet.sequences %}{{ loop.cycle('a', 'b') }}{{ s.checklist_rows | length > 0 }}{% endfor %}|"
        "{{ '{}-{}'.format(field_t, lang) }}|{{ t.get('legend') is not none }}|{% set ns = namespace(n=0) %}"
        "{% for k, v in spec.exams.items() %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}|"
        "{{ m.basis({'basis': 'nominal'}, t) | length > 0 }}|{{ range(3) | list }}\n"
    )
    result = _render(tmp_path, body)
    assert result.exit_code == 0, result.output
    # The GE sheet is a protocol tar: the template is each series' LxProtocol (Latin-1, as the console's).
    import tarfile

    with tarfile.open(tmp_path / "out/ge/3T/brain-standard/protocol.tar") as archive:
        first = next(m for m in archive.getmembers() if m.name.endswith("/LxProtocol"))
        text = archive.extractfile(first).read().decode("latin-1")
    assert text.startswith("ofsep-2020|OFSEP 2020 MRI protocol|GE HealthCare|ofsep-2020.yaml|")
    assert "|3.0-en|True|2|True|[0, 1, 2]" in text


def test_context_is_plain_data(spec):
    """Whatever the view model holds, the template context is dicts, lists, tuples, sets, scalars and helpers."""
    from ofsep_presets.render import sheet_context
    from ofsep_presets.sheets import sheet
    from ofsep_presets.vendors import all_vendors

    sh = sheet(spec, all_vendors()["siemens"], 3.0, spec.variant("brain", "standard"), "en")
    data = plain(sheet_context(spec, sh, None, "../"))

    def walk(value):
        if isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, list | tuple | set):
            for v in value:
                walk(v)
        else:
            assert value is None or type(value) in (str, int, float, bool) or isinstance(value, Helper), type(value)

    walk(data)
    assert isinstance(data["spec"]["files"][0], str)


def test_a_leaked_object_is_still_unusable(tmp_path):
    """The second wall: if a future change hands a template a real object, the sandbox refuses it anyway."""
    env = environment()
    template = env.from_string("{{ p.read_text() }}")
    secret = tmp_path / "s.txt"
    secret.write_text(SECRET, encoding="utf-8")
    with pytest.raises(Exception) as caught:
        template.render(p=secret)
    assert SECRET not in str(caught.value)
    assert "plain data" in str(caught.value)
    # and through render_template, whose plain() turns the path into a string
    assert render_template(env, "common/_macros.html.j2", {"p": secret}) is not None
