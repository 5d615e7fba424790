"""One HpBandSter iteration: a successive-halving run with HpBandSter's config_id assignment.

A configuration is named ``(iteration, budget index, running index)`` when it joins the
iteration: the running index counts the configurations of that stage, promoted ones included.
Promoted configurations keep their id and are queued again in the order they joined; a stage
left short (too many crashes) is filled with new samples whose budget index is that stage.
This is the bookkeeping of HpBandSter's ``BaseIteration``, kept so that a migrated run
schedules the same ``(config_id, budget)`` sequence.
"""

from __future__ import annotations

import copy
import logging
import math
import numbers
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from smacish._io import to_builtin

ConfigId = Tuple[int, int, int]


class Datum:
    """Everything about one configuration of an iteration: the configuration (a dict), its
    ``config_info``, and per budget its result, time stamps and exception."""

    def __init__(
        self,
        config: Dict[str, Any],
        config_info: Any,
        results: Optional[dict] = None,
        time_stamps: Optional[dict] = None,
        exceptions: Optional[dict] = None,
        status: str = "QUEUED",
        budget: float = 0,
    ):
        self.config = config
        self.config_info = config_info
        self.results = results if results is not None else {}
        self.time_stamps = time_stamps if time_stamps is not None else {}
        self.exceptions = exceptions if exceptions is not None else {}
        self.status = status
        self.budget = budget
        self.configuration: Any = None  # the ConfigSpace Configuration, when known (not copied)

    def public_copy(self) -> "Datum":
        """A deep copy without the Configuration object (what a Result holds)."""
        return Datum(
            copy.deepcopy(self.config),
            copy.deepcopy(self.config_info),
            copy.deepcopy(self.results),
            copy.deepcopy(self.time_stamps),
            copy.deepcopy(self.exceptions),
            self.status,
            self.budget,
        )

    def __repr__(self) -> str:
        losses = ", ".join(f"{b}: {r['loss'] if r else None}" for b, r in self.results.items())
        return (
            f"Datum(config={self.config}, config_info={self.config_info}, losses={{{losses}}}, "
            f"status={self.status})"
        )


