"""``Optimizer.optimize``: checks its arguments and the target, then hands the trials to the
serial or the Dask runner with the failure watch and the progress bar attached. The
:class:`~smacish.Optimizer` inherits it from :class:`OptimizeLoop`."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Union

from smacish._checkpoints import Checkpoints, CheckpointStore, make_store
from smacish._failures import Catch, FailureWatch
from smacish._validation import check_optimize_args
from smacish.runners._execute import check_target, wants_context

if TYPE_CHECKING:  # pragma: no cover
    from ConfigSpace import Configuration

    from smacish.optimizer import Optimizer

logger = logging.getLogger("smacish")


class OptimizeLoop:
    """The :class:`~smacish.Optimizer`'s ``optimize``: ask, run the target, tell, until a limit."""

    def optimize(
        self,
        target: Callable[..., Any],
        n_trials: Optional[int] = None,
        walltime_limit: Optional[float] = None,
        budget_limit: Optional[float] = None,
        client: Any = None,
        n_workers: Optional[int] = None,
        memory_limit: Optional[float] = None,
        max_retries: int = 1,
        show_progress: bool = False,
        budget_arg: Optional[str] = None,
        catch: Catch = None,
        checkpoints: Optional[Checkpoints] = None,
    ) -> Union[Optional["Configuration"], List["Configuration"]]:
        """Run trials until the run has ``n_trials`` trials, has run ``walltime_limit``
        seconds, or has spent ``budget_limit`` (sum of budgets), whichever comes first, and
        return the incumbent (with several objectives, the configurations of the Pareto
        front, as :attr:`incumbents` has them). All three count the whole run, as SMAC3's do (a second call with
        the same limits runs nothing: pass larger ones); the run's seconds are counted from its
        first trial's ask, across resumes, as the trajectory's and the DataFrame's ``walltime``.

        ``target(config, budget=..., seed=..., instance=...)`` gets the keyword arguments its
        signature accepts and returns a cost or a dict with ``"cost"`` (or ``"loss"``); name
        the budget's parameter with ``budget_arg`` when it is not ``budget``. The signature is
        checked before the first trial. With a ``client`` (any ``distributed.Client``) or
        ``n_workers > 1`` (by default the Optimizer's ``n_workers``) the trials run on Dask;
        otherwise in this process. ``memory_limit`` is in MB per trial; a trial whose process
        dies is retried up to ``max_retries`` times. ``show_progress`` shows a tqdm bar
        (terminal or notebook) with the incumbent's cost and the busy workers.

        Failed trials are logged at WARNING (each distinct error once, with its traceback's last
        lines). ``catch`` decides when a failure stops the run with :class:`TargetFailedError`:
        ``None`` (default) when the first 3 trials all crash, ``()`` at any crash, a tuple of
        exception classes at a crash of any other class, ``(Exception,)`` never. Ctrl-C stops
        at once; the trials it interrupted are ABORTED and run first by the next call.

        A target with a ``trial`` parameter gets a :class:`~smacish.TrialContext`: a checkpoint
        directory per configuration and the budget it may continue from, so that a promotion
        trains only the increment (and is charged only that); ``checkpoints`` (a
        :class:`~smacish.Checkpoints`) says where they are kept and which are removed.

        >>> from ConfigSpace import ConfigurationSpace
        >>> import smacish
        >>> opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}),
        ...                         smacish.SuccessiveHalving(min_budget=1, max_budget=9))
        >>> best = opt.optimize(lambda config, epochs: config["x"] / epochs, n_trials=13,
        ...                     budget_arg="epochs")
        >>> len(opt.runhistory)
        13
        """
        from smacish.runners import Limits, run_dask, run_serial
        from smacish.runners._main_guard import check_main_guard

        limits = Limits(n_trials, walltime_limit, budget_limit, clock=self.clock.now, origin=0.0)
        check_optimize_args(max_retries, memory_limit, n_workers)
        n_workers = self.n_workers if n_workers is None else n_workers
        target = check_target(target, budget_arg, varied_arguments(self), self.objectives)
        if checkpoints is not None and not wants_context(target):
            raise TypeError("optimize(checkpoints=...) is for a target with a 'trial' parameter, which gets "
                            "each trial's checkpoint directory; add one (def target(config, budget, trial): ...) "
                            "or leave checkpoints out")
        stores: List[CheckpointStore] = []

        def store_for(client: Any, in_process: bool = False) -> CheckpointStore:
            stores.append(make_store(self, checkpoints, client, in_process))
            self.callbacks.append(stores[-1].told)
            return stores[-1]
        watch = FailureWatch(catch)
        if client is None and n_workers > 1:
            check_main_guard(f"optimize() with n_workers={n_workers}")
        warn_if_done(self, limits)
        progress = None
        if show_progress:
            from smacish._progress import ProgressBar

            progress = ProgressBar(self, limits)
            self.callbacks.append(progress.update)
        self.callbacks.insert(0, watch)
        try:
            context = wants_context(target)
            if client is not None or n_workers > 1:
                run_dask(self, target, limits, client=client, n_workers=n_workers, memory_limit=memory_limit,
                         max_retries=max_retries, checkpoints=store_for if context else None)
            else:
                run_serial(self, target, limits, memory_limit=memory_limit, max_retries=max_retries,
                           checkpoints=store_for(None, in_process=True) if context else None)
        except KeyboardInterrupt:
            logger.warning("interrupted: %d trial(s) recorded ABORTED; the next ask() or optimize() runs "
                           "them first", len(self.to_ask_again))
            raise
        finally:
            self.callbacks.remove(watch)
            for store in stores:
                self.callbacks.remove(store.told)
            if progress is not None:
                self.callbacks.remove(progress.update)
                progress.close()
            if self.output_dir is not None:
                self.save()
        watch.summary()
        return [inc.config for inc in self.incumbents] if self.objectives else self.incumbent


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
                      UserWarning, stacklevel=3)  # at the user's optimize() call
