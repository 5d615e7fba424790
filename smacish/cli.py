"""The command line: ``smacish status|plot|export|dashboard DIR`` on a run directory (also while it runs).

Reads the directory only (``plot`` and ``export`` write where you tell them).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from smacish import _runlog, _snapshot
from smacish._failures import summary_line
from smacish._io import space_from_json
from smacish._stats import RunStats, finished_by_status
from smacish.intensifiers.parallel_scheduler import ParallelScheduler
from smacish.runhistory import RunHistory
from smacish.trajectory import Trajectory
from smacish.trial import StatusType, TrialInfo, charged_budget, format_cost, key_from_json


@dataclass
class RunView:
    """A read-only view of a run directory: what ``status``, ``plot``, ``export`` and
    ``dashboard`` show. :meth:`update` reads only what the log gained since the last read."""

    directory: Path
    settings: dict
    intensifier: ParallelScheduler
    runhistory: RunHistory
    trajectory: Trajectory
    pending: List[TrialInfo]
    last_event: float  # run time (s) of the last logged event
    damaged: List[int]  # numbers of the log's lines that could not be read (skipped)
    _read: "_LogPosition" = field(default=None, repr=False)  # type: ignore[assignment]
    n_submitted: int = 0  # distinct trials asked
    warm_budget: float = 0.0

    @property
    def stats(self) -> RunStats:
        """The run's counters as the log has them (``optimizer_time`` as of the last state
        snapshot, written at every save; NaN without one)."""
        try:
            optimizer_time = float(json.loads((self.directory / _runlog.STATE).read_bytes())["optimizer_time"])
        except (OSError, ValueError, KeyError, TypeError):
            optimizer_time = float("nan")
        return RunStats(n_submitted=self.n_submitted, n_finished=finished_by_status(self.runhistory),
                        n_running=len(self.pending) - len(self.runhistory.aborted()),
                        budget_spent=self.runhistory.budget_spent - self.warm_budget, walltime=self.last_event,
                        optimizer_time=optimizer_time, incumbent_changes=len(self.trajectory))

    @classmethod
    def read(cls, directory: str) -> "RunView":
        """The run in ``directory`` as it is now (errors say why it is not a run)."""
        out = Path(directory)
        settings = _runlog.read_settings(out)
        view = cls._empty(out, settings)
        view.update()
        return view

    @classmethod
    def _empty(cls, out: Path, settings: dict) -> "RunView":
        from smacish import intensifiers

        spec = settings["intensifier"]
        intensifier = getattr(intensifiers, spec["class"])(**spec["settings"])
        return cls(out, settings, intensifier, _new_runhistory(settings), Trajectory(), [], 0.0, [], _LogPosition())

    def update(self) -> bool:
        """Take in the events appended to the log since the last read (all of it, from a
        fresh RunHistory, if the log was replaced or cut back, as a resume that repairs it
        does) and reload the trajectory if its file changed; True if anything changed.

        Only whole lines are read; a last line without its newline is read if it is complete
        JSON (a run killed just before the newline) and left for later otherwise."""
        path = _runlog.run_file(self.directory, _runlog.EVENTS)
        pos = self._read
        changed = self._reload_trajectory()
        try:
            st = path.stat()
        except FileNotFoundError:
            st = None
        identity = (st.st_dev, st.st_ino) if st is not None else None
        if identity != pos.identity or (st is not None and st.st_size < pos.offset):
            if pos.offset or pos.identity is not None:
                self._restart()
                pos = self._read
                changed = True
            pos.identity = identity
        if st is None:
            return changed
        with open(path, "rb") as fh:
            fh.seek(pos.offset)
            data = fh.read()
        zero = data.find(b"\0")
        if zero >= 0 and data.count(b"\0", zero) == len(data) - zero:
            data = data[:zero]  # zeros only: space grown ahead of the events (see RunLog)
        if pos.after_tail and data.startswith(b"\n"):  # the newline a repair adds to a read last line
            data, pos.offset = data[1:], pos.offset + 1
        pos.after_tail = False
        lines = data.split(b"\n")
        tail = lines.pop()
        consumed = sum(len(line) + 1 for line in lines)
        last = _runlog.parse_event(tail) if tail.strip() else None
        if last is not None:
            lines.append(tail)
            consumed += len(tail)
            pos.after_tail = True
        for line in lines:
            pos.lines += 1
            if not line.strip():
                continue
            event = _runlog.parse_event(line)
            if event is None:
                self.damaged.append(pos.lines)
            else:
                self._apply(event)
        pos.offset += consumed
        if lines:
            self.pending = list(pos.asked.values())
        return changed or bool(lines)

    def _apply(self, event: dict) -> None:
        self.last_event = event.get("t", self.last_event)
        space, asked = self.runhistory.configspace, self._read.asked
        if event["e"] == "ask":
            info = _runlog.trial_from_json(space, event["trial"])
            asked[info.key] = info
            self._read.submitted.add(info.key)
            self.n_submitted = len(self._read.submitted)
            self.runhistory.add_running(info)  # as the Optimizer does: configuration ids in the order asked
        elif event["e"] == "tell":
            key = key_from_json(event["trial"])
            info = asked.get(key)
            if info is not None:
                value = _runlog.value_from_json(event["value"])
                self.runhistory.add(info, value, walltime=event.get("t"))
                if value.status is not StatusType.ABORTED:  # an aborted trial runs again
                    del asked[key]
        elif event["e"] == "warm":
            warm, value = _runlog.trial_from_json(space, event["trial"]), _runlog.value_from_json(event["value"])
            self.runhistory.add(warm, value)
            self.warm_budget += charged_budget(warm, value)

    def _restart(self) -> None:
        """Forget what the log said: it is read again from its start (the trajectory has a file of its own)."""
        self.runhistory, self.pending, self.last_event, self.damaged = _new_runhistory(self.settings), [], 0.0, []
        self.n_submitted, self.warm_budget = 0, 0.0
        self._read = _LogPosition(trajectory_stat=self._read.trajectory_stat)

    def _reload_trajectory(self) -> bool:
        path = self.directory / _runlog.TRAJECTORY
        stat = _snapshot.file_stat(path)
        if stat == self._read.trajectory_stat:
            return False
        self.trajectory = Trajectory.load(path) if stat is not None else Trajectory()
        self._read.trajectory_stat = stat
        return True


def _new_runhistory(settings: dict) -> RunHistory:
    # a copy: ConfigSpace's decoder takes the dict apart, and a log replaced later needs it again
    return RunHistory(space_from_json(copy.deepcopy(settings["configspace"])), crash_cost=settings["crash_cost"],
                      direction=settings.get("direction", "minimize"), objectives=settings.get("objectives"))


@dataclass
class _LogPosition:
    """How far a :class:`RunView` has read its run's log."""

    offset: int = 0  # bytes of events.jsonl read
    lines: int = 0  # lines read (for the numbers of damaged ones)
    identity: Optional[tuple] = None  # (device, inode) of the file read
    after_tail: bool = False  # the last line read had no newline
    asked: Dict[tuple, TrialInfo] = field(default_factory=dict)  # asked, not yet told
    submitted: set = field(default_factory=set)  # keys of every trial asked
    trajectory_stat: Optional[list] = None


