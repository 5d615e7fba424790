"""``smacish dashboard DIR``: a live web page of a run directory, served by the standard library.

The page (``smacish/_static/dashboard.html``, one file that loads nothing from elsewhere) asks
``/api/state`` every second and ``/api/importance`` now and then. The server reads the run
directory only, through :class:`smacish.cli.RunView` (no lock, no write), and only the part of
the log that is new since the last request: it works on a run another process is writing, on
a killed run, a finished one, and a copy.
"""

from __future__ import annotations

import errno
import importlib
import itertools
import json
import math
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlparse

from smacish import _runlog
from smacish._failures import summary_line
from smacish._io import to_builtin
from smacish.cli import RunView
from smacish.trial import StatusType, TrialInfo, TrialValue, format_cost

DEFAULT_PORT = 8765
_MIN_REREAD = 0.5  # seconds: several open pages share one read of the log
IMPORTANCE_INTERVAL = 20.0  # seconds between importance computations while trials come in
_MAX_PENDING_SHOWN = 50
_MAX_ITERATIONS_SHOWN = 40


def _incumbent(front: List[Any], objectives: Optional[List[str]]) -> Optional[Dict[str, Any]]:
    """The page's incumbent box: the incumbent, or with several objectives the Pareto front
    (each member's costs in the table)."""
    if not front:
        return None
    if objectives:
        return {"id": ", ".join(str(inc.config_number) for inc in front),
                "cost": f"{len(front)} on the Pareto front of {', '.join(objectives)}", "budget": front[0].budget,
                "config": {f"configuration {inc.config_number}": format_cost(inc.cost) for inc in front}}
    inc = front[0]
    return {"id": inc.config_number, "cost": _num(inc.cost), "budget": inc.budget, "config": to_builtin(dict(inc.config))}


def _num(x: Optional[float]) -> Optional[float]:
    """A number JSON can carry: inf and nan become null (the status says why)."""
    return None if x is None or not math.isfinite(x) else float(x)


def _cid(config_id: Optional[tuple]) -> Optional[str]:
    return ".".join(map(str, config_id)) if config_id is not None else None


