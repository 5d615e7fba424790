"""The run directory: settings, an append-only event log, and snapshots for readers.

A run is rebuilt exactly by replaying its events (asks with the configurations proposed and
the selector's state after each proposal, tells with their values) through a fresh Optimizer:
the decision logic is deterministic, so replay reaches the very state the run had.

Files (all JSON; nothing is ever unpickled or executed):
- ``optimizer.json``: the space, intensifier, selector and seed, written once (atomically);
- ``events.jsonl``: one line per ask / tell / warm-start trial; a tell is fsync'd before
  ``tell`` returns, so a finished trial is never lost;
- ``state.json``: the whole optimiser state at one point of the log, rewritten atomically now
  and then, so that a resume replays only the events after it (see ``_snapshot``);
- ``runhistory.json`` and ``trajectory.jsonl``: for people and tools, rewritten atomically
  now and then; the log alone is authoritative.
- ``dask.json``: the Dask cluster the run was last on (scheduler and dashboard address),
  written atomically by the Dask runner; read by ``smacish dashboard`` only.
"""

from __future__ import annotations

import json
import os
import warnings
import weakref
from pathlib import Path
from typing import Any, Dict, List, Optional

from ConfigSpace import Configuration, ConfigurationSpace

from smacish._io import atomic_write_text, config_from_json, dumps, vector_json
from smacish.trial import StatusType, TrialInfo, TrialValue, key_to_json

SETTINGS = "optimizer.json"
EVENTS = "events.jsonl"
RUNHISTORY = "runhistory.json"
TRAJECTORY = "trajectory.jsonl"
STATE = "state.json"
DASK = "dask.json"  # the Dask cluster a run was last on (its dashboard), for `smacish dashboard`
_FORMAT = "smacish.run"
INTENSIFIER_CLASSES = ("SuccessiveHalving", "Hyperband", "ParallelScheduler")  # the only names a settings file may give


def holds_run(directory: Path) -> bool:
    """True if any file of a run is there (or a link in its place): a new run must not mix in."""
    return any((directory / name).exists() or (directory / name).is_symlink()
               for name in (SETTINGS, EVENTS, RUNHISTORY, TRAJECTORY, STATE))


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
    return {"vector": vector_json(config.get_array())}


def trial_to_json(info: TrialInfo) -> Dict[str, Any]:
    return {
        "config": config_vector_json(info.config),
        "config_id": list(info.config_id) if info.config_id is not None else None,
        "budget": info.budget, "instance": info.instance, "seed": info.seed, "cutoff": info.cutoff,
    }


def config_from_event(space: ConfigurationSpace, event: Dict[str, Any]) -> Configuration:
    """The configuration of an ``enqueue`` event."""
    return config_from_json(space, event["config"])


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


# fdatasync: the data and the file's size (all a reader needs), without the timestamps
_sync = getattr(os, "fdatasync", os.fsync)


