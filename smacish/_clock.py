"""The run clock: the one time that the trajectory, the DataFrame's ``walltime`` and
``walltime_limit`` read."""

from __future__ import annotations

import time
from typing import Callable, Optional


class RunClock:
    """Seconds since the run's first trial was asked, counting the time of every process that
    ran it (not the time between them).

    It reads 0 until :meth:`start` (the Optimizer calls it at the first ask). :meth:`resume`
    continues a run that already ran some seconds; :meth:`hold` pins the clock at a given time
    (a simulated or a replayed run sets the time itself) until :meth:`release`.

    >>> ticks = iter([100.0, 102.5])
    >>> clock = RunClock(time_source=lambda: next(ticks))
    >>> clock.now()
    0.0
    >>> clock.start(); clock.now()
    2.5
    >>> clock.hold(7.0); clock.now()
    7.0
    """

    def __init__(self, time_source: Callable[[], float] = time.monotonic):
        self._source = time_source
        self._t0: Optional[float] = None
        self._held: Optional[float] = None

    @property
    def started(self) -> bool:
        return self._t0 is not None

    def start(self) -> None:
        """Start counting, unless the clock runs already or is held."""
        if self._t0 is None and self._held is None:
            self._t0 = self._source()

    def resume(self, elapsed: float) -> None:
        """Count on from ``elapsed`` seconds (a resumed run); 0 leaves the clock to start at the next ask."""
        self._t0 = self._source() - elapsed if elapsed > 0 else None

    def hold(self, t: float) -> None:
        """Read ``t`` until :meth:`release`."""
        self._held = float(t)

    def release(self) -> None:
        self._held = None

    def now(self) -> float:
        if self._held is not None:
            return self._held
        return 0.0 if self._t0 is None else self._source() - self._t0
