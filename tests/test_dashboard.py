"""`smacish dashboard DIR`: the JSON the page polls, for runs written here (finished, live in
this process, live in another process and then SIGKILLed, with a torn last line, copied, and
with their log replaced), the read-only guarantee, the importance panel against a stand-in
``smacish.analysis``, the Dask runner's record of its dashboard, the command line, and the page
itself in a real headless Chromium. Everything talks to 127.0.0.1 only."""

from __future__ import annotations

import builtins
import hashlib
import io
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import types
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterator, Tuple

import pytest
from ConfigSpace import ConfigurationSpace

import smacish
from smacish import _runlog, dashboard
from smacish.cli import RunView, main
from smacish.dashboard import DashboardServer
from smacish.runners.simulated import run_simulated
from smacish.trial import StatusType, TrialValue

ROOT = Path(__file__).resolve().parents[1]
DOCS_IMAGE = ROOT / "docs" / "img" / "dashboard.png"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def space() -> ConfigurationSpace:
    return ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=0)


def target(config, budget):
    if config["y"] > 0.9:
        raise RuntimeError("y too large")
    return config["x"] + config["y"] / budget


def new_run(out: Path) -> smacish.Optimizer:
    return smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9, eta=3), seed=0, output_dir=out)


def simulate(opt: smacish.Optimizer, n_trials: int) -> None:
    """Trials on four virtual workers (budget = seconds), so that the timeline has rows."""
    run_simulated(opt, target, duration=lambda info, value: info.budget, n_workers=4, n_trials=n_trials)


@pytest.fixture
def server(request) -> Iterator:
    """``start(directory)``: a dashboard server on a free loopback port, shut down at the end."""
    started = []

    def start(directory: Path) -> DashboardServer:
        srv = DashboardServer(str(directory), port=0)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def get(srv: DashboardServer, path: str) -> Any:
    with urllib.request.urlopen(srv.url + path.lstrip("/"), timeout=30) as response:
        assert response.headers["Content-Type"] == "application/json"
        return json.loads(response.read())


def state_now(srv: DashboardServer, query: str = "") -> Dict[str, Any]:
    srv.dashboard.refresh(force=True)  # not the half-second reuse of the last read
    return get(srv, "/api/state" + query)