class RunLog:
    """Appends events to ``events.jsonl``; tells are fsync'd (``durable=False``: written to
    the OS only, which survives a killed process but not a power cut).

    The file is grown ahead of the events in chunks of zero bytes, which later events
    overwrite: an fsync of an event then has no file size to commit, only the data, which
    takes a third less time (ext4). :meth:`close` cuts the unused zeros off again; a killed
    run leaves them, and readers stop at the first zero byte (JSON text never holds one)."""

    def __init__(self, directory: Path, durable: bool = True, n_events: int = 0, delta_states: bool = False,
                 lock: Any = None):
        self.directory = directory
        self.lock = lock  # the directory's RunLock, released by close()
        self.durable = durable
        path = run_file(directory, EVENTS)
        self._fh = open(os.open(path, os.O_RDWR | os.O_CREAT, 0o666), "r+b")
        # an optimiser dropped without close() (often in a reference cycle) closes its log quietly
        weakref.finalize(self, self._fh.close)
        self.n_events = n_events  # events in the file (the caller counted those already there)
        # Only for selectors known to hand out a new state object each time: a state changed
        # in place would compare equal to the one written before.
        self.delta_states = delta_states
        self._state_base: Any = None  # the selector state last written (see _delta)
        self.offset = data_end(self._fh)  # bytes of events: where the next one starts
        self._allocated = self._fh.seek(0, os.SEEK_END)  # bytes in the file, zeros included
        self._fh.seek(self.offset)

    def _write(self, event: Dict[str, Any], sync: bool) -> None:
        self._append((dumps(event) + "\n").encode("utf-8"), sync)

    def _append(self, line: bytes, sync: bool) -> None:
        end = self.offset + len(line)
        if end > self._allocated:
            self._grow(end)
        self._fh.write(line)
        self._fh.flush()
        if sync and self.durable:
            _sync(self._fh.fileno())
        self.n_events += 1
        self.offset = end

    def _grow(self, end: int) -> None:
        """Zeros from the end of the file to at least ``end`` (doubling, 64 KiB to 4 MiB at a time)."""
        size = max(end - self._allocated, min(max(self._allocated, 1 << 16), 1 << 22))
        self._fh.seek(self._allocated)
        self._fh.write(bytes(size))
        self._allocated += size
        self._fh.seek(self.offset)

    def ask(self, info: TrialInfo, n_workers: int, t: float, proposals: List[Dict[str, Any]]) -> None:
        """Log an ask with the selector's proposals (``{"config": Configuration, "state":
        selector state}``) made for it."""
        for proposal in proposals:
            config = proposal["config"]  # most often the trial's own: not written twice
            proposal["config"] = "trial" if config is info.config else config_vector_json(config)
            self._delta(proposal)
        # Not fsync'd: a lost ask is re-derived by the deterministic replay; the next tell's
        # fsync makes it durable anyway.
        self._write({"e": "ask", "t": round(t, 6), "n_workers": n_workers, "trial": trial_to_json(info),
                     "proposals": proposals}, sync=False)

    def _delta(self, proposal: Dict[str, Any]) -> None:
        """Write the selector's state as the keys that changed since the last one written
        (``"update"``), or whole (``"state"``) after :meth:`restart_states`: most proposals
        change little of it (a counter), and encoding a random generator's state is not free."""
        state, base = proposal.get("state"), self._state_base
        self._state_base = state
        if self.delta_states and isinstance(state, dict) and isinstance(base, dict) and base.keys() <= state.keys():
            del proposal["state"]
            proposal["update"] = {k: v for k, v in state.items() if k not in base or base[k] != v}

    def restart_states(self) -> None:
        """The next selector state is written whole (after a snapshot: a reader that starts
        there knows none before it)."""
        self._state_base = None

    def reissue(self, info: TrialInfo, t: float) -> None:
        self._write({"e": "reissue", "t": round(t, 6), "trial": key_to_json(info.key)}, sync=False)

    @staticmethod
    def tell_line(info: TrialInfo, value: TrialValue, t: float) -> bytes:
        """The tell event as a line; raises TypeError if ``value`` cannot be logged, so a
        tell can encode it before it changes anything."""
        event = {"e": "tell", "t": round(t, 6), "trial": key_to_json(info.key), "value": value_to_json(value)}
        return (dumps(event) + "\n").encode("utf-8")

    def tell(self, line: bytes) -> None:
        """Append a :meth:`tell_line`, fsync'd (``durable``) before this returns."""
        self._append(line, sync=True)

    def warm(self, info: TrialInfo, value: TrialValue) -> None:
        self._write({"e": "warm", "trial": trial_to_json(info), "value": value_to_json(value)}, sync=True)

    def enqueue(self, config: Configuration, budget: Optional[float]) -> None:
        """Log ``Optimizer.enqueue`` (durable: the user's configuration is not derived again)."""
        self._write({"e": "enqueue", "config": config_vector_json(config), "budget": budget}, sync=True)

    def close(self, trim: bool = True) -> None:
        """Close the file; ``trim``: cut the zeros after the last event off first."""
        if not self._fh.closed:
            if trim:
                self._fh.truncate(self.offset)
            self._fh.close()
        if self.lock is not None:
            self.lock.release()


def data_end(fh: Any) -> int:
    """Where the events of an open log end: after its last byte that is not zero (what
    follows are zeros grown ahead of the events, which a killed run leaves)."""
    end = fh.seek(0, os.SEEK_END)
    while end > 0:
        start = max(0, end - (1 << 20))
        fh.seek(start)
        events = fh.read(end - start).rstrip(b"\0")
        if events:
            return start + len(events)
        end = start
    return 0


def write_settings(directory: Path, settings: Dict[str, Any]) -> None:
    atomic_write_text(directory / SETTINGS, dumps({"format": _FORMAT, "version": 1, **settings}))


def read_settings(directory: Path) -> Dict[str, Any]:
    """The run's settings; errors say what is wrong with ``directory`` as a run directory."""
    path = run_file(directory, SETTINGS)
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory} does not exist or is not a directory; no smacish run is there")
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: {directory} is not a smacish run directory "
                                "(one made by Optimizer(..., output_dir=...))")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is corrupt (not valid JSON: {err}); the run cannot be read") from None
    if not isinstance(data, dict) or data.get("format") != _FORMAT:
        raise ValueError(f"{path} is not a smacish run's settings file")
    problems = _settings_problems(data)
    if problems:
        raise ValueError(f"{path} is damaged ({'; '.join(problems)}); the run cannot be read")
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
    if data.get("instance_features") is not None and not isinstance(data["instance_features"], dict):
        problems.append(f"instance_features is {data['instance_features']!r}, but must be a dict or null")
    if data.get("direction", "minimize") not in ("minimize", "maximize"):
        problems.append(f"direction is {data.get('direction')!r}, but must be 'minimize' or 'maximize'")
    return problems


