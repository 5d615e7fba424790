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

from smacish._io import atomic_write_text, config_from_json, config_to_json, dumps
from smacish.trial import StatusType, TrialInfo, TrialValue

SETTINGS = "optimizer.json"
EVENTS = "events.jsonl"
RUNHISTORY = "runhistory.json"
TRAJECTORY = "trajectory.jsonl"
_FORMAT = "smacish.run"


def holds_run(directory: Path) -> bool:
    return (directory / SETTINGS).exists() or (directory / EVENTS).exists()


def trial_to_json(info: TrialInfo) -> Dict[str, Any]:
    return {
        "config": config_to_json(info.config),
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
        self._fh = open(directory / EVENTS, "a", encoding="utf-8")

    def _write(self, event: Dict[str, Any], sync: bool) -> None:
        self._fh.write(dumps(event) + "\n")
        self._fh.flush()
        if sync and self.durable:
            os.fsync(self._fh.fileno())

    def ask(self, info: TrialInfo, n_workers: int, t: float, proposals: List[Dict[str, Any]]) -> None:
        # Not fsync'd: a lost ask is re-derived by the deterministic replay; the next tell's
        # fsync makes it durable anyway.
        self._write({"e": "ask", "t": t, "n_workers": n_workers, "trial": trial_to_json(info),
                     "proposals": proposals}, sync=False)

    def reissue(self, info: TrialInfo, t: float) -> None:
        self._write({"e": "reissue", "t": t, "trial": trial_key_json(info)}, sync=False)

    def tell(self, info: TrialInfo, value: TrialValue, t: float) -> None:
        self._write({"e": "tell", "t": t, "trial": trial_key_json(info), "value": value_to_json(value)}, sync=True)

    def warm(self, info: TrialInfo, value: TrialValue) -> None:
        self._write({"e": "warm", "trial": trial_to_json(info), "value": value_to_json(value)}, sync=True)

    def close(self) -> None:
        self._fh.close()


def write_settings(directory: Path, settings: Dict[str, Any]) -> None:
    atomic_write_text(directory / SETTINGS, dumps({"format": _FORMAT, "version": 1, **settings}))


def read_settings(directory: Path) -> Dict[str, Any]:
    path = directory / SETTINGS
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
    return data


def read_events(directory: Path, repair: bool = True) -> List[Dict[str, Any]]:
    """The events of a run, in order. A truncated last line (a crash mid-write) is dropped
    with a warning and cut from the file (``repair=False``: left alone, for readers of a run
    that may still be writing); anything else corrupt is a ValueError."""
    path = directory / EVENTS
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
            events.append(event)
    if tail.strip() and not repair:
        event = _parse_event(tail)
        if event is not None:
            events.append(event)
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
                events.append(event)
    return events


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