def files_of(directory: Path) -> Dict[str, Tuple[str, int]]:
    """Every file under ``directory`` (the lock too): content hash and modification time."""
    return {str(p.relative_to(directory)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(directory.rglob("*")) if p.is_file()}


def check_against(state: Dict[str, Any], rh: smacish.RunHistory, trajectory) -> None:
    """The state's numbers are the RunHistory's and the trajectory's."""
    assert state["n_trials"] == len(rh)
    assert state["budget_spent"] == rh.budget_spent
    inc = rh.incumbent_entry()
    assert state["incumbent"]["id"] == inc.config_number
    assert state["incumbent"]["cost"] == inc.cost and state["incumbent"]["budget"] == inc.budget
    assert state["incumbent"]["config"] == pytest.approx(dict(inc.config))
    assert [e["cost"] for e in state["trajectory"]] == [e.cost for e in trajectory]
    assert [e["budget"] for e in state["trajectory"]] == [e.budget for e in trajectory]
    assert state["status"] == dict(Counter(v.status.value for _, v in rh.items()))
    rows = state["trials"]
    assert len(rows) == len(rh)
    for n, (row, (info, value)) in enumerate(zip(rows, rh.items()), start=1):
        assert row["n"] == n and row["id"] == rh.find_config_number(info.config)
        assert row["config_id"] == ".".join(map(str, info.config_id))
        assert row["budget"] == info.budget and row["status"] == value.status.value
        assert row["cost"] == (value.cost if math.isfinite(value.cost) else None)
        assert (row["start"], row["end"]) == (value.starttime, value.endtime)
        assert row["worker"] == value.additional_info.get("worker", "in-process")
        assert row["config"] == pytest.approx(dict(info.config))
        assert (row["error"] is None) == (value.status is StatusType.SUCCESS)


# ---------------------------------------------------------------------- the JSON endpoint
def test_the_state_of_a_finished_run(tmp_path, server) -> None:
    out = tmp_path / "run"
    opt = new_run(out)
    simulate(opt, 40)
    opt.close()
    srv = server(out)
    state = get(srv, "/api/state")
    check_against(state, opt.runhistory, opt.trajectory)
    assert Counter(state["status"]) == Counter(SUCCESS=35, CRASHED=5)  # y > 0.9 crashes: this seed has 5
    assert {r["worker"] for r in state["trials"]} == {f"virtual-{k}" for k in range(4)}
    assert [r["error"] for r in state["trials"] if r["status"] == "CRASHED"] == ["RuntimeError: y too large"] * 5
    assert state["n_pending"] == 0 and state["pending"] == []
    assert state["run"] == {"intensifier": "Hyperband", "min_budget": 1.0, "max_budget": 9.0, "eta": 3,
                            "selector": "rf", "seed": 0, "incumbent_selection": "highest_executed_budget",
                            "budgets": [1.0, 3.0, 9.0]}
    assert state["hyperparameters"] == ["x", "y"]
    assert state["run_time"] == max(r["walltime"] for r in state["trials"])
    assert state["dask"] is None and state["error"] is None

    # the iterations: Hyperband(1, 9, 3) runs brackets of 9-3-1, 5-1 and 3 configurations
    its = state["iterations"]
    assert its["n_brackets"] == 3
    seen: Dict[int, Dict[float, set]] = {}
    for info, _ in opt.runhistory.items():
        seen.setdefault(info.config_id[0], {}).setdefault(info.budget, set()).add(info.config_id)
    assert its["n"] == len(seen)
    planned = {0: [(9, 1.0), (3, 3.0), (1, 9.0)], 1: [(5, 3.0), (1, 9.0)], 2: [(3, 9.0)]}
    for it in its["shown"]:
        # the bracket whose first budget is the smallest the iteration ran (with four workers the
        # least aggressive bracket that may start goes first, so not the cycle's order)
        assert planned[it["bracket"]][0][1] == min(seen[it["iteration"]])
        assert [(s["planned"], s["budget"]) for s in it["stages"]] == planned[it["bracket"]]
        assert [s["reached"] for s in it["stages"]] == [len(seen[it["iteration"]].get(s["budget"], ())) for s in it["stages"]]
        assert [s["done"] for s in it["stages"]] == [s["reached"] for s in it["stages"]]  # nothing pending
        # nothing pending: an iteration is finished once it has run its last stage
        assert it["finished"] == (it["stage"] == len(planned[it["bracket"]]) - 1) == (9.0 in seen[it["iteration"]])
    assert its["shown"][0]["finished"] and its["shown"][0]["stage"] == 2
    assert not all(it["finished"] for it in its["shown"])  # 40 trials end inside an iteration

    # only the new rows when asked for them; all of them for another generation
    part = get(srv, f"/api/state?since=30&generation={state['generation']}")
    assert part["since"] == 30 and part["trials"] == state["trials"][30:]
    assert get(srv, "/api/state?since=30&generation=99")["trials"] == state["trials"]


def test_a_live_run_is_read_incrementally_and_never_written(tmp_path, server, monkeypatch) -> None:
    """The Optimizer of this test holds the run's lock and goes on writing; the dashboard
    reads what is new, and opens nothing under the run for writing (checked on every open,
    rename and removal while it reads, and on the files' bytes and times after)."""
    out = tmp_path / "run"
    opt = new_run(out)
    simulate(opt, 20)
    pending = [opt.ask(n_workers=2), opt.ask(n_workers=2)]
    srv = server(out)

    writes = []
    root = str(out)
    real_open, real_os_open = builtins.open, os.open

    def watched_open(file, mode="r", *args, **kwargs):
        if str(file).startswith(root) and any(c in mode for c in "wax+"):
            writes.append((str(file), mode))
        return real_open(file, mode, *args, **kwargs)

    def watched_os_open(path, flags, *args, **kwargs):
        if str(path).startswith(root) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND):
            writes.append((str(path), flags))
        return real_os_open(path, flags, *args, **kwargs)

    def read_with_watch() -> Dict[str, Any]:
        before = files_of(out)
        with monkeypatch.context() as m:
            m.setattr(builtins, "open", watched_open)
            m.setattr(io, "open", watched_open)
            m.setattr(os, "open", watched_os_open)
            for name in ("replace", "rename", "remove", "unlink", "truncate", "utime", "chmod"):
                m.setattr(os, name, lambda *a, _name=name, **k: writes.append((_name, a)))
            state = state_now(srv)
        assert writes == []
        assert files_of(out) == before
        return state

    state = read_with_watch()
    assert state["n_trials"] == 20 and state["n_pending"] == 2
    assert sorted(p["config_id"] for p in state["pending"]) == sorted(".".join(map(str, i.config_id)) for i in pending)
    # the pending trials count as reached, not done, in their iteration's stage
    stage0 = [it for it in state["iterations"]["shown"] if it["iteration"] == pending[0].config_id[0]][0]["stages"]
    assert sum(s["reached"] - s["done"] for s in stage0) >= 1

    for info in pending:
        opt.tell(info, TrialValue(cost=0.001, starttime=100.0, endtime=101.0, additional_info={"worker": "w9"}))
    simulate(opt, 30)
    view_offset = srv.dashboard.view._read.offset
    state = read_with_watch()
    assert srv.dashboard.view._read.offset > view_offset
    check_against(state, opt.runhistory, opt.trajectory)
    part = get(srv, f"/api/state?since=20&generation={state['generation']}")
    assert [r["config_id"] for r in part["trials"][:2]] == [".".join(map(str, i.config_id)) for i in pending]
    assert [r["worker"] for r in part["trials"][:2]] == ["w9", "w9"]
    opt.close()