def read_events(directory: Path, repair: bool = True, line_numbers: bool = False,
                start: int = 0, skip_lines: int = 0, damaged: Optional[List[int]] = None) -> List[Any]:
    """The events of a run, in order (from byte ``start``, the end of line ``skip_lines``).

    - A truncated last line (a crash mid-write) is dropped with a warning and cut from the file.
    - Damage with no tell after it (a power cut can lose a page of asks, which are not synced,
      and keep a later one): the log is cut back to the last intact event before it, with a
      warning counting what was dropped (the replay asks those again), and the cut-off bytes
      are kept in ``events.jsonl.damaged``.
    - Other damage (a tell after it: results would be lost) is a ValueError naming the line.

    ``repair=False`` (readers of a run that may still be writing) changes nothing; with a list
    as ``damaged``, it skips damaged lines and appends their numbers there instead of raising.
    With ``line_numbers``, ``(line number, event)`` pairs."""
    path = run_file(directory, EVENTS)
    if not path.exists():
        return []
    with open(path, "rb") as fh:
        fh.seek(start)
        data = fh.read()
    end = data.find(b"\0")
    if end >= 0 and not data[end:].strip(b"\0"):
        data = data[:end]  # zeros only: space grown ahead of the events (see RunLog)
    lines = data.split(b"\n")
    tail = lines.pop()  # b"" when the file ends with a newline, as every complete write does
    events = []
    for index, line in enumerate(lines):
        lineno = skip_lines + 1 + index
        if line.strip():
            event = parse_event(line)
            if event is None and damaged is not None:
                damaged.append(lineno)
                continue
            if event is None:
                if repair and not _tells_in([line.lstrip(b"\0")] + lines[index + 1:] + [tail]):
                    _cut(path, start + sum(len(x) + 1 for x in lines[:index]), lineno)
                    return events if line_numbers else [e for _, e in events]
                raise ValueError(f"{path}, line {lineno}: corrupt event, and results follow it; the log "
                                 "cannot be replayed (read what it holds with `smacish status DIR`)")
            events.append((lineno, event))
    last = skip_lines + len(lines) + 1
    if tail.strip() and not repair:
        event = parse_event(tail)
        if event is not None:
            events.append((last, event))
    elif tail.strip():
        event = parse_event(tail)
        with open(path, "r+b") as fh:
            if event is None:
                warnings.warn(
                    f"{path}, line {last}: dropped a truncated last event (the run was "
                    "killed while writing it)", RuntimeWarning, stacklevel=3,
                )
                fh.truncate(start + sum(len(line) + 1 for line in lines))
            else:  # complete but for its newline
                fh.seek(start + len(data))
                fh.write(b"\n")
                events.append((last, event))
    return events if line_numbers else [event for _, event in events]


def _tells_in(lines: List[bytes]) -> bool:
    """True if any of ``lines`` is an intact tell or warm-start event (a result)."""
    return any((parse_event(line) or {}).get("e") in ("tell", "warm") for line in lines if line.strip(b"\0 \n"))


def _cut(path: Path, offset: int, lineno: int) -> None:
    """Cut the log back to ``offset`` (the end of line ``lineno - 1``), keeping what is cut."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        rest = fh.read()
    kept = path.with_name(path.name + ".damaged")
    with open(kept, "ab") as fh:
        fh.write(rest)
        fh.flush()
        os.fsync(fh.fileno())
    dropped = len([line for line in rest.rstrip(b"\0").split(b"\n") if line.strip()])
    with open(path, "r+b") as fh:
        fh.truncate(offset)
    warnings.warn(f"{path}, line {lineno}: damaged, with no result after it (as a power cut can leave); "
                  f"dropped {dropped} line(s) from there on (the asks among them are asked again), kept in "
                  f"{kept.name}", RuntimeWarning, stacklevel=3)


def check_before(directory: Path, offset: int) -> None:
    """Refuse a log whose first ``offset`` bytes (what a state snapshot stands for) hold a
    damaged event: the snapshot would hide it, and the log is what the run is rebuilt from
    when there is no usable snapshot (and what ``smacish status`` reads)."""
    path = run_file(directory, EVENTS)
    with open(path, "rb") as fh:
        data = fh.read(offset)
    for number, line in enumerate(data.split(b"\n")[:-1], start=1):
        if parse_event(line) is None:
            raise ValueError(
                f"{path}, line {number}: damaged event, before the last state snapshot; the log no "
                "longer stands for the run, so it is not resumed. Restore the directory from a copy, "
                "or read what it holds with `smacish status DIR`")


def parse_event(line: bytes) -> Optional[Dict[str, Any]]:
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and event.get("e") in ("ask", "tell", "warm", "reissue", "enqueue") else None


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
