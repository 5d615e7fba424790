"""The command line: ``smacish status|plot|export DIR`` on a run directory (also while it runs).

Reads the directory only (``plot`` and ``export`` write where you tell them).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

from smacish import _runlog
from smacish._failures import summary_line
from smacish._io import space_from_json
from smacish._stats import RunStats, finished_by_status
from smacish.intensifiers.parallel_scheduler import ParallelScheduler
from smacish.runhistory import RunHistory
from smacish.trajectory import Trajectory
from smacish.trial import StatusType, TrialInfo, key_from_json


@dataclass
class RunView:
    """A read-only view of a run directory: what ``status``, ``plot`` and ``export`` show."""

    directory: Path
    settings: dict
    intensifier: ParallelScheduler
    runhistory: RunHistory
    trajectory: Trajectory
    pending: List[TrialInfo]
    last_event: float  # run time (s) of the last logged event
    damaged: List[int]  # numbers of the log's lines that could not be read (skipped)
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
        out = Path(directory)
        settings = _runlog.read_settings(out)
        space = space_from_json(settings["configspace"])
        from smacish import intensifiers

        spec = settings["intensifier"]
        intensifier = getattr(intensifiers, spec["class"])(**spec["settings"])
        rh = RunHistory(space, crash_cost=settings["crash_cost"])
        asked = {}
        submitted = set()
        warm_budget = 0.0
        last = 0.0
        damaged: List[int] = []
        for event in _runlog.read_events(out, repair=False, damaged=damaged):
            last = event.get("t", last)
            if event["e"] == "ask":
                info = _runlog.trial_from_json(space, event["trial"])
                asked[info.key] = info
                submitted.add(info.key)
            elif event["e"] == "tell":
                key = key_from_json(event["trial"])
                info = asked.get(key)
                if info is not None:
                    value = _runlog.value_from_json(event["value"])
                    rh.add(info, value, walltime=event.get("t"))
                    if value.status is not StatusType.ABORTED:  # an aborted trial runs again
                        del asked[key]
            elif event["e"] == "warm":
                warm = _runlog.trial_from_json(space, event["trial"])
                rh.add(warm, _runlog.value_from_json(event["value"]))
                warm_budget += 1.0 if warm.budget is None else warm.budget
        path = out / _runlog.TRAJECTORY
        trajectory = Trajectory.load(path) if path.exists() else Trajectory()
        return cls(out, settings, intensifier, rh, trajectory, list(asked.values()), last, damaged, len(submitted),
                   warm_budget)


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
    inc = rh.incumbent_entry(view.intensifier.incumbent_selection, view.intensifier.max_budget)
    if inc is None:
        lines.append("incumbent:   none yet")
    else:
        lines.append(f"incumbent:   config {inc.config_id}, cost {inc.cost:.6g} on budget {inc.budget:g}")
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
    args = parser.parse_args(argv)
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
