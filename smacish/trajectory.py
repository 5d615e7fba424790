"""Trajectory: the incumbent after each change, in memory and as a JSON-lines file."""

from __future__ import annotations

import json
import os
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional, Sequence, Tuple, Union, overload

from smacish._io import PathLike, dumps, to_builtin
from smacish.runhistory import RunHistory
from smacish.trial import format_cost


@dataclass(frozen=True)
class TrajectoryEntry:
    """One change of the incumbent (or of its cost, e.g. after a larger budget). With several
    objectives, a configuration that entered the Pareto front, and ``cost`` its tuple."""

    walltime: float  # seconds since the trajectory started
    n_trials: int  # finished trials at that moment
    budget_spent: float
    budget: float  # the budget the incumbent was judged on
    cost: Union[float, Tuple[float, ...]]
    config_number: int  # the incumbent's number in the RunHistory
    config: dict

    def __post_init__(self) -> None:
        if isinstance(self.cost, list):  # read back from JSON
            object.__setattr__(self, "cost", tuple(self.cost))

    @property
    def config_id(self) -> int:
        """Deprecated name of :attr:`config_number` (``config_id`` is a trial's triplet)."""
        warnings.warn("TrajectoryEntry.config_id is now TrajectoryEntry.config_number: config_id names a trial's "
                      "triplet", DeprecationWarning, stacklevel=2)
        return self.config_number

    @classmethod
    def from_dict(cls, data: dict) -> "TrajectoryEntry":
        """An entry as :func:`dataclasses.asdict` wrote it (also by versions that named
        ``config_number`` ``config_id``)."""
        if "config_id" in data and "config_number" not in data:
            data = {("config_number" if k == "config_id" else k): v for k, v in data.items()}
        return cls(**data)


class Trajectory(Sequence[TrajectoryEntry]):
    """The incumbent over time: an entry each time it (or its cost or budget) changes; with
    several objectives, an entry for each configuration that enters the Pareto front.

    ``clock`` gives the current time in seconds (``time.monotonic`` by default; the simulated
    runner passes its virtual clock). With ``path`` every entry is appended to that JSON-lines
    file as it happens.

    >>> from ConfigSpace import ConfigurationSpace
    >>> from smacish import RunHistory, TrialInfo, TrialValue
    >>> cs = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)
    >>> rh, traj = RunHistory(cs), Trajectory(clock=lambda: 0.0)
    >>> for cost in (0.5, 0.7, 0.1):
    ...     rh.add(TrialInfo(cs.sample_configuration(), budget=1.0), TrialValue(cost=cost))
    ...     _ = traj.update(rh)
    >>> [e.cost for e in traj]
    [0.5, 0.1]
    """

    def __init__(self, path: Optional[PathLike] = None, clock: Callable[[], float] = time.monotonic):
        self._entries: List[TrajectoryEntry] = []
        self._clock = clock
        self._start = clock()
        self.path = Path(path) if path is not None else None
        self._last_key: Optional[tuple] = None
        self._front: set = set()  # several objectives: the front at the last update

    def update(
        self, runhistory: RunHistory, selection: str = "highest_executed_budget",
        max_budget: Optional[float] = None,
    ) -> Optional[TrajectoryEntry]:
        """Add an entry if the incumbent, its budget or its cost changed; return it (or None).
        With several objectives, one for each new member of the front; the last is returned."""
        if runhistory.objectives is not None:
            front = runhistory.incumbents(selection, max_budget)
            keys = {(inc.config_number, inc.budget, inc.cost) for inc in front}
            entry = None
            for inc in front:
                if (inc.config_number, inc.budget, inc.cost) not in self._front:
                    entry = self._entry(runhistory, inc)
                    self.append(entry)
            self._front = keys
            return entry
        inc = runhistory.incumbent_entry(selection, max_budget)
        if inc is None:
            return None
        key = (inc.config_number, inc.budget, inc.cost)
        if key == self._last_key:
            return None
        self._last_key = key
        entry = self._entry(runhistory, inc)
        self.append(entry)
        return entry

    def _entry(self, runhistory: RunHistory, inc: Any) -> TrajectoryEntry:
        return TrajectoryEntry(
            walltime=self._clock() - self._start,
            n_trials=len(runhistory),
            budget_spent=runhistory.budget_spent,
            budget=inc.budget,
            cost=inc.cost,
            config_number=inc.config_number,
            config=to_builtin(dict(inc.config)),
        )

    def resume(self, runhistory: RunHistory, selection: str = "highest_executed_budget",
               max_budget: Optional[float] = None) -> None:
        """Take ``runhistory``'s Pareto front as the last one seen (after entries were restored
        with :meth:`append`), so that only later arrivals are logged."""
        if runhistory.objectives is not None:
            self._front = {(inc.config_number, inc.budget, inc.cost) for inc in runhistory.incumbents(selection, max_budget)}

    def append(self, entry: TrajectoryEntry) -> None:
        """Add an entry (and append it to the file, when there is one)."""
        self._entries.append(entry)
        self._last_key = (entry.config_number, entry.budget, entry.cost)
        if self.path is not None:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(dumps(asdict(entry)) + "\n")
                fh.flush()
                os.fsync(fh.fileno())

    @classmethod
    def load(cls, path: PathLike) -> "Trajectory":
        """Read a trajectory file back (entries only; new entries are not written to it)."""
        traj = cls()
        path = Path(path)
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                    entry = TrajectoryEntry.from_dict(data)
                except (json.JSONDecodeError, TypeError) as err:
                    raise ValueError(f"{path}, line {lineno}: not a trajectory entry ({err})") from None
                traj.append(entry)
        return traj

    def to_dataframe(self) -> Any:
        """The entries as a pandas DataFrame (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as err:  # pragma: no cover
            raise ImportError("to_dataframe needs pandas: pip install 'smacish[pandas]'") from err
        columns = ["walltime", "n_trials", "budget_spent", "budget", "cost", "config_number", "config"]
        return pd.DataFrame([asdict(e) for e in self._entries], columns=columns)

    @overload
    def __getitem__(self, index: int) -> TrajectoryEntry: ...
    @overload
    def __getitem__(self, index: slice) -> List[TrajectoryEntry]: ...
    def __getitem__(self, index):  # type: ignore[override]
        return self._entries[index]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[TrajectoryEntry]:
        return iter(self._entries)

    def __repr__(self) -> str:
        last = f", last cost {format_cost(self._entries[-1].cost)}" if self._entries else ""
        return f"Trajectory({len(self)} entries{last})"