class Dashboard:
    """What the page shows, kept up to date from a run directory; thread-safe.

    >>> import tempfile, smacish
    >>> from ConfigSpace import ConfigurationSpace
    >>> out = tempfile.mkdtemp() + "/run"
    >>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}), smacish.SuccessiveHalving(1, 9),
    ...                         seed=0, output_dir=out)
    >>> incumbent = opt.optimize(lambda config, budget: config["x"], n_trials=5)
    >>> state = Dashboard(out).state()
    >>> state["n_trials"], len(state["trials"]), state["incumbent"]["cost"] == incumbent["x"]
    (5, 5, True)
    >>> opt.close()
    """

    def __init__(self, directory: str):
        self.view = RunView.read(directory)  # a directory that holds no run raises here
        self.directory = self.view.directory
        self._lock = threading.Lock()
        self._read_at = time.monotonic()
        self.error: Optional[str] = None  # why the last read failed (the page shows it)
        self.generation = 0  # changes when the log was replaced and the rows start over
        self._rows: List[Dict[str, Any]] = []
        # iteration -> config_id -> budgets of its finished trials
        self._told: Dict[int, Dict[tuple, List[Optional[float]]]] = {}
        self._status = Counter()
        self._importance: Dict[str, Any] = {}
        self._importance_at = (-1, -math.inf)  # (trials, time) of the last computation
        self._importance_lock = threading.Lock()
        self._take_new_rows()

    # ------------------------------------------------------------------ reading the run
    def refresh(self, force: bool = False) -> None:
        """Read what the run wrote since the last read (at most every half second)."""
        with self._lock:
            now = time.monotonic()
            if not force and now - self._read_at < _MIN_REREAD:
                return
            self._read_at = now
            before = self.view.runhistory
            try:
                self.view.update()
                self.error = None
            except (OSError, ValueError) as err:  # e.g. a damaged trajectory file: keep what was read
                self.error = f"{type(err).__name__}: {err}"
            if self.view.runhistory is not before:  # the log was replaced: start over
                self.generation += 1
                self._rows, self._told, self._status = [], {}, Counter()
            self._take_new_rows()

    def _take_new_rows(self) -> None:
        rh = self.view.runhistory
        for info, value in itertools.islice(rh.items(), len(self._rows), None):
            self._rows.append(self._row(len(self._rows) + 1, info, value))
            self._status[value.status.value] += 1
            if info.config_id is not None:
                self._told.setdefault(info.config_id[0], {}).setdefault(info.config_id, []).append(info.budget)

    def _row(self, n: int, info: TrialInfo, value: TrialValue) -> Dict[str, Any]:
        rh = self.view.runhistory
        return {
            "n": n, "id": rh.find_config_number(info.config), "config_id": _cid(info.config_id),
            "budget": info.budget, "instance": info.instance, "seed": info.seed,
            "cost": format_cost(value.cost) if isinstance(value.cost, tuple) else _num(value.cost),
            "status": value.status.value,
            "start": _num(value.starttime), "end": _num(value.endtime), "walltime": _num(rh.walltime(info)),
            "worker": str(value.additional_info.get("worker", "in-process")).replace("tcp://", ""),
            "error": None if value.status is StatusType.SUCCESS else summary_line(value),
            "config": to_builtin(dict(info.config)),
        }

    # ------------------------------------------------------------------ what the page gets
    def state(self, since: int = 0, generation: Optional[int] = None) -> Dict[str, Any]:
        """The page's data: the run's summary and the finished trials from number ``since``
        on (all of them when ``generation`` is not the current one)."""
        self.refresh()
        with self._lock:
            if generation != self.generation:
                since = 0
            return self._state(max(0, since))

    def _state(self, since: int) -> Dict[str, Any]:
        view = self.view
        rh, spec = view.runhistory, view.settings["intensifier"]
        intensifier = view.intensifier
        front = rh.incumbents(intensifier.incumbent_selection, intensifier.max_budget)
        events = self.directory / _runlog.EVENTS
        age = time.time() - events.stat().st_mtime if events.exists() else None
        status = dict(self._status)
        aborted = len(rh.aborted())
        if aborted:
            status[f"{StatusType.ABORTED.value} (to run again)"] = aborted
        return {
            "generation": self.generation,
            "directory": str(self.directory),
            "error": self.error,
            "run": {
                "intensifier": spec["class"], "min_budget": intensifier.min_budget,
                "max_budget": intensifier.max_budget, "eta": intensifier.eta,
                "selector": view.settings["selector"] or view.settings["selector_class"],
                "seed": view.settings["seed"], "incumbent_selection": intensifier.incumbent_selection,
                "budgets": None if intensifier.instance_mode else intensifier.budgets,
            },
            "hyperparameters": list(rh.configspace.keys()),
            "n_trials": len(rh), "n_pending": len(view.pending), "budget_spent": rh.budget_spent,
            "run_time": view.last_event, "last_event_age": age, "damaged": view.damaged[:20],
            "n_damaged": len(view.damaged),
            "status": status,
            "incumbent": _incumbent(front, rh.objectives),
            # several objectives: the trajectory logs arrivals on the front, not one cost to draw
            "trajectory": [] if rh.objectives else [
                {"walltime": e.walltime, "n_trials": e.n_trials, "budget": e.budget, "cost": _num(e.cost),
                 "id": e.config_number} for e in view.trajectory],
            "iterations": self._iterations(),
            "pending": [{"config_id": _cid(i.config_id), "budget": i.budget, "instance": i.instance,
                         "seed": i.seed} for i in view.pending[:_MAX_PENDING_SHOWN]],
            "dask": _dask_info(self.directory),
            "since": since,
            "trials": self._rows[since:],
        }

    def _iterations(self) -> Dict[str, Any]:
        """The successive-halving iterations (bracket runs): for each stage, how many
        configurations the schedule plans, how many reached it and how many finished it."""
        intensifier = self.view.intensifier
        schedules = intensifier.schedules
        pending: Dict[int, Dict[tuple, List[Optional[float]]]] = {}
        for info in self.view.pending:
            if info.config_id is not None:
                pending.setdefault(info.config_id[0], {}).setdefault(info.config_id, []).append(info.budget)
        iterations = sorted(set(self._told) | set(pending))
        shown = []
        for iteration in iterations[-_MAX_ITERATIONS_SHOWN:]:  # the latest only: a long run has hundreds
            told, running = self._told.get(iteration, {}), pending.get(iteration, {})
            bracket = _bracket_of(iteration, schedules, told, running)
            schedule = schedules[bracket]
            reached, done = [0] * len(schedule), [0] * len(schedule)
            for config_id in set(told) | set(running):
                runs = [(b, True) for b in told.get(config_id, ())] + [(b, False) for b in running.get(config_id, ())]
                for stage, finished in _stages_of(runs, schedule, intensifier.instance_mode):
                    reached[stage] += 1
                    done[stage] += finished
            top = max((s for s, n in enumerate(reached) if n), default=0)
            shown.append({
                "iteration": iteration, "bracket": bracket, "stage": top,
                "finished": top == len(schedule) - 1 and done[top] >= min(schedule[top][0], reached[top]),
                "stages": [{"budget": b, "planned": n, "reached": reached[s], "done": done[s]}
                           for s, (n, b) in enumerate(schedule)],
            })
        return {"n": len(iterations), "n_brackets": len(schedules), "shown": shown}

    # ------------------------------------------------------------------ importance
    def importance(self) -> Dict[str, Any]:
        """Hyperparameter importance from ``smacish.analysis`` (computed again when trials
        came in, at most every ``IMPORTANCE_INTERVAL`` seconds), or why there is none."""
        self.refresh()
        with self._importance_lock:
            n, now = len(self._rows), time.monotonic()
            last_n, last_t = self._importance_at
            if n != last_n and (now - last_t >= IMPORTANCE_INTERVAL or not self._importance):
                self._importance = _importance_of(self.directory)
                self._importance["n_trials"] = n
                self._importance_at = (n, now)
            return self._importance