class BaseIteration:
    """Decides which configuration runs on which budget next within one iteration.

    ``num_configs[i]`` configurations run on ``budgets[i]`` in stage ``i``; subclasses choose
    who advances (:meth:`_advance_to_next_stage`). ``config_sampler(budget)`` returns a new
    ``(config, config_info)``.
    """

    def __init__(
        self,
        HPB_iter: int,
        num_configs: Sequence[float],
        budgets: Sequence[Any],
        config_sampler: Optional[Callable[[float], Tuple[Any, Any]]],
        logger: Optional[logging.Logger] = None,
        result_logger: Any = None,
    ):
        self.data: Dict[ConfigId, Datum] = {}
        self.is_finished = False
        self.HPB_iter = HPB_iter
        self.stage = 0
        self.budgets = list(budgets)
        self.num_configs = list(num_configs)
        self.actual_num_configs = [0] * len(num_configs)
        self.config_sampler = config_sampler
        self.num_running = 0
        self.logger = logger if logger is not None else logging.getLogger("smacish.hpbandster")
        self.result_logger = result_logger

    def add_configuration(self, config: Any = None, config_info: Any = None) -> ConfigId:
        """Add a configuration (sampled if None) to the current stage; returns its config_id."""
        if config is None:
            config, config_info = self.config_sampler(self.budgets[self.stage])
        if self.is_finished:
            raise RuntimeError("This HpBandSter iteration is finished, you can't add more configurations!")
        if self.actual_num_configs[self.stage] >= self.num_configs[self.stage]:
            raise RuntimeError(
                f"Can't add another configuration to stage {self.stage} in HpBandSter "
                f"iteration {self.HPB_iter}."
            )
        config_info = {} if config_info is None else config_info
        configuration = None
        if not isinstance(config, dict):  # a ConfigSpace Configuration
            configuration = config
            config = to_builtin(dict(config))
        config_id = (self.HPB_iter, self.stage, self.actual_num_configs[self.stage])
        datum = Datum(config=config, config_info=config_info, budget=self.budgets[self.stage])
        datum.configuration = configuration
        self.data[config_id] = datum
        self.actual_num_configs[self.stage] += 1
        if self.result_logger is not None:
            self.result_logger.new_config(config_id, config, config_info)
        return config_id

    def register_result(self, job: Any, skip_sanity_checks: bool = False) -> None:
        """Record a finished job of this iteration (called by the optimizer)."""
        if self.is_finished:
            raise RuntimeError("This HpBandSter iteration is finished, you can't register more results!")
        config_id, budget = job.id, job.kwargs["budget"]
        d = self.data[config_id]
        if not skip_sanity_checks:
            if d.config != job.kwargs["config"]:
                raise RuntimeError(f"job {config_id}: configurations differ")
            if d.status != "RUNNING":
                raise RuntimeError(
                    f"job {config_id}: configuration wasn't scheduled for a run (status {d.status})"
                )
            if d.budget != budget:
                raise RuntimeError(f"job {config_id}: budgets differ ({d.budget} != {budget})")
        d.time_stamps[budget] = job.timestamps
        d.results[budget] = job.result
        loss = job.result.get("loss") if isinstance(job.result, dict) else None
        ok = isinstance(loss, numbers.Real) and not isinstance(loss, bool) and math.isfinite(loss)
        d.status = "REVIEW" if ok else "CRASHED"
        d.exceptions[budget] = job.exception
        self.num_running -= 1

    def get_next_run(self) -> Optional[Tuple[ConfigId, Dict[str, Any], float]]:
        """``(config_id, config, budget)`` to run next, or None while the stage waits for results
        (or when the iteration is finished)."""
        if self.is_finished:
            return None
        for config_id, d in self.data.items():
            if d.status == "QUEUED":
                d.status = "RUNNING"
                self.num_running += 1
                return config_id, d.config, d.budget
        if self.actual_num_configs[self.stage] < self.num_configs[self.stage]:
            self.add_configuration()
            return self.get_next_run()
        if self.num_running == 0:  # the stage is complete
            self.process_results()
            return self.get_next_run()
        return None

    def _advance_to_next_stage(self, config_ids: List[ConfigId], losses: np.ndarray) -> np.ndarray:
        """One bool per configuration of the finished stage: does it advance?"""
        raise NotImplementedError(f"_advance_to_next_stage not implemented for {type(self).__name__}")

    def process_results(self) -> None:
        """End the current stage: advance the configurations chosen by
        :meth:`_advance_to_next_stage` (only those whose run succeeded compete)."""
        self.stage += 1
        config_ids = [cid for cid, d in self.data.items() if d.status == "REVIEW"]
        if self.stage >= len(self.num_configs):
            self.finish_up()
            return
        if len({self.data[cid].budget for cid in config_ids}) > 1:
            raise RuntimeError("Not all configurations have the same budget!")
        budget = self.budgets[self.stage - 1]
        losses = np.array([self.data[cid].results[budget]["loss"] for cid in config_ids], dtype=float)
        advance = self._advance_to_next_stage(config_ids, losses)
        for cid, go in zip(config_ids, advance):
            d = self.data[cid]
            if go:
                self.logger.debug(
                    "ITERATION: advancing config %s to budget %s", cid, self.budgets[self.stage]
                )
                d.status = "QUEUED"
                d.budget = self.budgets[self.stage]
                self.actual_num_configs[self.stage] += 1
            else:
                d.status = "TERMINATED"

    def finish_up(self) -> None:
        self.is_finished = True
        for d in self.data.values():
            if d.status not in ("TERMINATED", "REVIEW", "CRASHED"):
                raise RuntimeError(f"configuration has not finished yet (status {d.status})")
            d.status = "COMPLETED"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(iteration={self.HPB_iter}, "
            f"stage={self.stage}/{len(self.num_configs) - 1}, "
            f"num_configs={self.num_configs}, running={self.num_running})"
        )


class WarmStartIteration(BaseIteration):
    """The runs of an earlier Result, imported as iteration -1 (config_ids ``(-1, 0, i)``),
    their time stamps shifted so that the last one finished at the start of the new run.
    An HpBandSter-style ``config_generator`` (with ``new_result``) is fed the runs as well."""

    def __init__(self, Result: Any, config_generator: Any = None):
        id2conf = Result.get_id2config_mapping()
        runs = Result.get_all_runs()
        delta_t = -max((r.time_stamps["finished"] for r in runs), default=0.0)
        super().__init__(-1, [len(id2conf)], [None], None)
        from smacish.compat.hpbandster.core.dispatcher import Job

        new_result = getattr(config_generator, "new_result", None)
        for i, old_id in enumerate(id2conf):
            entry = id2conf[old_id]
            new_id = self.add_configuration(config=entry["config"], config_info=entry.get("config_info", {}))
            for r in Result.get_runs_by_id(old_id):
                job = Job(new_id, config=entry["config"], budget=r.budget)
                job.result = {"loss": r.loss, "info": r.info}
                job.exception = r.error_logs
                job.timestamps = {k: v + delta_t for k, v in r.time_stamps.items()}
                self.register_result(job, skip_sanity_checks=True)
                if callable(new_result):
                    new_result(job, update_model=(i == len(id2conf) - 1))
        self.is_finished = True

    def fix_timestamps(self, time_ref: float) -> None:
        """Shift the time stamps by ``time_ref`` (the start of the new run)."""
        for d in self.data.values():
            for stamps in d.time_stamps.values():
                for k in stamps:
                    stamps[k] += time_ref
