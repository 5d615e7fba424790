"""The run directory: settings, an append-only event log, and snapshots for readers.

A run is rebuilt exactly by replaying its events (asks with the configurations proposed and
the selector's state after each proposal, tells with their values) through a fresh Optimizer:
the decision logic is deterministic, so replay reaches the very state the run had.

Files (all JSON; nothing is ever unpickled or executed):
- ``optimizer.json``: the space, intensifier, selector and seed, written once (atomically);
- ``events.jsonl``: one line per ask / tell / warm-start trial; a tell is fsync'd before
  ``tell`` returns, so a finished trial is never lost;
- ``runhistory.json`` and ``trajectory.jsonl``: snapshots for people and tools, rewritten
  atomically now and then; the log alone is authoritative.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

from ConfigSpace import Configuration, ConfigurationSpace

from smacish._io import atomic_write_text, config_from_json, dumps
from smacish.trial import StatusType, TrialInfo, TrialValue

SETTINGS = "optimizer.json"
EVENTS = "events.jsonl"
RUNHISTORY = "runhistory.json"
TRAJECTORY = "trajectory.jsonl"
_FORMAT = "smacish.run"
INTENSIFIER_CLASSES = ("SuccessiveHalving", "Hyperband")  # the only names a settings file may give


def holds_run(directory: Path) -> bool:
    """True if any file of a run is there (or a link in its place): a new run must not mix in."""
    return any((directory / name).exists() or (directory / name).is_symlink()
               for name in (SETTINGS, EVENTS, RUNHISTORY, TRAJECTORY))


def run_file(directory: Path, name: str) -> Path:
    """``directory / name``; refused if it is a link that leads out of ``directory`` (a crafted
    or carelessly copied run must not make smacish read, append to or cut files elsewhere)."""
    path = directory / name
    if path.is_symlink():
        real, root = os.path.realpath(path), os.path.realpath(directory)
        if os.path.commonpath([real, root]) != root:
            raise ValueError(f"{path} is a link to {real}, outside {directory}; a run directory must "
                             "hold its own files")
    return path


def config_vector_json(config: Configuration) -> Dict[str, Any]:
    """A configuration as its vector only: exact, and cheap to write and read (the log is for
    machines; runhistory.json carries the values for people)."""
    return {"vector": [None if v != v else float(v) for v in config.get_array()]}


def trial_to_json(info: TrialInfo) -> Dict[str, Any]:
    return {
        "config": config_vector_json(info.config),
        "config_id": list(info.config_id) if info.config_id is not None else None,
        "budget": info.budget, "instance": info.instance, "seed": info.seed, "cutoff": info.cutoff,
    }


def trial_from_json(space: ConfigurationSpace, data: Dict[str, Any]) -> TrialInfo:
    return TrialInfo(
        config_from_json(space, data["config"]), budget=data["budget"], instance=data["instance"],
        seed=data["seed"], config_id=tuple(data["config_id"]) if data["config_id"] else None,
        cutoff=data["cutoff"],
    )


def value_to_json(value: TrialValue) -> Dict[str, Any]:
    return {
        "cost": value.cost, "time": value.time, "status": value.status.value,
        "starttime": value.starttime, "endtime": value.endtime,
        "additional_info": value.additional_info,
    }


def value_from_json(data: Dict[str, Any]) -> TrialValue:
    return TrialValue(
        cost=data["cost"], time=data["time"], status=StatusType(data["status"]),
        starttime=data["starttime"], endtime=data["endtime"],
        additional_info=data.get("additional_info") or {},
    )


def trial_key_json(info: TrialInfo) -> list:
    return [list(info.config_id) if info.config_id else None, info.instance, info.seed, info.budget]


def key_from_json(data: list) -> tuple:
    config_id, instance, seed, budget = data
    return (tuple(config_id) if config_id else None, instance, seed, budget)


class RunLog:
    """Appends events to ``events.jsonl``; tells are fsync'd (``durable=False``: flushed to
    the OS only, which survives a killed process but not a power cut)."""

    def __init__(self, directory: Path, durable: bool = True):
        self.directory = directory
        self.durable = durable
        self._fh = open(run_file(directory, EVENTS), "a", encoding="utf-8")

    def _write(self, event: Dict[str, Any], sync: bool) -> None:
        self._fh.write(dumps(event) + "\n")
        self._fh.flush()
        if sync and self.durable:
            os.fsync(self._fh.fileno())

    def ask(self, info: TrialInfo, n_workers: int, t: float, proposals: List[Dict[str, Any]]) -> None:
        trial = trial_to_json(info)
        for proposal in proposals:  # most often the trial's own configuration: not written twice
            if proposal["config"] == trial["config"]:
                proposal["config"] = "trial"
        # Not fsync'd: a lost ask is re-derived by the deterministic replay; the next tell's
        # fsync makes it durable anyway.
        self._write({"e": "ask", "t": t, "n_workers": n_workers, "trial": trial,
                     "proposals": proposals}, sync=False)

    def reissue(self, info: TrialInfo, t: float) -> None:
        self._write({"e": "reissue", "t": t, "trial": trial_key_json(info)}, sync=False)

    @staticmethod
    def check(value: TrialValue) -> None:
        """Raise (TypeError) if ``value`` cannot be logged, before a tell changes anything."""
        dumps(value_to_json(value))

    def tell(self, info: TrialInfo, value: TrialValue, t: float) -> None:
        self._write({"e": "tell", "t": t, "trial": trial_key_json(info), "value": value_to_json(value)}, sync=True)

    def warm(self, info: TrialInfo, value: TrialValue) -> None:
        self._write({"e": "warm", "trial": trial_to_json(info), "value": value_to_json(value)}, sync=True)

    def close(self) -> None:
        self._fh.close()


def write_settings(directory: Path, settings: Dict[str, Any]) -> None:
    atomic_write_text(directory / SETTINGS, dumps({"format": _FORMAT, "version": 1, **settings}))


def read_settings(directory: Path) -> Dict[str, Any]:
    path = run_file(directory, SETTINGS)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} does not exist or is not a directory; nothing to resume")
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: {directory} holds no smacish run to resume")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is corrupt (not valid JSON: {err}); the run cannot be resumed") from None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ValueError(f"{path} is not a smacish run's settings file")
    problems = _settings_problems(data)
    if problems:
        raise ValueError(f"{path} is damaged ({'; '.join(problems)}); the run cannot be resumed")
    return data


def _settings_problems(data: Dict[str, Any]) -> List[str]:
    def is_int(x: Any) -> bool:
        return isinstance(x, int) and not isinstance(x, bool)

    problems = []
    if not isinstance(data.get("configspace"), dict):
        problems.append("no configuration space")
    spec = data.get("intensifier")
    if not isinstance(spec, dict) or not isinstance(spec.get("settings"), dict):
        problems.append("no intensifier settings")
    elif spec.get("class") not in INTENSIFIER_CLASSES:
        problems.append(f"intensifier class is {spec.get('class')!r}, but must be one of {INTENSIFIER_CLASSES}")
    if data.get("selector") is not None and not isinstance(data.get("selector"), str):
        problems.append(f"selector is {data.get('selector')!r}, but must be a name or null")
    if not is_int(data.get("seed")):
        problems.append(f"seed is {data.get('seed')!r}, but must be an int")
    if not is_int(data.get("n_workers")) or data["n_workers"] < 1:
        problems.append(f"n_workers is {data.get('n_workers')!r}, but must be an int >= 1")
    if not isinstance(data.get("crash_cost"), (int, float)) or isinstance(data.get("crash_cost"), bool):
        problems.append(f"crash_cost is {data.get('crash_cost')!r}, but must be a number")
    return problems


def read_events(directory: Path, repair: bool = True, line_numbers: bool = False) -> List[Any]:
    """The events of a run, in order. A truncated last line (a crash mid-write) is dropped
    with a warning and cut from the file (``repair=False``: left alone, for readers of a run
    that may still be writing); anything else corrupt is a ValueError. With ``line_numbers``,
    ``(line number, event)`` pairs."""
    path = run_file(directory, EVENTS)
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline, as every complete write does
    events = []
    for lineno, line in enumerate(lines, 1):
        if line.strip():
            event = _parse_event(line)
            if event is None:
                raise ValueError(f"{path}, line {lineno}: corrupt event; the log cannot be replayed")
            events.append((lineno, event))
    if tail.strip() and not repair:
        event = _parse_event(tail)
        if event is not None:
            events.append((len(lines) + 1, event))
    elif tail.strip():
        event = _parse_event(tail)
        with open(path, "r+b") as fh:
            if event is None:
                warnings.warn(
                    f"{path}, line {len(lines) + 1}: dropped a truncated last event (the run was "
                    "killed while writing it)", RuntimeWarning, stacklevel=3,
                )
                fh.truncate(sum(len(line) + 1 for line in lines))
            else:  # complete but for its newline
                fh.seek(0, os.SEEK_END)
                fh.write(b"\n")
                events.append((len(lines) + 1, event))
    return events if line_numbers else [event for _, event in events]


def _parse_event(line: bytes) -> Optional[Dict[str, Any]]:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and event.get("e") in ("ask", "tell", "warm", "reissue") else None


def space_difference(old: ConfigurationSpace, new: ConfigurationSpace) -> str:
    """A sentence on how two spaces differ (hyperparameters added, removed or changed)."""
    old_hps, new_hps = dict(old.items()), dict(new.items())
    parts = []
    added = sorted(set(new_hps) - set(old_hps))
    removed = sorted(set(old_hps) - set(new_hps))
    changed = sorted(k for k in set(old_hps) & set(new_hps) if old_hps[k] != new_hps[k])
    if added:
        parts.append(f"added {added}")
    if removed:
        parts.append(f"removed {removed}")
    if changed:
        parts.append(f"changed {changed}")
    if not parts:
        parts.append("conditions or forbidden clauses differ")
    return "; ".join(parts)
