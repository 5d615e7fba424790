"""``Optimizer.optimize``: checks its arguments and the target, then hands the trials to the
serial or the Dask runner with the failure watch and the progress bar attached."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any, Callable, List, Optional

from smacish._checkpoints import Checkpoints, CheckpointStore, make_store
from smacish._failures import Catch, FailureWatch
from smacish._validation import check_optimize_args
from smacish.runners._execute import check_target, wants_context

if TYPE_CHECKING:  # pragma: no cover
    from ConfigSpace import Configuration

    from smacish.optimizer import Optimizer

logger = logging.getLogger("smacish")


def optimize(opt: "Optimizer", target: Callable[..., Any], n_trials: Optional[int], walltime_limit: Optional[float],
             budget_limit: Optional[float], client: Any, n_workers: Optional[int], memory_limit: Optional[float],
             max_retries: int, show_progress: bool, budget_arg: Optional[str], catch: Catch,
             checkpoints: Optional[Checkpoints] = None) -> Optional["Configuration"]:
    """See :meth:`smacish.Optimizer.optimize`."""
    from smacish.runners import Limits, run_dask, run_serial
    from smacish.runners._main_guard import check_main_guard

    limits = Limits(n_trials, walltime_limit, budget_limit, clock=opt.clock.now, origin=0.0)
    check_optimize_args(max_retries, memory_limit, n_workers)
    n_workers = opt.n_workers if n_workers is None else n_workers
    target = check_target(target, budget_arg, varied_arguments(opt), opt.objectives)
    if checkpoints is not None and not wants_context(target):
        raise TypeError("optimize(checkpoints=...) is for a target with a 'trial' parameter, which gets "
                        "each trial's checkpoint directory; add one (def target(config, budget, trial): ...) "
                        "or leave checkpoints out")
    stores: List[CheckpointStore] = []

    def store_for(client: Any, in_process: bool = False) -> CheckpointStore:
        stores.append(make_store(opt, checkpoints, client, in_process))
        opt.callbacks.append(stores[-1].told)
        return stores[-1]
    watch = FailureWatch(catch)
    if client is None and n_workers > 1:
        check_main_guard(f"optimize() with n_workers={n_workers}")
    warn_if_done(opt, limits)
    progress = None
    if show_progress:
        from smacish._progress import ProgressBar

        progress = ProgressBar(opt, limits)
        opt.callbacks.append(progress.update)
    opt.callbacks.insert(0, watch)
    try:
        context = wants_context(target)
        if client is not None or n_workers > 1:
            run_dask(opt, target, limits, client=client, n_workers=n_workers, memory_limit=memory_limit,
                     max_retries=max_retries, checkpoints=store_for if context else None)
        else:
            run_serial(opt, target, limits, memory_limit=memory_limit, max_retries=max_retries,
                       checkpoints=store_for(None, in_process=True) if context else None)
    except KeyboardInterrupt:
        logger.warning("interrupted: %d trial(s) recorded ABORTED; the next ask() or optimize() runs "
                       "them first", len(opt.to_ask_again))
        raise
    finally:
        opt.callbacks.remove(watch)
        for store in stores:
            opt.callbacks.remove(store.told)
        if progress is not None:
            opt.callbacks.remove(progress.update)
            progress.close()
        if opt.output_dir is not None:
            opt.save()
    watch.summary()
    return [inc.config for inc in opt.incumbents] if opt.objectives else opt.incumbent


def varied_arguments(opt: "Optimizer") -> List[str]:
    """The target's arguments that take more than one value in this run."""
    sched = opt.intensifier
    if sched.instances is not None:
        varied = ["instance"] if len(sched.instances) > 1 else []
        return varied + (["seed"] if sched.n_seeds > 1 else [])
    return ["budget"] if sched.min_budget < sched.max_budget else []


def warn_if_done(opt: "Optimizer", limits: Any) -> None:
    """Warn when the run has reached a limit already (they count the whole run, not the call)."""
    done = []
    if limits.n_trials is not None and opt.n_asked >= limits.n_trials:
        done.append(f"n_trials={limits.n_trials} (it has {opt.n_asked} trials)")
    if limits.budget_limit is not None and opt.budget_spent >= limits.budget_limit:
        done.append(f"budget_limit={limits.budget_limit:g} (it has spent {opt.budget_spent:g})")
    if limits.out_of_time():
        done.append(f"walltime_limit={limits.walltime_limit:g} (it has run {opt.clock.now():.1f} s)")
    if done and not opt.to_ask_again:
        warnings.warn(f"optimize() runs nothing: the run has reached {' and '.join(done)}; these "
                      "limits count the whole run, not this call, so pass larger ones to go on",
                      UserWarning, stacklevel=4)
