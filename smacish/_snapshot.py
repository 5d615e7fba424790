"""The optimiser's state at one point of its event log (``state.json``), so that a resume
replays only the events written after it.

The snapshot holds the RunHistory, the trajectory, every intensifier instance (stage, members,
queue, trials in flight), the scheduler's and the selector's random state, the pending trials,
and the position in ``events.jsonl`` it stands for. Configurations are stored once, as
vectors, and referred to by index (the RunHistory's id - 1 for those in it). It is written
atomically now and then (see :func:`due`) and at every ``save``. The log stays authoritative:
a snapshot that is damaged or does not fit the log is ignored with a warning and the whole
log is replayed instead.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple

import numpy as np
from ConfigSpace import Configuration

from smacish import _runlog
from smacish._io import atomic_write_text, config_key, dumps, vector_json
from smacish.intensifiers._sh_run import trial_from_state, trial_state
from smacish.trajectory import TrajectoryEntry
from smacish.trial import StatusType, TrialInfo, TrialValue

if TYPE_CHECKING:  # pragma: no cover
    from smacish.optimizer import Optimizer

_FORMAT = "smacish.state"
MIN_EVENTS = 10_000  # no snapshot before this many new events (about 5,000 trials) ...
GROWTH = 8  # ... nor before the log grew by an eighth since the last one: O(1) per trial overall


def due(events_now: int, events_then: int) -> bool:
    """True when a snapshot is worth writing: the log holds ``events_now`` events, the last
    snapshot covered ``events_then``."""
    return events_now - events_then >= max(MIN_EVENTS, events_then // GROWTH)


def _vectors(configs: List[Configuration]) -> List[list]:
    return vector_json(np.array([c.get_array() for c in configs])) if configs else []


def _value_row(value: TrialValue) -> list:
    return [value.cost, value.time, value.status.value, value.starttime, value.endtime, value.additional_info]


def _value_from_row(row: list) -> TrialValue:
    cost, time, status, start, end, info = row
    return TrialValue(cost, time, StatusType(status), start, end, info)


class Writer:
    """Writes ``state.json`` for one optimiser. Trials and configurations never change once in
    the RunHistory, so their JSON is kept from one snapshot to the next and only the new ones
    are encoded: a snapshot costs little CPU beyond the bytes it writes."""

    def __init__(self) -> None:
        self._n_trials = self._n_configs = 0  # the RunHistory's first trials / configurations ...
        self._chunks_trials: List[str] = []  # ... as JSON, without the list's brackets
        self._chunks_configs: List[str] = []

    def write(self, opt: "Optimizer", path: Path, events: int, offset: int,
              runhistory_stat: Optional[list] = None) -> None:
        """Write the state standing for the first ``events`` events (``offset`` bytes) of the
        log to ``path``, atomically; ``runhistory_stat`` marks the ``runhistory.json`` written
        with it, so that a resume can tell whether that one is current."""
        atomic_write_text(path, self.text(opt, events, offset, runhistory_stat))

    def text(self, opt: "Optimizer", events: int = 0, offset: int = 0, runhistory_stat: Optional[list] = None) -> str:
        """The state as JSON text (what :meth:`write` writes)."""
        rh = opt.runhistory
        configs = rh.get_configs()
        extra: List[Configuration] = []  # configurations only the scheduler holds
        extra_index: Dict[bytes, int] = {}

        def ref(config: Configuration) -> int:
            cid = rh.find_config_number(config)
            if cid is not None:
                return cid - 1
            key = config_key(config)
            if key not in extra_index:
                extra_index[key] = len(configs) + len(extra)
                extra.append(config)
            return extra_index[key]

        # new configurations and trials, each batch encoded at once and kept as one chunk
        new = _vectors(configs[self._n_configs:])
        if new:
            self._chunks_configs.append(json.dumps(new)[1:-1])
            self._n_configs += len(new)
        new = [trial_state(info, ref) + _value_row(value) + [rh.walltime(info)]
               for info, value in itertools.islice(rh.items(), self._n_trials, None)]
        if new:
            self._chunks_trials.append(dumps(new)[1:-1])
            self._n_trials += len(new)
        state = {
            "format": _FORMAT, "version": 1,
            "log": {"events": events, "offset": offset},
            "t": opt.clock.now(),
            "runhistory_json": runhistory_stat,
            "n_runhistory_configs": len(configs),
            "pending": [trial_state(info, ref) for info in opt.pending],
            "n_warm": opt.n_warmstart_trials, "warm_budget": opt.warmstart_budget,
            "optimizer_time": opt.optimizer_seconds,
            "trajectory": [asdict(e) for e in opt.trajectory],
            "scheduler": opt.intensifier.get_state(ref),
            "selector": opt.selector.get_state() if hasattr(opt.selector, "get_state") else None,
        }
        vectors = self._chunks_configs + ([json.dumps(_vectors(extra))[1:-1]] if extra else [])
        return (dumps(state)[:-1] + ', "configs": [' + ", ".join(vectors) + '], "trials": ['
                + ", ".join(self._chunks_trials) + "]}")


def file_stat(path: Path) -> Optional[list]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return [st.st_size, st.st_mtime_ns]


def read(directory: Path) -> Tuple[Optional[Dict[str, Any]], Optional[str]]:
    """The snapshot of ``directory`` (None when there is none) and, if it cannot be used,
    why not."""
    path = _runlog.run_file(directory, _runlog.STATE)
    if not path.exists():
        return None, None
    try:
        state = json.loads(path.read_bytes())
    except ValueError as err:
        return None, f"{path} is damaged (not valid JSON: {err})"
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        return None, f"{path} is not a smacish state snapshot"
    try:
        events, offset = int(state["log"]["events"]), int(state["log"]["offset"])
        log = _runlog.run_file(directory, _runlog.EVENTS)
        size = log.stat().st_size if log.exists() else 0
        if not (0 <= offset <= size and 0 <= events):
            raise ValueError(f"it stands for {offset} bytes of {log.name}, which holds {size}")
        if offset:
            with open(log, "rb") as fh:
                fh.seek(offset - 1)
                if fh.read(1) != b"\n":
                    raise ValueError(f"byte {offset} of {log.name} is not the end of an event")
    except (KeyError, TypeError, ValueError) as err:
        return None, f"{path} does not fit {_runlog.EVENTS} ({err})"
    state["log"] = {"events": events, "offset": offset}
    return state, None


def restore(opt: "Optimizer", state: Dict[str, Any]) -> Tuple[List[TrialInfo], int, float]:
    """Put ``state`` into a freshly set-up optimiser's RunHistory, trajectory, intensifier and
    selector; returns the pending trials in the order they were asked, the number of warm-start
    trials and their budget (for the optimiser to keep). Damaged content raises (KeyError,
    TypeError, ValueError, ...)."""
    space = opt.configspace
    configs = [Configuration(space, vector=np.array([np.nan if v is None else v for v in vector], dtype=float))
               for vector in state["configs"]]
    config_of = configs.__getitem__
    rh = opt.runhistory
    for config in configs[:state["n_runhistory_configs"]]:
        rh.config_number(config)
    for row in state["trials"]:
        rh.add(trial_from_state(row[:6], config_of), _value_from_row(row[6:12]),
               walltime=row[12] if len(row) > 12 else None)
    pending = []
    for row in state["pending"]:
        info = trial_from_state(row, config_of)
        rh.add_running(info)
        pending.append(info)
    for entry in state["trajectory"]:
        opt.trajectory.append(TrajectoryEntry.from_dict(entry))
    opt.trajectory.resume(rh, opt.intensifier.incumbent_selection, opt.intensifier.max_budget)
    opt.intensifier.set_state(state["scheduler"], config_of)
    if state["selector"] is not None and hasattr(opt.selector, "set_state"):
        opt.selector.set_state(state["selector"])
    return pending, int(state["n_warm"]), float(state["warm_budget"])
