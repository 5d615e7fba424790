"""`smacish status|plot|export DIR` end to end, as a user runs it (`python -m smacish ...` in a
subprocess), on real run directories: a finished run, a run another process is writing, and a
run left with pending trials and a half-written last line. Reading a run never changes it."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Dict, Tuple

import pytest
from ConfigSpace import ConfigurationSpace

import smacish
from smacish.cli import main

pd = pytest.importorskip("pandas")

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def smacish_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "smacish", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=ROOT)


def snapshot(directory: Path) -> Dict[str, Tuple[str, int]]:
    """Every file under ``directory``: its content hash and modification time."""
    return {
        str(p.relative_to(directory)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in sorted(directory.rglob("*")) if p.is_file()
    }


def space() -> ConfigurationSpace:
    return ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=0)


def target(config, budget):
    return config["x"] + config["y"] / budget


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Tuple[Path, smacish.Optimizer]:
    out = tmp_path_factory.mktemp("cli") / "run"
    opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9, eta=3), seed=0,
                            output_dir=out)
    opt.optimize(target, n_trials=30)
    return out, opt


@pytest.fixture
def interrupted_run(tmp_path) -> Tuple[Path, smacish.Optimizer, list]:
    """A run with two pending trials whose log ends in a half-written line (a crash mid-write)."""
    out = tmp_path / "run"
    opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9, eta=3), seed=0,
                            output_dir=out)
    opt.optimize(target, n_trials=12)
    pending = [opt.ask(n_workers=2), opt.ask(n_workers=2)]
    events = out / "events.jsonl"
    whole_tell = json.dumps({"e": "tell", "t": 9.0, "trial": [list(pending[0].config_id), None, 0, 1.0],
                             "value": {"cost": 0.5}})
    with open(events, "a", encoding="utf-8") as fh:
        fh.write(whole_tell[: len(whole_tell) // 2])  # no newline: cut off mid-write
    return out, opt, pending


# ---------------------------------------------------------------------- status
def test_status_of_a_finished_run(finished_run) -> None:
    out, opt = finished_run
    proc = smacish_cli("status", out)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    text = proc.stdout
    assert f"run:         {out}" in text
    assert "Hyperband(min_budget=1, max_budget=9, eta=3)" in text and "seed 0" in text
    assert f"trials:      30 finished, 0 pending; budget spent {opt.runhistory.budget_spent:g}" in text
    inc = opt.runhistory.incumbent_entry()
    assert f"incumbent:   config {inc.config_number}, cost {inc.cost:.6g} on budget {inc.budget:g}" in text
    assert re.search(rf"x = {re.escape(str(dict(inc.config)['x']))}", text)
    assert "pending:" not in text


def test_a_run_with_pending_trials_and_a_torn_last_line(interrupted_run, tmp_path) -> None:
    out, opt, pending = interrupted_run
    before = snapshot(out)

    proc = smacish_cli("status", out)
    assert proc.returncode == 0, proc.stderr
    assert "trials:      12 finished, 2 pending" in proc.stdout  # the torn tell is not counted
    for info in pending:
        assert f"pending:     config_id={info.config_id} budget={info.budget}" in proc.stdout

    proc = smacish_cli("plot", out, "--out", tmp_path / "figs")
    assert proc.returncode == 0, proc.stderr
    names = ["brackets.png", "contour.png", "importance.png", "learning_curves.png", "parallel_coordinates.png",
             "slice.png", "trajectory.png", "worker_timeline.png"]
    assert proc.stdout.split() == [str(tmp_path / "figs" / n) for n in names]
    for name in names:
        assert (tmp_path / "figs" / name).read_bytes().startswith(PNG_MAGIC)

    proc = smacish_cli("export", out, "--out", tmp_path / "trials.csv")
    assert proc.returncode == 0, proc.stderr
    assert len(pd.read_csv(tmp_path / "trials.csv")) == 12

    assert snapshot(out) == before  # reading changed nothing: same files, bytes, modification times

    # and the run still resumes: the torn line is dropped, the pending trials come back first
    opt.run_directory.log.close(trim=False)  # the fixture keeps opt alive: let go of the run as a killed process does
    with pytest.warns(RuntimeWarning, match="truncated"):
        resumed = smacish.Optimizer.load(out)
    assert len(resumed.runhistory) == 12
    assert resumed.ask().key == pending[0].key


def test_status_of_a_run_being_written_by_another_process(tmp_path) -> None:
    out = tmp_path / "live"
    script = textwrap.dedent(f"""
        import time
        from ConfigSpace import ConfigurationSpace
        import smacish

        def slow(config, budget):
            time.sleep(0.25)
            return config["x"] / budget

        space = ConfigurationSpace({{"x": (0.0, 1.0)}}, seed=0)
        opt = smacish.Optimizer(space, smacish.SuccessiveHalving(min_budget=1, max_budget=9), seed=0,
                                output_dir={str(out)!r})
        opt.optimize(slow, n_trials=400)
    """)
    writer = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        seen = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and len(seen) < 3:
            if (out / "events.jsonl").exists():
                proc = smacish_cli("status", out)
                assert proc.returncode == 0, proc.stderr
                match = re.search(r"trials:\s+(\d+) finished, (\d+) pending", proc.stdout)
                assert match, proc.stdout
                finished, n_pending = map(int, match.groups())
                if finished:
                    seen.append(finished)
                    assert n_pending <= 1  # serial: at most the trial being run
                    assert "incumbent:   config" in proc.stdout
            assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
            time.sleep(0.3)
        assert len(seen) == 3, "the writer made no progress"
        assert seen == sorted(seen)
    finally:
        writer.send_signal(signal.SIGKILL)  # the writer dies mid-run
        writer.wait(timeout=30)
    proc = smacish_cli("status", out)  # ... and its directory still reads
    assert proc.returncode == 0, proc.stderr
    assert int(re.search(r"(\d+) finished", proc.stdout).group(1)) >= seen[-1]


# ---------------------------------------------------------------------- plot
def test_plot_defaults_to_the_plots_folder(finished_run, tmp_path) -> None:
    out = tmp_path / "run"
    shutil.copytree(finished_run[0], out)
    proc = smacish_cli("plot", out)
    assert proc.returncode == 0, proc.stderr
    names = ["brackets.png", "contour.png", "importance.png", "learning_curves.png", "parallel_coordinates.png",
             "slice.png", "trajectory.png", "worker_timeline.png"]
    assert proc.stdout.split() == [str(out / "plots" / n) for n in names]
    assert sorted(p.name for p in (out / "plots").iterdir()) == names


# ---------------------------------------------------------------------- export
def test_export_csv_is_the_runhistory(finished_run, tmp_path) -> None:
    out, opt = finished_run
    proc = smacish_cli("export", out, "--out", tmp_path / "trials.csv")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(tmp_path / "trials.csv")
    exported = pd.read_csv(tmp_path / "trials.csv")
    expected = opt.runhistory.to_dataframe()
    assert len(exported) == len(opt.runhistory) == 30
    assert list(exported.columns) == list(expected.columns)
    for column in ("walltime", "incumbent_so_far"):
        assert column in exported.columns
    for column in ("config_number", "x", "y", "budget", "cost", "walltime", "incumbent_so_far"):
        assert exported[column].tolist() == pytest.approx(expected[column].tolist()), column
    assert exported["config_id"].tolist() == [str(cid) for cid in expected["config_id"]]
    assert exported["status"].tolist() == ["SUCCESS"] * 30
    # the run's clock at each tell: told in order, so it never goes back, and it ends where the run's clock was
    assert exported["walltime"].is_monotonic_increasing and exported["walltime"].iloc[0] >= 0
    assert exported["walltime"].iloc[-1] <= opt.trajectory[-1].walltime + 1.0
    assert exported["incumbent_so_far"].iloc[-1] == pytest.approx(opt.runhistory.incumbent_entry().cost)


def test_export_parquet(finished_run, tmp_path) -> None:
    pytest.importorskip("pyarrow")
    out, opt = finished_run
    proc = smacish_cli("export", out, "--format", "parquet", "--out", tmp_path / "trials.parquet")
    assert proc.returncode == 0, proc.stderr
    exported = pd.read_parquet(tmp_path / "trials.parquet")
    assert len(exported) == 30
    assert exported["cost"].tolist() == pytest.approx(opt.runhistory.to_dataframe()["cost"].tolist())
    assert {"walltime", "incumbent_so_far"} <= set(exported.columns)


# ---------------------------------------------------------------------- errors and help
def test_a_missing_directory_is_one_line_and_status_2(tmp_path, capsys) -> None:
    assert main(["status", str(tmp_path / "nowhere")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("smacish status: ") and str(tmp_path / "nowhere") in captured.err
    assert len(captured.err.strip().splitlines()) == 1


def test_a_directory_without_a_run_is_refused(tmp_path, capsys) -> None:
    assert main(["export", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "optimizer.json" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())


def test_help_lists_the_commands(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("status", "plot", "export"):
        assert command in out