def _status(view: RunView) -> str:
    rh, spec = view.runhistory, view.settings["intensifier"]
    age = time.time() - (view.directory / _runlog.EVENTS).stat().st_mtime if (view.directory / _runlog.EVENTS).exists() else float("nan")
    lines = [
        f"run:         {view.directory}",
        f"intensifier: {spec['class']}(min_budget={spec['settings']['min_budget']}, "
        f"max_budget={spec['settings']['max_budget']}, eta={spec['settings']['eta']}), "
        f"selector {view.settings['selector'] or view.settings['selector_class']}, seed {view.settings['seed']}",
        f"trials:      {len(rh)} finished, {len(view.pending)} pending; budget spent {rh.budget_spent:g}",
        f"by status:   {_counts(view)}",
        f"run time:    {view.last_event:.1f} s; last event {age:.0f} s ago",
        f"stats:       {view.stats}",
    ]
    if view.damaged:
        shown = ", ".join(map(str, view.damaged[:5])) + (" ..." if len(view.damaged) > 5 else "")
        lines.append(f"damaged:     {len(view.damaged)} line(s) of {_runlog.EVENTS} cannot be read (line {shown}); "
                     "shown is what the other lines hold")
    lines += _first_errors(rh)
    front = rh.incumbents(view.intensifier.incumbent_selection, view.intensifier.max_budget)
    inc = front[0] if front else None
    if inc is None:
        lines.append("incumbent:   none yet")
    elif rh.objectives:
        lines.append(f"front:       {len(front)} configuration(s) on the Pareto front of {', '.join(rh.objectives)}, "
                     f"on budget {inc.budget:g}")
        for member in front[:20]:
            lines.append(f"               config {member.config_number}: {format_cost(member.cost)}")
    else:
        lines.append(f"incumbent:   config {inc.config_number}, cost {inc.cost:.6g} on budget {inc.budget:g}")
        for name, value in dict(inc.config).items():
            lines.append(f"               {name} = {value}")
    for info in view.pending[:20]:
        lines.append(f"pending:     config_id={info.config_id} budget={info.budget} instance={info.instance}")
    if len(view.pending) > 20:
        lines.append(f"             ... and {len(view.pending) - 20} more")
    return "\n".join(lines)