def test_a_torn_last_line_is_left_until_it_is_whole(tmp_path, server) -> None:
    out = tmp_path / "run"
    opt = new_run(out)
    simulate(opt, 12)
    info = opt.ask()
    line = opt.run_directory.tell_line(info, TrialValue(cost=0.0042, starttime=1.0, endtime=2.0), 30.0)
    opt.run_directory.log.close(trim=True)  # as a killed process leaves it: no more writes from opt
    events = out / _runlog.EVENTS
    with open(events, "ab") as fh:
        fh.write(line[: len(line) // 2])
    before = files_of(out)
    srv = server(out)
    state = state_now(srv)
    assert state["n_trials"] == 12 and state["n_pending"] == 1 and state["n_damaged"] == 0
    assert files_of(out) == before

    with open(events, "ab") as fh:  # the writer finishes the line
        fh.write(line[len(line) // 2:])
    state = state_now(srv)
    assert state["n_trials"] == 13 and state["n_pending"] == 0
    assert state["trials"][-1]["cost"] == 0.0042 and state["run_time"] == 30.0
    assert state["incumbent"]["cost"] == RunView.read(str(out)).runhistory.incumbent_entry().cost


_WRITER = textwrap.dedent("""
    import sys, time
    from ConfigSpace import ConfigurationSpace
    import smacish

    def target(config, budget):
        time.sleep(0.05)
        return config["x"] + config["y"] / budget

    opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0), "y": (0.0, 1.0)}, seed=0),
                            smacish.Hyperband(min_budget=1, max_budget=9, eta=3), seed=0,
                            selector="random", output_dir=sys.argv[1])
    print("started", flush=True)
    opt.optimize(target, n_trials=100000)
""")


def test_a_run_written_by_another_process_then_killed_and_copied(tmp_path, server) -> None:
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(out)], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "started"
        deadline = time.monotonic() + 60
        while not (out / _runlog.EVENTS).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        srv = server(out)
        counts = []
        while time.monotonic() < deadline and (not counts or counts[-1] < 25):
            counts.append(state_now(srv)["n_trials"])
            time.sleep(0.2)
        assert counts[-1] >= 25 and len(set(counts)) >= 3, counts  # it saw the run grow
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    with open(out / _runlog.EVENTS, "r+b") as fh:  # what a kill in the middle of a write leaves
        fh.seek(_runlog.data_end(fh))  # before the zeros the log grows ahead of its events
        fh.write(b'{"e": "tell", "t": 99.0, "trial": [[0, 0, 0], nu')
    state = state_now(srv)
    whole = RunView.read(str(out))
    assert state["error"] is None
    check_against(state, whole.runhistory, whole.trajectory)
    assert state["n_pending"] == len(whole.pending)
    tells = sum(1 for line in (out / _runlog.EVENTS).read_bytes().split(b"\n") if line.startswith(b'{"e": "tell"'))
    assert state["n_trials"] == tells - 1  # every whole tell, not the torn one

    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    assert get(server(copy), "/api/state")["trials"] == state["trials"]


def test_a_replaced_log_starts_the_rows_over(tmp_path, server) -> None:
    out, other = tmp_path / "run", tmp_path / "other"
    opt = new_run(out)
    simulate(opt, 30)
    opt.close()
    shorter = new_run(other)
    simulate(shorter, 10)
    shorter.close()
    srv = server(out)
    first = state_now(srv)
    assert first["n_trials"] == 30
    tmp = out / "events.new"
    shutil.copyfile(other / _runlog.EVENTS, tmp)
    os.replace(tmp, out / _runlog.EVENTS)  # a new file (another inode), as a restore from a copy
    state = state_now(srv, f"?since=30&generation={first['generation']}")
    assert state["generation"] == first["generation"] + 1
    assert state["since"] == 0 and state["n_trials"] == 10 and len(state["trials"]) == 10
    assert [r["cost"] for r in state["trials"]] == [v.cost if math.isfinite(v.cost) else None
                                                    for _, v in shorter.runhistory.items()]


def test_http_errors(tmp_path, server) -> None:
    out = tmp_path / "run"
    new_run(out).close()
    srv = server(out)
    state = get(srv, "/api/state")
    assert state["n_trials"] == 0 and state["incumbent"] is None and state["trials"] == []
    assert state["iterations"] == {"n": 0, "n_brackets": 3, "shown": []}
    for path, code in (("/api/state?since=x", 400), ("/nope", 404)):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(srv.url + path.lstrip("/"), timeout=30)
        assert err.value.code == code
    with urllib.request.urlopen(srv.url, timeout=30) as response:
        html = response.read().decode()
    assert response.headers["Content-Type"].startswith("text/html")
    assert "api/state" in html and "http://" not in html.replace("http://www.w3.org", "")  # nothing from elsewhere

    # dask.json as the runner writes it, and a crafted one: the page gets web addresses only
    for link, shown in (("http://127.0.0.1:8787/status", "http://127.0.0.1:8787/status"), ("javascript:alert(1)", None)):
        (out / _runlog.DASK).write_text(json.dumps({"dashboard": link, "scheduler": "tcp://127.0.0.1:8786", "since": 1.0}))
        assert state_now(srv)["dask"] == {"dashboard": shown, "scheduler": "tcp://127.0.0.1:8786", "since": 1.0}


# ---------------------------------------------------------------------- importance
class _Frame:
    """The few parts of a DataFrame the panel reads (pandas may be missing)."""

    def __init__(self, columns: Dict[str, list], attrs: Dict[str, Any]):
        self.columns, self.attrs = columns, attrs

    def __getitem__(self, name: str) -> list:
        return self.columns[name]


def fake_analysis(monkeypatch, importance) -> list:
    calls: list = []
    module = types.ModuleType("smacish.analysis")

    def record(source, budget=None):
        calls.append((source, budget))
        return importance(source)

    module.importance = record
    monkeypatch.setitem(sys.modules, "smacish.analysis", module)
    monkeypatch.setattr(smacish, "analysis", module, raising=False)
    return calls


def test_the_importance_panel(tmp_path, server, monkeypatch) -> None:
    out = tmp_path / "run"
    opt = new_run(out)
    simulate(opt, 20)
    monkeypatch.setattr(dashboard, "IMPORTANCE_INTERVAL", 0.0)
    calls = fake_analysis(monkeypatch, lambda source: _Frame(
        {"hyperparameter": ["x", "y"], "importance": [0.75, 0.25], "std": [0.05, float("nan")]},
        {"method": "fanova", "budget": 9.0}))
    srv = server(out)
    got = get(srv, "/api/importance")
    assert got == {"ok": True, "method": "fanova", "budget": 9.0, "n_trials": 20,
                   "rows": [{"hyperparameter": "x", "importance": 0.75, "std": 0.05},
                            {"hyperparameter": "y", "importance": 0.25, "std": None}]}
    assert calls == [(str(out), None)]  # the run directory is the source
    assert get(srv, "/api/importance") == got and len(calls) == 1  # no new trial: not computed again

    fake_analysis(monkeypatch, lambda source: (_ for _ in ()).throw(
        ValueError("importance needs at least 30 successful trials on one budget; the run has 18")))
    simulate(opt, 25)
    srv.dashboard.refresh(force=True)
    assert get(srv, "/api/importance") == {
        "ok": False, "n_trials": 25, "reason": "importance needs at least 30 successful trials on one budget; the run has 18"}

    fake_analysis(monkeypatch, lambda source: 1 / 0)
    simulate(opt, 27)
    srv.dashboard.refresh(force=True)
    assert get(srv, "/api/importance")["reason"] == "ZeroDivisionError: division by zero"

    monkeypatch.setitem(sys.modules, "smacish.analysis", None)  # not installed: importing it fails
    monkeypatch.delattr(smacish, "analysis", raising=False)
    simulate(opt, 28)
    srv.dashboard.refresh(force=True)
    reason = get(srv, "/api/importance")["reason"]
    assert reason.startswith("importance needs smacish.analysis, which this smacish lacks")
    opt.close()


# ---------------------------------------------------------------------- Dask
def test_a_dask_run_records_its_dashboard_and_says_how_to_start_ours(tmp_path, server, dask_client, caplog) -> None:
    out = tmp_path / "run"
    opt = new_run(out)
    before = time.time()
    with caplog.at_level("INFO", logger="smacish"):
        opt.optimize(lambda config, budget: config["x"] / budget, n_trials=6, client=dask_client)
    opt.close()
    recorded = json.loads((out / _runlog.DASK).read_text())
    assert recorded["scheduler"] == dask_client.scheduler.address
    assert recorded["dashboard"] == (dask_client.dashboard_link or None)
    assert before <= recorded["since"] <= time.time()  # written by this optimize call
    line = [r.getMessage() for r in caplog.records if "dashboard" in r.getMessage()]
    assert line == [f"Dask cluster, dashboard {dask_client.dashboard_link or '(none)'}; "
                    f"this run's own dashboard: smacish dashboard {out}"]
    assert get(server(out), "/api/state")["dask"] == recorded


# ---------------------------------------------------------------------- the command line
def test_the_command_line_serves_the_page_and_fails_loudly(tmp_path, capsys) -> None:
    assert main(["dashboard", str(tmp_path / "nope")]) == 2
    assert "smacish dashboard: " in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["dashboard", str(tmp_path / "empty")]) == 2
    assert "is not a smacish run directory" in capsys.readouterr().err

    out = tmp_path / "run"
    opt = new_run(out)
    simulate(opt, 9)
    opt.close()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["dashboard", str(out), "--port", str(port)]) == 2
        assert capsys.readouterr().err == (f"smacish dashboard: port {port} on 127.0.0.1 is in use; choose another "
                                           "with --port (--port 0 takes a free one)\n")

    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "smacish", "dashboard", str(out), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            # Ctrl-C's SIGINT, also when the tests run as a background job (SIGINT ignored)
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        line = proc.stdout.readline()
        assert line.startswith(f"smacish dashboard of {out}: http://127.0.0.1:") and "(Ctrl-C stops it)" in line
        url = line.split(": ", 1)[1].split(" ")[0]
        with urllib.request.urlopen(url + "api/state", timeout=30) as response:
            assert json.loads(response.read())["n_trials"] == 9
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0, proc.stderr.read()


# ---------------------------------------------------------------------- the page in a browser
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def browser() -> str:
    """The Chromium to drive, or a skip (a failure with SMACISH_REQUIRE_BROWSER=1, as in CI)."""
    missing = None
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as err:
        missing = f"the playwright package is not installed ({err})"
    if executable is None:
        missing = "no Chromium found (apt-get install chromium)"
    if missing is None:
        return executable
    if os.environ.get("SMACISH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"SMACISH_REQUIRE_BROWSER=1, but {missing}")
    pytest.skip(missing)


def test_the_page_in_a_headless_browser(tmp_path, server) -> None:
    executable = browser()
    from playwright.sync_api import sync_playwright

    out = tmp_path / "run"
    opt = new_run(out)
    simulate(opt, 40)
    (out / _runlog.DASK).write_text(json.dumps({"dashboard": "http://127.0.0.1:8787/status",
                                                "scheduler": "tcp://127.0.0.1:8786", "since": time.time()}))
    srv = server(out)
    errors: list = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            tempfile.mkdtemp(dir=tmp_path), executable_path=executable, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.goto(srv.url)
            page.wait_for_function("document.body.dataset.trials === '40'", timeout=30000)
            inc = opt.runhistory.incumbent_entry()
            assert float(page.text_content("#incumbent-cost")) == pytest.approx(inc.cost, rel=1e-5)
            assert page.text_content("#incumbent-what") == f"configuration {inc.config_number}, on budget {inc.budget:g}"
            assert page.get_attribute("#dask-link", "href") == "http://127.0.0.1:8787/status"
            assert page.locator("#trial-table tr").count() == 41  # a header and the 40 trials
            assert "CRASHED" in page.text_content("#status-table")
            assert page.locator("#iterations tr").count() == 1 + get(srv, "/api/state")["iterations"]["n"]
            page.click("#trial-table th[data-key=cost]")  # sorts by cost, lowest first
            costs = [float(c) for c in page.locator("#trial-table tr td:nth-child(5)").all_text_contents() if c != "–"]
            assert costs == sorted(costs) and costs[0] == pytest.approx(min(v.cost for _, v in opt.runhistory.items()), rel=1e-5)
            shot = tmp_path / "dashboard.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.read_bytes().startswith(PNG_MAGIC) and shot.stat().st_size > 20_000
            if os.environ.get("SMACISH_UPDATE_DOCS_IMAGES") == "1":
                shutil.copyfile(shot, DOCS_IMAGE)

            # more trials while the page is open: it shows them without a reload
            old_cost = inc.cost
            run_simulated(opt, lambda config, budget: 0.5 * target(config, budget), duration=lambda i, v: i.budget,
                          n_workers=4, n_trials=60)
            new = opt.runhistory.incumbent_entry()
            assert new.cost != old_cost
            page.wait_for_function("document.body.dataset.trials === '60'", timeout=30000)
            page.wait_for_function(f"Math.abs(+document.getElementById('incumbent-cost').textContent - {new.cost}) "
                                   f"<= 1e-5 * {abs(new.cost)}", timeout=30000)
            assert page.text_content("#n-trials") == "60"
        finally:
            context.close()
    opt.close()
    assert errors == []
