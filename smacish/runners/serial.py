"""The in-process runner: ask, run the target here, tell; one trial at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

from smacish.runners._execute import execute_trial, failed_value
from smacish.runners._limits import Limits
from smacish.trial import StatusType, WaitForResults

if TYPE_CHECKING:  # pragma: no cover
    from smacish._checkpoints import CheckpointStore
    from smacish.optimizer import Optimizer


def run_serial(
    optimizer: "Optimizer", target: Callable[..., Any], limits: Limits,
    memory_limit: Optional[float] = None, max_retries: int = 1,
    checkpoints: Optional["CheckpointStore"] = None,
) -> None:
    """Run trials in this process until ``limits`` stop it. A trial whose child process died
    (with a cutoff or memory limit) is run again up to ``max_retries`` times. With
    ``checkpoints``, the target gets each trial's context (its ``trial`` parameter)."""
    while limits.may_ask(optimizer.n_asked, optimizer.budget_spent):
        try:
            info = optimizer.ask(n_workers=len(optimizer.pending) + 1)
        except WaitForResults:
            break  # nothing pending and nothing new to run: a small space is used up
        try:
            for attempt in range(max_retries + 1):
                context = checkpoints.prepared(info) if checkpoints is not None else None
                value = execute_trial(target, info, memory_limit, context=context)
                if not value.additional_info.get("lost"):
                    break
        except KeyboardInterrupt:  # not the configuration's fault: the next ask runs it again
            optimizer.tell(info, failed_value("interrupted (KeyboardInterrupt) before it finished",
                                              StatusType.ABORTED))
            raise
        optimizer.tell(info, value)

