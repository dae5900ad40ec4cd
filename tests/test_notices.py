"""`inspect` says per input what could not be read and why, each reason once and counted, never a traceback."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from ofsep_presets.cli import main
from ofsep_presets.notices import summarise

from .conftest import FIXTURES


def test_the_same_reason_for_many_files_is_one_counted_line():
    warnings = [
        f"/exam/s1/{i:04d}.dcm: not readable DICOM (InvalidDicomError: /exam/s1/{i:04d}.dcm is truncated)"
        for i in range(300)
    ] + ["12 file(s) skipped: not a format ofsep-presets reads", "T2w: echo time 'Allowed' left absent"]
    assert summarise(warnings) == [
        "300 files: not readable DICOM (InvalidDicomError: … is truncated) (first: /exam/s1/0000.dcm)",
        "12 file(s) skipped: not a format ofsep-presets reads",
        "T2w: echo time 'Allowed' left absent",
    ]


def test_inspect_table_counts_what_it_could_not_read(tmp_path):
    series = FIXTURES / "dicom/GE/SIGNA_Pioneer_Ax_DWI_TENSOR_R2_full"
    for path in sorted(series.glob("i*"))[:3]:
        shutil.copy(path, tmp_path / path.name)
    (tmp_path / "notes.txt").write_text("not a scan")
    (tmp_path / "empty.dcm").write_bytes(b"")
    result = CliRunner().invoke(main, ["inspect", "--quiet", str(tmp_path)])
    assert result.exit_code == 0 and result.exception is None
    assert "2 warnings (what could not be read or disagrees, and why):" in result.output
    assert "2 file(s) skipped: not a format ofsep-presets reads" in result.output
    # the partial series: (0019,10E0) says 6 directions, the three files hold one
    assert "prescribed diffusion directions" in result.output
