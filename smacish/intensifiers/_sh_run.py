"""One successive-halving run (one bracket): its stage, its members and what it still has to run.

The state is explicit (no generator), so a single decision can be tested and the run resumed.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Deque, Dict, List, Optional, Protocol, Sequence, Tuple

from ConfigSpace import Configuration

from smacish._pareto import pareto_order
from smacish.intensifiers._brackets import Schedule
from smacish.trial import ConfigId, StatusType, TrialInfo, TrialValue, key_from_json, key_to_json

Pair = Tuple[Optional[str], int]  # (instance, seed)


def trial_state(info: TrialInfo, ref: Callable[[Configuration], int]) -> list:
    """A TrialInfo as a JSON-ready row, its configuration as the index ``ref`` gives."""
    cid = list(info.config_id) if info.config_id is not None else None
    return [ref(info.config), cid, info.budget, info.instance, info.seed, info.cutoff]


def trial_from_state(row: list, config_of: Callable[[int], Configuration]) -> TrialInfo:
    config, cid, budget, instance, seed, cutoff = row
    return TrialInfo(config_of(config), budget, instance, seed, tuple(cid) if cid is not None else None, cutoff)


def launch(run: Any, info: TrialInfo, cutoff: Optional[float]) -> Optional[TrialInfo]:
    """Launch ``info`` (with its ``cutoff``) from ``run`` (an SH run or an asynchronous bracket):
    counted and pending there; the trial to hand out, or None when its result is known or on its
    way (the scheduler's ``claim`` recorded it, or will)."""
    if cutoff is not None:
        info = TrialInfo(info.config, info.budget, info.instance, info.seed, info.config_id, cutoff)
    run.pending.add(info.key)
    run.n_launched += 1
    return info if run.scheduler.claim(run, info) else None


def best_first(members: List[Any], cost_of: Callable[[Any], Any]) -> List[Any]:
    """``members`` (each with a ``config_id``) best first by ``cost_of``: lowest cost, ties by
    config_id; with several objectives (tuple costs) by non-dominated sorting and crowding
    distance (:func:`~smacish._pareto.pareto_order`), ties by config_id."""
    members = sorted(members, key=lambda m: m.config_id)
    costs = [cost_of(m) for m in members]
    if costs and isinstance(costs[0], tuple):
        return [members[i] for i in pareto_order(costs)]
    return [members[i] for i in sorted(range(len(members)), key=lambda i: costs[i])]


def _cost_from_json(cost: Any) -> Any:
    return tuple(float(c) for c in cost) if isinstance(cost, list) else float(cost)


class _Member:
    """A configuration inside one run: its id and its results, stage by stage."""

    __slots__ = ("config", "config_id", "costs", "runtimes", "failed", "capped")

    def __init__(self, config: Configuration, config_id: ConfigId):
        self.config = config
        self.config_id = config_id
        self.costs: Dict[int, List[float]] = {}  # stage -> costs of its trials there
        self.runtimes: Dict[int, float] = {}  # stage -> summed cost (runtime objective)
        self.failed: Dict[int, bool] = {}
        self.capped = False

    def record(self, stage: int, cost: Any, ok: bool) -> None:
        self.costs.setdefault(stage, []).append(cost)
        if not isinstance(cost, tuple):  # several objectives have no runtime to cap
            self.runtimes[stage] = self.runtimes.get(stage, 0.0) + cost
        if not ok:
            self.failed[stage] = True

    def stage_cost(self, stage: int, cumulative: bool) -> Any:
        """Mean cost at ``stage`` (a tuple of means with several objectives); with instance
        budgets, over every pair so far."""
        if cumulative:
            costs = [c for s in range(stage + 1) for c in self.costs.get(s, ())]
        else:
            costs = self.costs.get(stage, [])
        if costs and isinstance(costs[0], tuple):
            return tuple(sum(column) / len(costs) for column in zip(*costs))
        return sum(costs) / len(costs)

    def runtime(self, stage: int, cumulative: bool) -> float:
        """Summed runtime at ``stage``; with instance budgets, over every pair so far (what
        promotion ranks by, so that capping judges the same thing)."""
        if cumulative:
            return sum(self.runtimes.get(s, 0.0) for s in range(stage + 1))
        return self.runtimes.get(stage, 0.0)

    def get_state(self, ref: Callable[[Configuration], int]) -> Dict[str, Any]:
        return {"config": ref(self.config), "config_id": list(self.config_id),
                "costs": [[stage, costs] for stage, costs in self.costs.items()],
                "runtimes": [[stage, t] for stage, t in self.runtimes.items()],
                "failed": [stage for stage, failed in self.failed.items() if failed],
                "capped": self.capped}

    @classmethod
    def from_state(cls, state: Dict[str, Any], config_of: Callable[[int], Configuration]) -> "_Member":
        member = cls(config_of(state["config"]), tuple(state["config_id"]))
        member.costs = {int(stage): [_cost_from_json(c) for c in costs] for stage, costs in state["costs"]}
        member.runtimes = {int(stage): float(t) for stage, t in state["runtimes"]}
        member.failed = {int(stage): True for stage in state["failed"]}
        member.capped = bool(state["capped"])
        return member

    def promotable(self, stage: int, n_trials: int) -> bool:
        return (
            not self.capped
            and not self.failed.get(stage, False)
            and len(self.costs.get(stage, ())) == n_trials
        )


class TrialSource(Protocol):
    """What an :class:`SHRun` needs from whoever runs it (the ``ParallelScheduler``, or the
    HpBandSter layer's scheduler): new configurations, the cutoff of a trial, and the right to
    launch it."""

    instance_mode: bool  # budgets are (instance, seed) pairs, not numbers

    def sample_config(self) -> Configuration:
        """A new configuration for the first stage."""

    def trial_cutoff(self, run: "SHRun", member: Any) -> Optional[float]:
        """The time limit of ``member``'s next trial in ``run`` (None: none)."""

    def claim(self, run: "SHRun", info: TrialInfo) -> bool:
        """Whether ``run`` may launch ``info`` (False: another run holds that trial)."""


class SHRun:
    """The state of one successive-halving iteration.

    ``schedule`` lists ``(n_configs, budget)`` per stage. New configurations are drawn lazily
    (one per launch) through the scheduler; when a stage ends, the best ``n`` of the next stage
    are promoted, and a next stage left short by crashes is refilled with fresh configurations.
    """

    def __init__(self, iteration: int, schedule: Schedule, pairs: Sequence[Pair], scheduler: "TrialSource"):
        self.iteration = iteration
        self.schedule = schedule
        self.pairs = list(pairs)  # instance mode: the ordered instance-seed pairs
        self.scheduler = scheduler
        self.stage = 0
        self.members: List[_Member] = []
        self.by_id: Dict[ConfigId, _Member] = {}
        self.queue: Deque[TrialInfo] = deque()
        self.n_to_sample = schedule[0][0]
        self.n_sampled = 0  # running index of the next fresh configuration
        self.n_launched = 0  # trials launched in this iteration
        self.pending: set = set()  # keys of launched, unfinished trials
        self.finished = False

    # ------------------------------------------------------------------ the stage's trials
    @property
    def budget(self) -> float:
        return self.schedule[self.stage][1]

    def _stage_pairs(self, stage: int) -> List[Pair]:
        if self.scheduler.instance_mode:
            start = 0 if stage == 0 else int(self.schedule[stage - 1][1])
            return self.pairs[start:int(self.schedule[stage][1])]
        return self.pairs

    def _member_pairs(self, member: _Member, stage: int) -> List[Pair]:
        """The pairs ``member`` runs at ``stage``: only the new ones once promoted, but every
        pair of the stage's budget for a configuration that enters there (a refill)."""
        if self.scheduler.instance_mode and member.config_id[1] == stage:
            return self.pairs[:int(self.schedule[stage][1])]
        return self._stage_pairs(stage)

    def trials_per_member(self, stage: int) -> int:
        return len(self._stage_pairs(stage))

    def _enqueue(self, member: _Member) -> None:
        budget = None if self.scheduler.instance_mode else self.budget
        for instance, seed in self._member_pairs(member, self.stage):
            self.queue.append(
                TrialInfo(member.config, budget=budget, instance=instance, seed=seed,
                          config_id=member.config_id)
            )

    def _add_member(self, config: Configuration) -> _Member:
        member = _Member(config, (self.iteration, self.stage, self.n_sampled))
        self.n_sampled += 1
        self.members.append(member)
        self.by_id[member.config_id] = member
        return member

    def add_known(self, config: Configuration) -> None:
        """A configuration the user gave (``Optimizer.enqueue``) takes a place of the first stage."""
        if self.stage != 0 or self.n_to_sample <= 0:
            raise ValueError(f"iteration {self.iteration} has no first-stage place left")
        self.n_to_sample -= 1
        self._enqueue(self._add_member(config))

    # ------------------------------------------------------------------ asking
    def can_launch(self) -> bool:
        return not self.finished and (bool(self.queue) or self.n_to_sample > 0)

    def next_trial(self) -> Optional[TrialInfo]:
        """The next trial to run, or None when the stage has launched everything."""
        scheduler = self.scheduler
        while self.can_launch():
            if not self.queue:
                self.n_to_sample -= 1
                self._enqueue(self._add_member(scheduler.sample_config()))
            info = self.queue.popleft()
            member = self.by_id[info.config_id]
            cutoff = scheduler.trial_cutoff(self, member)
            if cutoff is not None and cutoff <= 0:
                self._cap(member, info)
                continue
            launched = launch(self, info, cutoff)
            if launched is not None:
                return launched
            # the same trial was already run (a repeated configuration): its result is reused
        return None

    def _cap(self, member: _Member, info: TrialInfo) -> None:
        """Adaptive capping: the member cannot beat the configuration it must; drop its trials."""
        member.capped = True
        self.queue = deque(t for t in self.queue if t.config_id != member.config_id)
        self._maybe_end_stage()

    # ------------------------------------------------------------------ telling
    def record(self, info: TrialInfo, value: TrialValue, cost: float) -> None:
        """Take the result of one of this run's trials."""
        self.pending.discard(info.key)
        ok = value.status is StatusType.SUCCESS
        self.by_id[info.config_id].record(self.stage, cost, ok)
        self._maybe_end_stage()

    def _maybe_end_stage(self) -> None:
        if self.queue or self.n_to_sample > 0 or self.pending:
            return
        if self.stage == len(self.schedule) - 1:
            self.finished = True
            return
        n_next = self.schedule[self.stage + 1][0]
        cumulative = self.scheduler.instance_mode
        ranked = best_first(
            [m for m in self.members if m.promotable(self.stage, len(self._member_pairs(m, self.stage)))],
            lambda m: m.stage_cost(self.stage, cumulative),
        )
        promoted = sorted(ranked[:n_next], key=lambda m: m.config_id[2])
        self.stage += 1
        self.members = promoted
        for member in promoted:
            self._enqueue(member)
        self.n_to_sample = n_next - len(promoted)
        if not self.queue and self.n_to_sample == 0:  # pragma: no cover - n_next >= 1
            self._maybe_end_stage()

    # ------------------------------------------------------------------ adaptive capping
    def cost_to_beat(self, member: _Member) -> Optional[float]:
        """Summed runtime of the configuration ``member`` must beat to go on (the k-th best
        finished one, k = places in the next stage), or None if not known yet: at this stage,
        or with instance budgets over every pair so far, as promotion ranks."""
        cumulative = self.scheduler.instance_mode
        done = sorted(
            m.runtime(self.stage, cumulative)
            for m in self.members
            if m is not member and m.promotable(self.stage, len(self._member_pairs(m, self.stage)))
        )
        k = self.schedule[self.stage + 1][0] if self.stage + 1 < len(self.schedule) else 1
        return done[k - 1] if len(done) >= k else None

    # ------------------------------------------------------------------ snapshots
    def get_state(self, ref: Callable[[Configuration], int]) -> Dict[str, Any]:
        """This run as JSON-ready data; configurations as ``ref(config)`` indices."""
        return {
            "iteration": self.iteration,
            "schedule": [list(step) for step in self.schedule],
            "pairs": [list(pair) for pair in self.pairs],
            "stage": self.stage,
            "members": [member.get_state(ref) for member in self.by_id.values()],
            "current": [list(m.config_id) for m in self.members],
            "queue": [trial_state(info, ref) for info in self.queue],
            "n_to_sample": self.n_to_sample,
            "n_sampled": self.n_sampled,
            "n_launched": self.n_launched,
            "pending": [key_to_json(key) for key in self.pending],
            "finished": self.finished,
        }

    @classmethod
    def from_state(cls, state: Dict[str, Any], scheduler: "TrialSource",
                   config_of: Callable[[int], Configuration]) -> "SHRun":
        """The run :meth:`get_state` described (``config_of`` turns an index back)."""
        run = cls(state["iteration"], [tuple(step) for step in state["schedule"]],
                  [tuple(pair) for pair in state["pairs"]], scheduler)
        run.stage = state["stage"]
        for data in state["members"]:
            member = _Member.from_state(data, config_of)
            run.by_id[member.config_id] = member
        run.members = [run.by_id[tuple(cid)] for cid in state["current"]]
        run.queue = deque(trial_from_state(data, config_of) for data in state["queue"])
        run.n_to_sample = state["n_to_sample"]
        run.n_sampled = state["n_sampled"]
        run.n_launched = state["n_launched"]
        run.pending = {key_from_json(key) for key in state["pending"]}
        run.finished = state["finished"]
        return run

    def __repr__(self) -> str:
        return (
            f"SHRun(iteration={self.iteration}, stage={self.stage}/{len(self.schedule) - 1}, "
            f"launched={self.n_launched}, pending={len(self.pending)})"
        )