def _bracket_of(iteration: int, schedules: list, told: Dict[tuple, list], running: Dict[tuple, list]) -> int:
    """The bracket an iteration runs: the one that starts on the smallest budget its first
    stage's configurations ran (a bracket may wait for results, see ``informed_starts``, so
    the iteration number alone does not say), else the bracket cycle's.

    >>> _bracket_of(1, [[(9, 1.0), (3, 3.0)], [(3, 3.0)]], {(1, 0, 0): [1.0, 3.0]}, {})
    0
    """
    cycle = iteration % len(schedules)
    first = [b for runs in (told, running) for cid, budgets in runs.items() if cid[1] == 0
             for b in budgets if b is not None]
    if not first:
        return cycle
    matches = [i for i, schedule in enumerate(schedules) if schedule[0][1] == min(first)]
    return cycle if not matches or cycle in matches else matches[0]


def _stages_of(runs: List[Tuple[Optional[float], bool]], schedule: list, instance_mode: bool) -> List[Tuple[int, bool]]:
    """``(stage, finished there)`` for each stage one configuration reached, from its trials
    ``(budget, told)``."""
    if instance_mode:  # a stage's budget is a number of instance-seed pairs, run one trial each
        told, total = sum(t for _, t in runs), len(runs)
        return [(s, told >= pairs) for s, (_, pairs) in enumerate(schedule)
                if s == 0 or total > schedule[s - 1][1]]
    index = {budget: s for s, (_, budget) in enumerate(schedule)}
    stages: Dict[int, bool] = {}
    for budget, told in runs:
        s = index.get(budget)
        if s is not None:
            stages[s] = stages.get(s, True) and told
    return sorted(stages.items())


