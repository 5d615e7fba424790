"""ParallelScheduler: as many successive-halving instances as the workers need, one RunHistory.

Decision logic only: no clock, no thread, no network. The runner asks ``get_next_trial`` with
the number of workers it has and tells every result to ``process_result``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
from ConfigSpace import Configuration

from smacish._io import config_key
from smacish._pareto import random_weights
from smacish._seeding import Seed, as_seed
from smacish.intensifiers._asha import AsyncBracket, next_bracket
from smacish.intensifiers._brackets import Schedule, stage_budgets
from smacish.intensifiers._settings import (asynchronous_errors, default_budgets, rung_problems, schedule_errors,
                                            setting_errors)
from smacish.intensifiers._sh_run import Pair, SHRun, _Member, trial_from_state, trial_state
from smacish.runhistory import RunHistory
from smacish.trial import ConfigId, TrialInfo, TrialInfoIntent, TrialValue

BRACKET_ORDERS = ("cycle", "least_aggressive")
ASYNC_REUSE_LIMIT = 100  # asynchronous mode: new configurations in a row that ran already -> WAIT


class _Instance:
    """One intensifier instance: runs its iterations one after the other."""

    def __init__(self, index: int, scheduler: "ParallelScheduler", run: Optional[SHRun] = None):
        self.index = index
        self.scheduler = scheduler
        self.run = run if run is not None else scheduler._start_run(self)

    def rank(self) -> Tuple[int, int, int]:
        """Sort key: highest stage first, then more trials launched, then the older instance."""
        return (-self.run.stage, -self.run.n_launched, self.index)

    def next_trial(self) -> Optional[TrialInfo]:
        info = self.run.next_trial()
        # Reused results can finish a run at once. In a small space where every configuration
        # has every budget already, every run would: stop after one full cycle of brackets
        # (nothing left to run; the scheduler answers WAIT) instead of looping forever.
        restarts = 0
        while info is None and self.run.finished and restarts < len(self.scheduler.schedules):
            self.scheduler._owner.pop(self.run.iteration, None)
            self.run = self.scheduler._start_run(self)
            restarts += 1
            info = self.run.next_trial()
        return info


class ParallelScheduler:
    """Races configurations on growing budgets with as many successive-halving instances as
    there are workers to keep busy, all writing into one RunHistory.

    Serves the instance in the highest stage first (ties: more trials launched in its current
    iteration, then the older instance); adds an instance only when every existing one waits
    and fewer than ``n_workers`` exist; otherwise answers WAIT. :class:`SuccessiveHalving` and
    :class:`Hyperband` fix the bracket schedule; a ``ParallelScheduler`` of its own takes
    ``schedules``: brackets of your own, each a list of ``(n_configs, budget)`` stages, cycled
    through in order (``min_budget``/``max_budget`` default to their smallest and largest
    budget; other arguments as :class:`Hyperband`'s; synchronous only).

    Budgets are real-valued (``min_budget``/``max_budget``: epochs, data fraction) or, with
    ``instances``, a number of instance-seed pairs. With ``informed_starts`` (the default), a
    bracket that starts above the smallest budget waits for a result on the budget below its
    start, and the next bracket that may start stands in; ``bracket_order`` says which of a
    round's brackets starts first (see :class:`Hyperband`).

    >>> sched = ParallelScheduler(schedules=[[(8, 1), (2, 4), (1, 16)], [(2, 16)]])
    >>> sched.min_budget, sched.max_budget, sched.budgets
    (1.0, 16.0, [1.0, 4.0, 16.0])
    """

    def __init__(
        self,
        min_budget: Optional[float] = None,
        max_budget: Optional[float] = None,
        eta: float = 3,
        instances: Optional[Sequence[str]] = None,
        n_seeds: int = 1,
        instance_order: Optional[str] = "shuffle_once",
        deterministic: bool = False,
        num_initial_challengers: Optional[int] = None,
        incumbent_selection: str = "highest_executed_budget",
        min_chall: int = 1,
        cutoff: Optional[float] = None,
        run_obj_time: bool = False,
        adaptive_capping_slackfactor: float = 1.2,
        asynchronous: bool = False,
        schedules: Optional[Sequence[Sequence[Tuple[int, float]]]] = None,
        informed_starts: bool = True,
        bracket_order: str = "least_aggressive",
    ):
        own = type(self) is ParallelScheduler
        if own and schedules is None:
            raise TypeError("a ParallelScheduler of its own needs schedules=[[(n_configs, budget), ...], ...] (its "
                            "brackets); or use smacish.SuccessiveHalving(...) or smacish.Hyperband(...)")
        if not own and schedules is not None:
            raise TypeError(f"{type(self).__name__} sizes its brackets itself; for brackets of your own use "
                            "smacish.ParallelScheduler(schedules=...)")
        instances = list(instances) if instances is not None else None
        min_budget, max_budget = default_budgets(min_budget, max_budget, instances, n_seeds)
        errors = schedule_errors(schedules, min_budget, max_budget, instances is not None) if own else []
        if own and not errors:
            budgets_given = [float(b) for bracket in schedules for _, b in bracket]
            min_budget = min(budgets_given) if min_budget is None else min_budget
            max_budget = max(budgets_given) if max_budget is None else max_budget
        if errors:  # the budgets come from the brackets: nothing else can be checked yet
            raise ValueError("ParallelScheduler: " + "; ".join(errors))
        if own and asynchronous:
            errors.append("asynchronous=True with schedules of your own: asynchronous rungs are Hyperband's; "
                          "use smacish.Hyperband(..., asynchronous=True)")
        errors += setting_errors(min_budget, max_budget, eta, instances, n_seeds, instance_order, deterministic,
                                 num_initial_challengers, incumbent_selection, min_chall, cutoff,
                                 adaptive_capping_slackfactor)
        errors += self._check_extra(num_initial_challengers)
        errors += asynchronous_errors(asynchronous, num_initial_challengers, cutoff, run_obj_time)
        if not isinstance(informed_starts, bool):
            errors.append(f"informed_starts is {informed_starts!r}, but must be True or False")
        if bracket_order not in BRACKET_ORDERS:
            errors.append(f"bracket_order is {bracket_order!r}, but must be one of {', '.join(map(repr, BRACKET_ORDERS))}")
        if not errors and not own:
            errors += rung_problems(min_budget, max_budget, eta, instances is not None)
        if errors:
            raise ValueError(f"{type(self).__name__}: " + "; ".join(errors))

        self.settings = {  # the constructor's arguments, JSON-ready: saved with a run
            "min_budget": min_budget, "max_budget": max_budget, "eta": eta, "instances": instances,
            "n_seeds": n_seeds, "instance_order": instance_order, "deterministic": deterministic,
            "num_initial_challengers": num_initial_challengers,
            "incumbent_selection": incumbent_selection, "min_chall": min_chall, "cutoff": cutoff,
            "run_obj_time": run_obj_time, "adaptive_capping_slackfactor": adaptive_capping_slackfactor,
        }
        if asynchronous:  # only when set: a synchronous run's settings stay as they were
            self.settings["asynchronous"] = True
        self.settings["informed_starts"] = informed_starts  # a run directory without it: False
        self.settings["bracket_order"] = bracket_order  # a run directory without it: "cycle"
        self._given = None if schedules is None else [[(int(n), float(b)) for n, b in bracket] for bracket in schedules]
        if self._given is not None:
            self.settings["schedules"] = [[list(stage) for stage in bracket] for bracket in self._given]
        self.asynchronous = asynchronous
        self.informed_starts = informed_starts
        self.bracket_order = bracket_order
        self.min_budget = float(min_budget)
        self.max_budget = float(max_budget)
        self.eta = eta
        self.instances = instances
        self.n_seeds = n_seeds
        self.instance_order = instance_order
        self.deterministic = deterministic
        self.num_initial_challengers = num_initial_challengers
        self.incumbent_selection = incumbent_selection
        self.min_chall = min_chall
        self.cutoff = None if cutoff is None else float(cutoff)
        self.run_obj_time = run_obj_time
        self.adaptive_capping_slackfactor = float(adaptive_capping_slackfactor)
        self.schedules: List[Schedule] = self._make_schedules()
        self.budgets = (stage_budgets(self.min_budget, self.max_budget, eta, integer=self.instance_mode)
                        if self._given is None else sorted({b for bracket in self.schedules for _, b in bracket}))
        self._bound = False

    # ------------------------------------------------------------------ subclasses
    def _check_extra(self, num_initial_challengers: Optional[int]) -> List[str]:
        return []

    def _make_schedules(self) -> List[Schedule]:
        """The brackets, each a list of ``(n_configs, budget)`` stages (SH and HB compute theirs)."""
        return [list(bracket) for bracket in self._given]

    # ------------------------------------------------------------------ set-up
    @property
    def instance_mode(self) -> bool:
        """True when budgets count instance-seed pairs rather than a real-valued resource."""
        return self.instances is not None

    @property
    def n_instances(self) -> int:
        """Intensifier instances created so far (asynchronous mode: brackets)."""
        if not self._bound:
            return 0
        return len(self._brackets) if self.asynchronous else len(self._instances)

    @property
    def bound(self) -> bool:
        """Whether an Optimizer uses this intensifier already (each needs its own)."""
        return self._bound

    def bind(self, runhistory: RunHistory, selector, seed: Seed) -> None:
        """Attach the shared RunHistory and the config selector; done once, by the Optimizer.
        ``seed``: an int, a ``numpy.random.Generator`` or a ``RandomState`` (see ``Optimizer``)."""
        if self._bound:
            raise ValueError(
                f"this {type(self).__name__} already belongs to an Optimizer; create a new one "
                "for each Optimizer"
            )
        seed = as_seed(seed)
        self._bound = True
        self._runhistory = runhistory
        self._selector = selector
        self._rng = np.random.default_rng(seed)
        self._seed = seed
        if self.deterministic:
            self._seeds = [0]
        else:
            self._seeds = [int(s) for s in self._rng.integers(0, 2**31 - 1, size=self.n_seeds)]
        self._instance_list = list(self.instances) if self.instances else [None]
        if self.instance_mode and self.instance_order == "shuffle_once":
            self._instance_list = [self._instance_list[i] for i in self._rng.permutation(len(self._instance_list))]
        self._instances: List[_Instance] = []
        self._inflight: Dict[tuple, List[Tuple[SHRun, TrialInfo]]] = {}
        self._owner: Dict[int, _Instance] = {}  # iteration -> instance
        self._n_iterations = 0
        self._cycle = 0  # brackets of the cycle started (with informed_starts, <= _n_iterations)
        self._round: List[int] = []  # the brackets of the current round of the cycle started so far
        self._n_workers = 1  # as the latest get_next_trial was asked
        self._known: List[Tuple[Configuration, Optional[float]]] = []  # enqueued, not yet started
        self._brackets: List[AsyncBracket] = []  # asynchronous mode: one per bracket schedule
        self._entered: List[int] = [0] * len(self.schedules)  # new configurations per bracket

    def _pairs(self) -> List[Pair]:
        order = self._instance_list
        if self.instance_mode and self.instance_order == "shuffle":
            order = [order[i] for i in self._rng.permutation(len(order))]
        return [(inst, seed) for seed in self._seeds for inst in order]

    def _next_bracket(self) -> int:
        """The index of the bracket a new SH run races. One cycle of brackets for the whole run,
        shared by every instance, so that with more workers Hyperband runs the same mix of
        brackets as serially, only sooner: each round of the cycle starts every bracket once,
        in cycle order, or with ``bracket_order="least_aggressive"`` and several workers, the
        one with the largest first budget among those that may start."""
        n = len(self.schedules)
        todo = [i for i in range(n) if i not in self._round]
        index = todo[0]
        if self.informed_starts and not self.instance_mode:
            allowed = [i for i in todo if self._informed(self.schedules[i])]
            if allowed and self.bracket_order == "least_aggressive" and self._n_workers > 1:
                index = max(allowed, key=lambda i: self.schedules[i][0][1])
            elif not self._informed(self.schedules[index]):
                # it waits and keeps its place in the round; the next bracket that may start stands in
                stand_in = next((i for i in ((index + k) % n for k in range(1, n)) if self._informed(self.schedules[i])),
                                None)
                if stand_in is not None:
                    return stand_in
        self._cycle += 1
        self._round = [] if len(self._round) + 1 == n else self._round + [index]
        return index

    def _start_run(self, instance: _Instance) -> SHRun:
        schedule = self.schedules[self._next_bracket()]
        run = SHRun(self._n_iterations, schedule, self._pairs(), self)
        for config, budget in [kb for kb in self._known if kb[1] is not None and kb[1] == schedule[0][1]]:
            if run.n_to_sample > 0:  # enqueued for this bracket's first budget: they go first
                self._known.remove((config, budget))
                run.add_known(config)
        self._owner[run.iteration] = instance
        self._n_iterations += 1
        return run

    def _informed(self, schedule: Schedule) -> bool:
        """Whether a bracket may start: with ``informed_starts`` (real-valued budgets), a bracket
        whose first budget is above the smallest starts only once a result exists on the budget
        just below it (or higher), or a configuration was enqueued for it. The selector then proposes its
        configurations knowing how they do near that budget; at the start of a parallel run
        it knows nothing there yet (serially every earlier bracket has run to the top)."""
        first = schedule[0][1]
        below = [b for b in self.budgets if b < first * (1 - 1e-9)]
        if not below or any(b is not None and b == first for _, b in self._known):
            return True
        level = self._runhistory.highest_level
        return level is not None and level >= below[-1] * (1 - 1e-9)

    # ------------------------------------------------------------------ ask / tell
    def get_next_trial(self, n_workers: int = 1) -> Tuple[TrialInfoIntent, Optional[TrialInfo]]:
        """RUN the next trial, or WAIT when every instance waits and ``n_workers`` exist
        (asynchronous mode: RUN always, unless the space is used up)."""
        if self.asynchronous:
            info = self._next_async_trial()
            return (TrialInfoIntent.RUN, info) if info is not None else (TrialInfoIntent.WAIT, None)
        self._n_workers = n_workers
        for instance in sorted(self._instances, key=_Instance.rank):
            info = instance.next_trial()
            if info is not None:
                return TrialInfoIntent.RUN, info
        if len(self._instances) < n_workers:
            instance = _Instance(len(self._instances), self)
            self._instances.append(instance)
            info = instance.next_trial()
            if info is not None:
                return TrialInfoIntent.RUN, info
        return TrialInfoIntent.WAIT, None

    def _next_async_trial(self) -> Optional[TrialInfo]:
        """Asynchronous mode: a queued trial (instance budgets: the rest of a configuration's
        pairs), else the best promotion (the highest rung it goes to, ties to the most
        aggressive bracket), else a new configuration in the bracket :func:`next_bracket`
        names. Gives up (None) after ``ASYNC_REUSE_LIMIT`` new configurations in a row whose
        every trial had run already: the space is used up."""
        if not self._brackets:
            self._n_iterations = len(self.schedules)
            self._brackets = [AsyncBracket(i, schedule, self._pairs(), self, self.eta)
                              for i, schedule in enumerate(self.schedules)]
        for config, budget in [kb for kb in self._known if kb[1] is not None]:
            bracket = next(b for b in self._brackets if b.rung_index(budget) is not None)
            bracket.add_new(config, bracket.rung_index(budget))
            self._known.remove((config, budget))
        n_reused = 0
        while n_reused < ASYNC_REUSE_LIMIT:
            for bracket in self._brackets:
                info = bracket.pop_queued()
                if info is not None:
                    return info
            promotions = [(bracket, found) for bracket in self._brackets
                          for found in [bracket.best_promotion()] if found is not None]
            if promotions:
                bracket, (rung, config_id) = max(
                    promotions, key=lambda p: (p[0].budgets[p[1][0]], -p[0].iteration))
                bracket.promote(config_id)
                continue
            s = next_bracket(self._entered, [schedule[0][0] for schedule in self.schedules])
            self._entered[s] += 1
            self._brackets[s].add_new(self.sample_config())
            n_reused += 1
        return None

    def process_result(self, info: TrialInfo, value: TrialValue) -> None:
        """Route a result to the run that launched the trial (and any run reusing it)."""
        holders = self._inflight.pop(self._trial_key(info), None)
        if holders is None:
            raise ValueError(f"trial {info.key} was not launched by this scheduler, or was told already")
        cost = self._runhistory.effective_cost(value)
        for run, held in holders:
            run.record(held, value, cost)
            self._after_record(run)

    def _after_record(self, run: SHRun) -> None:
        if run.finished:
            instance = self._owner.pop(run.iteration)
            if instance.run is run:
                instance.run = self._start_run(instance)

    def enqueue(self, config: Configuration, budget: Optional[float] = None) -> None:
        """Run ``config`` before any configuration the selector proposes: as the next new
        configuration (``budget=None``: the first stage of the run that draws it), or on
        ``budget``, one of :attr:`budgets`. Synchronously, it waits for a run of the bracket
        that starts on that budget; asynchronously, it enters that rung of the most aggressive
        bracket that has it at the next ask. Raises ValueError (nothing changed) for a budget
        no run can start on."""
        if budget is not None:
            budget = self._known_budget(budget)
        self._known.append((config, budget))

    def _known_budget(self, budget: Any) -> float:
        if isinstance(budget, bool) or not isinstance(budget, (int, float, np.integer, np.floating)):
            raise ValueError(f"budget is {budget!r}, but must be None or one of the budgets {self.budgets}")
        match = [b for b in self.budgets if np.isclose(b, float(budget), rtol=1e-9, atol=0)]
        if not match:
            raise ValueError(f"budget is {budget!r}, but must be None or one of the budgets {self.budgets}")
        starts = [schedule[0][1] for schedule in self.schedules]
        if not self.asynchronous and match[0] not in starts:
            raise ValueError(
                f"budget is {budget!r}, but every run of this synchronous {type(self).__name__} starts on "
                f"{sorted(set(starts))}; pass one of those, budget=None, or use asynchronous=True (which can "
                "start a configuration on any budget)")
        return match[0]

    @property
    def queued(self) -> List[Tuple[Configuration, Optional[float]]]:
        """Enqueued configurations not started yet, with their budgets (None: the first stage)."""
        return list(self._known)

    # ------------------------------------------------------------------ called by runs
    def sample_config(self) -> Configuration:
        for config, budget in self._known:
            if budget is None:  # an enqueued configuration comes before any proposal
                self._known.remove((config, budget))
                return config
        pending = [holders[0][1].config for holders in self._inflight.values()]
        return self._selector.propose(self._runhistory, pending)

    @staticmethod
    def _trial_key(info: TrialInfo) -> tuple:
        return (config_key(info.config), info.instance, info.seed, info.budget)

    def claim(self, run: SHRun, info: TrialInfo) -> bool:
        """True if ``info`` must be launched; False if its result is known or on its way."""
        value = self._runhistory.get(info)
        if value is not None:
            run.record(info, value, self._runhistory.effective_cost(value))
            return False
        key = self._trial_key(info)
        holders = self._inflight.get(key)
        if holders is not None:
            holders.append((run, info))
            return False
        self._inflight[key] = [(run, info)]
        return True

    def promotion_weights(self, iteration: int, n_objectives: int) -> np.ndarray:
        """Several objectives: a synchronous SH run promotes by ParEGO's scalarisation under
        weights of its own, drawn for its iteration (the same after a resume). Measured on
        development seeds against non-dominated sorting with crowding distance (which the
        asynchronous rungs use): ahead at a tenth of the budget, level at its end."""
        return random_weights(np.random.default_rng([self._seed, iteration]), n_objectives)

    def trial_cutoff(self, run: SHRun, member: _Member) -> Optional[float]:
        """The cutoff, capped adaptively when runtime is the objective."""
        if self.cutoff is None or not self.run_obj_time:
            return self.cutoff
        to_beat = run.cost_to_beat(member)
        if to_beat is None:
            return self.cutoff
        spent = member.runtime(run.stage, self.instance_mode)
        return min(self.cutoff, self.adaptive_capping_slackfactor * to_beat - spent)

    # ------------------------------------------------------------------ snapshots
    def get_state(self, ref: Callable[[Configuration], int]) -> Dict[str, Any]:
        """Everything the next decisions depend on besides the RunHistory and the selector,
        JSON-ready; configurations as the indices ``ref(config)`` gives."""
        return {
            "rng": self._rng.bit_generator.state,
            "seeds": self._seeds,
            "instance_list": self._instance_list,
            "n_iterations": self._n_iterations,
            "cycle": self._cycle,
            "round": self._round,
            "n_workers": self._n_workers,  # a run that ends at a tell starts the next as the last ask planned
            "known": [[ref(config), budget] for config, budget in self._known],
            "runs": [instance.run.get_state(ref) for instance in self._instances],
            **({"brackets": [bracket.get_state(ref) for bracket in self._brackets], "entered": self._entered}
               if self.asynchronous else {}),
            # trials in flight, in launch order; each with the runs waiting for it
            "inflight": [[[run.iteration, trial_state(info, ref)] for run, info in holders]
                         for holders in self._inflight.values()],
        }

    def set_state(self, state: Dict[str, Any], config_of: Callable[[int], Configuration]) -> None:
        """Take the state :meth:`get_state` gave (on a scheduler bound to the same RunHistory)."""
        self._rng.bit_generator.state = state["rng"]
        self._seeds = [int(s) for s in state["seeds"]]
        self._instance_list = list(state["instance_list"])
        self._n_iterations = int(state["n_iterations"])
        self._cycle = int(state.get("cycle", self._n_iterations))
        self._round = [int(i) for i in state.get("round", range(self._cycle % len(self.schedules)))]
        self._n_workers = int(state.get("n_workers", 1))
        self._known = [(config_of(i), None if b is None else float(b)) for i, b in state.get("known", [])]
        self._instances, self._owner = [], {}
        for index, run_state in enumerate(state["runs"]):
            instance = _Instance(index, self, SHRun.from_state(run_state, self, config_of))
            self._instances.append(instance)
            self._owner[instance.run.iteration] = instance
        runs = {instance.run.iteration: instance.run for instance in self._instances}
        if self.asynchronous:
            self._brackets = [AsyncBracket.from_state(data, self, self.eta, config_of) for data in state["brackets"]]
            self._entered = [int(n) for n in state["entered"]]
            runs = {bracket.iteration: bracket for bracket in self._brackets}
        self._inflight = {}
        for holders in state["inflight"]:
            held = [(runs[iteration], trial_from_state(row, config_of)) for iteration, row in holders]
            self._inflight[self._trial_key(held[0][1])] = held

    # ------------------------------------------------------------------ reading
    def live_config_ids(self, among: Optional[Set[ConfigId]] = None) -> Set[ConfigId]:
        """The ``config_id`` of every configuration (of ``among``, if given: only their runs are
        looked at) that may still run a trial: queued, running, or in a stage of an unfinished
        run from which it can be promoted (asynchronous mode: below the top rung and not failed,
        since a rung's top 1/eta grows with its results)."""
        iterations = None if among is None else {cid[0] for cid in among}
        live: Set[ConfigId] = set()
        for instance in self._instances:
            run = instance.run
            if not run.finished and (iterations is None or run.iteration in iterations):
                last = run.stage == len(run.schedule) - 1
                live.update(m.config_id for m in run.members if not last)
                live.update(info.config_id for info in run.queue)
                live.update(key[0] for key in run.pending)
        for bracket in self._brackets:
            if iterations is not None and bracket.iteration not in iterations:
                continue
            top = len(bracket.schedule) - 1
            ids = bracket.rung_of if among is None else [cid for cid in among if cid in bracket.rung_of]
            live.update(cid for cid in ids
                        if bracket.rung_of[cid] < top and not bracket.members[cid].failed.get(bracket.rung_of[cid], False))
            live.update(info.config_id for info in bracket.queue)
            live.update(key[0] for key in bracket.pending)
        return live if among is None else live & among

    def pending_trials(self) -> List[TrialInfo]:
        """Trials launched and not yet told."""
        return [holders[0][1] for holders in self._inflight.values()]

    def __repr__(self) -> str:
        pairs = f", instances={len(self.instances)}, n_seeds={self.n_seeds}" if self.instances is not None else ""
        return (
            f"{type(self).__name__}(min_budget={self.min_budget:g}, max_budget={self.max_budget:g}, "
            f"eta={self.eta}{pairs}" + (", asynchronous)" if self.asynchronous else
                                        f"; {self.n_instances} SH instance(s))")
        )