def _counts(view: RunView) -> str:
    counts = Counter(value.status.value for _, value in view.runhistory.items())
    aborted = len(view.runhistory.aborted())
    if aborted:
        counts[f"{StatusType.ABORTED.value} (to run again)"] = aborted
    return ", ".join(f"{n} {status}" for status, n in counts.most_common()) or "none finished yet"


def _first_errors(rh: RunHistory) -> List[str]:
    """The first trial of each distinct error, with the end of its traceback."""
    seen: Dict[str, tuple] = {}
    count: Counter = Counter()
    for info, value in rh.items():
        if value.status in (StatusType.SUCCESS, StatusType.TIMEOUT):
            continue
        summary = f"{value.status.value}: {summary_line(value)}"
        count[summary] += 1
        tail = str(value.additional_info.get("traceback", "")).rstrip().splitlines()[-6:-1]
        seen.setdefault(summary, (info, tail))
    lines = []
    for summary, (info, tail) in seen.items():
        lines.append(f"error:       {summary} ({count[summary]} trial(s); first config_id={info.config_id} "
                     f"budget={info.budget})")
        lines += [f"               {line}" for line in tail]
    return lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="smacish", description="Inspect a smacish run directory.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("status", help="progress, incumbent and pending trials of a run")
    p.add_argument("directory")
    p = sub.add_parser("plot", help="write the run's figures as PNG")
    p.add_argument("directory")
    p.add_argument("--out", help="where to write the PNGs (default: DIRECTORY/plots)")
    p = sub.add_parser("export", help="write the RunHistory as CSV or Parquet")
    p.add_argument("directory")
    p.add_argument("--format", choices=["csv", "parquet"], default="csv")
    p.add_argument("--out", help="output file (default: DIRECTORY/runhistory.csv or .parquet)")
    p = sub.add_parser("dashboard", help="serve a live web page of the run (read-only)")
    p.add_argument("directory")
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0: a free one)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    args = parser.parse_args(argv)
    if args.command == "dashboard":
        from smacish.dashboard import serve

        try:
            serve(args.directory, args.port, args.host)
        except (OSError, ValueError) as err:
            print(f"smacish dashboard: {err.strerror if isinstance(err, OSError) and err.strerror else err}",
                  file=sys.stderr)
            return 2
        return 0
    try:
        view = RunView.read(args.directory)
    except (FileNotFoundError, ValueError) as err:
        print(f"smacish {args.command}: {err}", file=sys.stderr)
        return 2
    if args.command == "status":
        try:
            print(_status(view), flush=True)
        except BrokenPipeError:  # `smacish status DIR | head`: the reader has what it wanted
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
    elif args.command == "plot":
        from smacish.plotting import save_all

        out = Path(args.out) if args.out else view.directory / "plots"
        for name in save_all(view, out):
            print(out / name)
    else:
        out = Path(args.out) if args.out else view.directory / f"runhistory.{args.format}"
        frame = view.runhistory.to_dataframe()
        if args.format == "csv":
            frame.to_csv(out, index=False)
        else:
            try:
                frame.to_parquet(out, index=False)
            except ImportError as err:
                print(f"smacish export: Parquet needs pyarrow ({err}); use --format csv", file=sys.stderr)
                return 2
        print(out)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