def _importance_of(directory: Path) -> Dict[str, Any]:
    try:  # imported here: the dashboard works without it (and tests stand one in via sys.modules)
        analysis = importlib.import_module("smacish.analysis")
    except ImportError as err:
        return {"ok": False, "reason": f"importance needs smacish.analysis, which this smacish lacks ({err})"}
    try:
        frame = analysis.importance(str(directory))
        rows = [{"hyperparameter": str(h), "importance": _num(float(i)), "std": _num(float(s))}
                for h, i, s in zip(frame["hyperparameter"], frame["importance"], frame["std"])]
    except Exception as err:  # noqa: BLE001 - whatever the analysis says is shown, not raised
        return {"ok": False, "reason": f"{type(err).__name__}: {err}" if not isinstance(err, ValueError) else str(err)}
    attrs = getattr(frame, "attrs", {})
    return {"ok": True, "method": str(attrs.get("method", "")), "budget": _num(attrs.get("budget")), "rows": rows}


def _dask_info(directory: Path) -> Optional[Dict[str, Any]]:
    """What the Dask runner recorded about its cluster (``dask.json``), if anything."""
    try:
        data = json.loads(_runlog.run_file(directory, _runlog.DASK).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    link = data.get("dashboard")
    if not (isinstance(link, str) and link.startswith(("http://", "https://"))):
        data["dashboard"] = None  # the page links to web addresses only (never javascript: from a crafted file)
    return data


# ---------------------------------------------------------------------- the server
def page() -> bytes:
    """The dashboard's HTML page (package data)."""
    return resources.files("smacish").joinpath("_static/dashboard.html").read_bytes()


class _Handler(BaseHTTPRequestHandler):
    server: "DashboardServer"

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        query = parse_qs(url.query)
        dashboard = self.server.dashboard
        if url.path in ("/", "/index.html"):
            self._send(200, "text/html; charset=utf-8", self.server.page)
        elif url.path == "/api/state":
            try:
                since = int(query.get("since", ["0"])[0])
                generation = int(query["generation"][0]) if "generation" in query else None
            except ValueError:
                self._send(400, "text/plain; charset=utf-8", b"since and generation must be integers")
                return
            self._json(dashboard.state(since, generation))
        elif url.path == "/api/importance":
            self._json(dashboard.importance())
        elif url.path == "/favicon.ico":
            self._send(204, "image/x-icon", b"")
        else:
            self._send(404, "text/plain; charset=utf-8", b"not found")

    def _json(self, data: Any) -> None:
        self._send(200, "application/json", json.dumps(data, allow_nan=False).encode("utf-8"))

    def _send(self, code: int, kind: str, body: bytes) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet: one line per poll is noise
        pass


class DashboardServer(ThreadingHTTPServer):
    """An HTTP server for one run's :class:`Dashboard`; ``port=0`` takes a free port."""

    daemon_threads = True

    def __init__(self, directory: str, port: int = DEFAULT_PORT, host: str = "127.0.0.1"):
        self.dashboard = Dashboard(directory)
        self.page = page()
        try:
            super().__init__((host, port), _Handler)
        except OSError as err:
            if err.errno == errno.EADDRINUSE:
                raise OSError(err.errno, f"port {port} on {host} is in use; choose another with --port "
                                         "(--port 0 takes a free one)") from None
            raise OSError(err.errno, f"cannot listen on {host}:{port} ({err.strerror or err})") from None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/"


def serve(directory: str, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> None:
    """Serve the dashboard of the run in ``directory`` until Ctrl-C."""
    with DashboardServer(directory, port, host) as server:
        print(f"smacish dashboard of {server.dashboard.directory}: {server.url} (Ctrl-C stops it)", flush=True)
        if host not in ("127.0.0.1", "localhost", "::1"):
            print(f"warning: listening on {host}: anyone who can reach it can read the run", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
