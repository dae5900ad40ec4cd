"""Where the per-site checks run changes nothing in the report (issue 15): the local process pool and a Dask
cluster (a `distributed.LocalCluster` of two worker processes on loopback, started here) write the same audit.json,
audit.csv and site pages as a serial run, and their results are merged into the same cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from ofsep_presets.cli import main

from .conftest import FIXTURES

DATASET = FIXTURES / "bids" / "spine-generic-single-subject"
SITES = [DATASET, *sorted(p for p in (FIXTURES / "dicom" / "Siemens").glob("*") if p.is_dir())[:3]]


def _audit(out: Path, *more: str):
    result = CliRunner().invoke(main, ["audit", *map(str, SITES), "--spec", "spine-generic", "--out", str(out), *more])
    assert result.exit_code in (1, 2), (result.stderr, result.exception)
    return result


def _outputs(out: Path) -> dict[str, str]:
    doc = json.loads((out / "audit.json").read_text())
    pages = {p.name: p.read_text() for p in sorted((out / "sites").iterdir())}
    return {
        "json": doc,
        "csv": (out / "audit.csv").read_text(),
        "pages": pages,
        "html": (out / "audit.html").read_text(),
    }


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "out"
    _audit(out, "--executor", "serial")
    return _outputs(out)


def test_the_local_pool_writes_what_a_serial_run_writes(serial, tmp_path):
    out = tmp_path / "out"
    result = _audit(out, "--jobs", "2")
    assert "(0 from the cache)" in result.stderr
    assert _outputs(out) == serial
    assert len(serial["json"]["sites"]) == 19 + len(SITES) - 1


def test_a_dask_cluster_writes_what_a_serial_run_writes_into_the_same_cache(serial, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address.removeprefix("tcp://")
        out = tmp_path / "out"
        result = _audit(out, "--executor", f"dask://{address}")
        assert "(0 from the cache)" in result.stderr
        assert _outputs(out) == serial
        prefix = cluster.scheduler.task_prefixes["check_site"]  # the checks ran as the cluster's tasks
        assert prefix.state_counts["memory"] == len(serial["json"]["sites"])  # each site once, on a worker
    # The cluster's results are in the folder's cache: a local re-run reads nothing.
    again = _audit(out, "--executor", "serial")
    assert f"({len(serial['json']['sites'])} from the cache)" in again.stderr
    assert _outputs(out) == serial


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(
        main,
        [
            "audit",
            str(DATASET),
            "--spec",
            "spine-generic",
            "--out",
            str(tmp_path / "o"),
            "--executor",
            "dask://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 2 and "Dask scheduler" in result.stderr and "Traceback" not in result.stderr
