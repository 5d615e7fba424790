"""Failed trials, said out loud: a WARNING per distinct error, and the ``catch=`` policy that
decides when a failing target stops :meth:`Optimizer.optimize`."""

from __future__ import annotations

import logging
from collections import Counter
from typing import Optional, Tuple, Type, Union

from smacish.runners._execute import last_error
from smacish.trial import StatusType, TrialInfo, TrialValue

logger = logging.getLogger("smacish")

FIRST_FAILURES = 3  # by default, a run stops when its first this many trials all crash
TRACEBACK_LINES = 8  # lines of a traceback shown in the warning
_REPEATS_SHOWN = {2, 10, 100, 1000, 10000}  # counts at which a repeated error is logged again

Catch = Union[None, Type[BaseException], Tuple[Type[BaseException], ...]]


class TargetFailedError(RuntimeError):
    """The target failed and the ``catch=`` policy of :meth:`Optimizer.optimize` stops the run.

    The trial is in the RunHistory (CRASHED) like every other; in-process, the target's own
    exception is this one's ``__cause__``.
    """


def check_catch(catch: Catch) -> Optional[Tuple[Type[BaseException], ...]]:
    """``catch`` as a tuple of exception classes (or None, the default policy)."""
    if catch is None:
        return None
    if isinstance(catch, type):
        catch = (catch,)
    if not isinstance(catch, tuple) or not all(isinstance(c, type) and issubclass(c, BaseException) for c in catch):
        raise TypeError(f"catch is {catch!r}, but must be None, an exception class or a tuple of them, "
                        "e.g. catch=(ValueError,) or catch=(Exception,)")
    return catch


def summary_line(value: TrialValue) -> str:
    """One line on why a trial failed: its error, or the last line of its traceback."""
    extra = value.additional_info
    if extra.get("error"):
        return str(extra["error"]).strip().splitlines()[-1]
    lines = str(extra.get("traceback", "")).strip().splitlines()
    return lines[-1] if lines else value.status.value


class FailureWatch:
    """A tell callback: logs failed trials and applies the ``catch=`` policy.

    - Each distinct error is logged once at WARNING with the last lines of its traceback, then
      again (one line) at its 2nd, 10th, 100th... occurrence. TIMEOUT (a cutoff doing its job)
      is logged at INFO.
    - ``catch=None``: raise :class:`TargetFailedError` when the first ``FIRST_FAILURES`` trials
      all crashed (nothing has succeeded yet); once one trial succeeds, failures are logged only.
    - ``catch=()``: raise at the first crash. ``catch=(ValueError, ...)``: raise at a crash whose
      exception is none of these; ``catch=(Exception,)`` never raises. A trial lost with its
      worker (already retried ``max_retries`` times) counts for the default rule only.
    """

    def __init__(self, catch: Catch = None, first_failures: int = FIRST_FAILURES):
        self.catch = check_catch(catch)
        self.first_failures = first_failures
        self.errors: Counter = Counter()  # (status, summary line) -> trials
        self.n_success = 0
        self.n_crashed = 0

    def __call__(self, info: TrialInfo, value: TrialValue) -> None:
        if value.status is StatusType.SUCCESS:
            self.n_success += 1
            return
        if value.status not in (StatusType.CRASHED, StatusType.MEMORYOUT, StatusType.TIMEOUT):
            return
        self._log(info, value)
        if value.status is StatusType.CRASHED:
            self.n_crashed += 1
            why = self._stops(value)
            if why is not None:
                raise TargetFailedError(self._message(info, value, why)) from last_error(value)

    def _log(self, info: TrialInfo, value: TrialValue) -> None:
        line = summary_line(value)
        key = (value.status, line)
        self.errors[key] += 1
        n = self.errors[key]
        level = logging.INFO if value.status is StatusType.TIMEOUT else logging.WARNING
        if n == 1:
            tail = str(value.additional_info.get("traceback", "")).rstrip().splitlines()[-TRACEBACK_LINES:]
            logger.log(level, "trial %s %s: %s%s", _name(info), value.status.value, line,
                       "".join("\n    " + t for t in tail[:-1]))
        elif n in _REPEATS_SHOWN:
            logger.log(level, "%s: %s (%d trials so far)", value.status.value, line, n)

    def _stops(self, value: TrialValue) -> Optional[str]:
        """Why this crash stops the run, or None."""
        lost = bool(value.additional_info.get("lost"))
        if self.catch is None:
            if self.n_success == 0 and self.n_crashed >= self.first_failures:
                return (f"the first {self.n_crashed} trials all failed and none has succeeded; fix the "
                        "target, or pass catch=(Exception,) to run on past failures")
            return None
        if lost:
            return None
        types = value.additional_info.get("exception_types") or []
        if any(f"{c.__module__}.{c.__qualname__}" in types for c in self.catch):
            return None
        shown = "catch=()" if not self.catch else f"catch=({', '.join(c.__name__ for c in self.catch)},)"
        return f"{shown} does not catch it"

    def _message(self, info: TrialInfo, value: TrialValue, why: str) -> str:
        text = f"trial {_name(info)} failed ({summary_line(value)}): {why}"
        if last_error(value) is None and value.additional_info.get("traceback"):  # it ran elsewhere
            text += "\n\nThe trial's traceback:\n" + str(value.additional_info["traceback"]).rstrip()
        return text

    def summary(self) -> None:
        """At the end of a run: one WARNING counting the failed trials, if any."""
        failed = sum(n for (status, _), n in self.errors.items() if status is not StatusType.TIMEOUT)
        if failed:
            kinds = len([k for k in self.errors if k[0] is not StatusType.TIMEOUT])
            logger.warning("%d trial(s) of this call failed (%d distinct error(s)); each one's traceback is in "
                           "its additional_info['traceback'] (see `smacish status DIR` for a run directory)",
                           failed, kinds)


def _name(info: TrialInfo) -> str:
    where = f"config_id={info.config_id} budget={info.budget}"
    return where if info.instance is None else f"{where} instance={info.instance!r} seed={info.seed}"
