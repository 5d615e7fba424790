"""Asynchronous successive halving (ASHA, Li et al., MLSys 2020): promote a configuration as
soon as it is in the top ``1/eta`` of the results its rung has so far; never wait for a rung.

Pure decision logic, like :mod:`smacish.intensifiers._sh_run`: an :class:`AsyncBracket` holds
one bracket's rungs and members, explicitly, so that a single decision can be tested and the
bracket resumed. The :class:`~smacish.intensifiers.ParallelScheduler` owns the brackets (one
for ``SuccessiveHalving``, one per Hyperband bracket) and decides which one serves next.

>>> asha_candidates([0.5, 0.2, 0.9], [True] * 3, [False] * 3, eta=3)
[1]
>>> asha_candidates([0.5, 0.2, 0.9, 0.1], [True] * 4, [False, True, False, False], eta=3)
[3]
>>> [next_bracket(entered, [9, 3, 1]) for entered in ([0, 0, 0], [3, 0, 0], [9, 3, 0])]
[0, 1, 2]
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Deque, Dict, List, Optional, Sequence, Tuple

from ConfigSpace import Configuration

from smacish._pareto import pareto_order
from smacish.intensifiers._sh_run import Pair, _Member, launch, trial_from_state, trial_state
from smacish.trial import ConfigId, StatusType, TrialInfo, TrialValue, key_from_json, key_to_json

if TYPE_CHECKING:  # pragma: no cover
    from smacish.intensifiers._sh_run import TrialSource


def n_promotable(n_results: int, eta: float) -> int:
    """How many of a rung's ``n_results`` results form its top ``1/eta``: ``floor(n / eta)``.

    >>> [n_promotable(n, 3) for n in range(1, 8)]
    [0, 0, 1, 1, 1, 2, 2]
    """
    return int(math.floor(n_results / eta + 1e-9))


def asha_candidates(costs: Sequence[float], ok: Sequence[bool], promoted: Sequence[bool], eta: float) -> List[int]:
    """The results of one rung that may be promoted now, best first (indices into the lists).

    The rung's results are ranked by (failed, cost, order of completion): a failed result
    (crashed, timed out, ...) ranks below every successful one, whatever its cost. The top
    ``floor(n / eta)`` of the ``n`` results are promotable, except those that failed or were
    promoted already.

    >>> asha_candidates([0.3, 0.1, 0.2, 0.4, 0.5, 0.6], [True, False, True, True, True, True], [False] * 6, 3)
    [2, 0]
    """
    ranked = sorted(range(len(costs)), key=lambda i: (not ok[i], costs[i], i))
    top = ranked[:n_promotable(len(costs), eta)]
    return [i for i in top if ok[i] and not promoted[i]]


def next_bracket(entered: Sequence[int], weights: Sequence[int]) -> int:
    """The bracket a new configuration enters: the one furthest behind its share, where the
    shares are Hyperband's numbers of first-stage configurations (``weights``); ties go to the
    most aggressive bracket (the lowest index). Over one cycle of ``sum(weights)`` new
    configurations every bracket gets exactly its weight, interleaved, not one after the other."""
    return min(range(len(weights)), key=lambda s: ((entered[s] + 1) / weights[s], s))


class AsyncBracket:
    """One asynchronous successive-halving bracket: its rungs' results and who was promoted.

    ``schedule`` is the synchronous bracket's ``(n_configs, budget)`` list; only its budgets
    (the rungs) matter here. Its members keep the ``config_id`` ``(iteration, rung entered,
    running index)`` for their whole life, the iteration being the bracket's index.
    """

    def __init__(self, iteration: int, schedule: Sequence[Tuple[int, float]], pairs: Sequence[Pair],
                 scheduler: "TrialSource", eta: float):
        self.iteration = iteration
        self.schedule = [tuple(step) for step in schedule]
        self.pairs = list(pairs)
        self.scheduler = scheduler
        self.eta = eta
        self.members: Dict[ConfigId, _Member] = {}
        self.rung_of: Dict[ConfigId, int] = {}  # the rung a member is at (running, or done there)
        self.outstanding: Dict[ConfigId, int] = {}  # its trials at that rung not yet told
        self.rungs: List[List[ConfigId]] = [[] for _ in self.schedule]  # finished results, in order
        # derived (rebuilt on resume): each rung's results ranked by (failed, cost, order), and the
        # candidates of each rung until its next result or promotion
        self._ranked: List[List[tuple]] = [[] for _ in self.schedule]
        self._candidates: Dict[int, List[ConfigId]] = {}
        self.queue: Deque[TrialInfo] = deque()
        self.n_sampled = 0
        self.n_launched = 0
        self.pending: set = set()
        self.finished = False  # never: an asynchronous bracket takes new configurations forever

    # ------------------------------------------------------------------ rungs and trials
    @property
    def budgets(self) -> List[float]:
        return [budget for _, budget in self.schedule]

    def _pairs_of(self, member: _Member, rung: int) -> List[Pair]:
        """Real budgets: the one pair. Instance budgets: the new pairs of the rung once promoted,
        every pair up to the rung's budget for a configuration that enters there."""
        if not self.scheduler.instance_mode:
            return self.pairs
        end = int(self.schedule[rung][1])
        start = 0 if rung == member.config_id[1] else int(self.schedule[rung - 1][1])
        return self.pairs[start:end]

    def _enter(self, member: _Member, rung: int) -> None:
        self.rung_of[member.config_id] = rung
        pairs = self._pairs_of(member, rung)
        self.outstanding[member.config_id] = len(pairs)
        budget = None if self.scheduler.instance_mode else self.schedule[rung][1]
        for instance, seed in pairs:
            self.queue.append(TrialInfo(member.config, budget=budget, instance=instance, seed=seed,
                                        config_id=member.config_id))

    def add_new(self, config: Configuration, rung: int = 0) -> ConfigId:
        """A new configuration enters ``rung`` (0: the smallest budget)."""
        member = _Member(config, (self.iteration, rung, self.n_sampled))
        self.n_sampled += 1
        self.members[member.config_id] = member
        self._enter(member, rung)
        return member.config_id

    def rung_index(self, budget: float) -> Optional[int]:
        """The rung with this budget, or None."""
        for k, b in enumerate(self.budgets):
            if math.isclose(b, budget, rel_tol=1e-9):
                return k
        return None

    def candidates(self, rung: int) -> List[ConfigId]:
        """Members of ``rung`` that may be promoted now, best first: :func:`asha_candidates` on
        the rung's results, kept ranked as they come so that an ask costs O(top) and not a sort."""
        found = self._candidates.get(rung)
        if found is None:
            ranked = self._ranked[rung]
            if ranked and isinstance(ranked[0][1], tuple):  # several objectives: by Pareto order
                done = sorted((row for row in ranked if not row[0]), key=lambda row: row[2])
                order = pareto_order([row[1] for row in done], limit=n_promotable(len(ranked), self.eta))
                ranked = [done[i] for i in order] + [row for row in ranked if row[0]]
            top = ranked[:n_promotable(len(self._ranked[rung]), self.eta)]
            found = [row[3] for row in top if not row[0] and self.rung_of[row[3]] == rung]
            self._candidates[rung] = found
        return found

    def _rank(self, rung: int, config_id: ConfigId) -> None:
        member = self.members[config_id]
        failed = member.failed.get(rung, False) or member.capped
        row = (failed, member.stage_cost(rung, self.scheduler.instance_mode), len(self.rungs[rung]), config_id)
        self.rungs[rung].append(config_id)
        bisect.insort(self._ranked[rung], row)
        self._candidates.pop(rung, None)

    def best_promotion(self) -> Optional[Tuple[int, ConfigId]]:
        """``(rung it goes to, config_id)`` of the promotion to make first: from the highest
        rung that has one, its best candidate. None: nothing can be promoted."""
        for rung in range(len(self.schedule) - 2, -1, -1):
            found = self.candidates(rung)
            if found:
                return rung + 1, found[0]
        return None

    def promote(self, config_id: ConfigId) -> None:
        rung = self.rung_of[config_id]
        if config_id not in self.candidates(rung):
            raise ValueError(f"configuration {config_id} is not promotable from rung {rung}")
        self._enter(self.members[config_id], rung + 1)
        self._candidates.pop(rung, None)

    def pop_queued(self) -> Optional[TrialInfo]:
        """The next queued trial to launch, or None when the queue is empty; trials whose result
        the RunHistory knows (or another bracket runs) are taken over, not launched."""
        while self.queue:
            info = self.queue.popleft()
            launched = launch(self, info, self.scheduler.trial_cutoff(self, self.members[info.config_id]))
            if launched is not None:
                return launched
        return None

    def cost_to_beat(self, member: _Member) -> None:
        """No adaptive capping in asynchronous mode (a rung is never complete)."""
        return None

    # ------------------------------------------------------------------ telling
    def record(self, info: TrialInfo, value: TrialValue, cost: float) -> None:
        """Take the result of one of this bracket's trials."""
        self.pending.discard(info.key)
        cid = info.config_id
        rung = self.rung_of[cid]
        self.members[cid].record(rung, cost, value.status is StatusType.SUCCESS)
        self.outstanding[cid] -= 1
        if self.outstanding[cid] == 0:
            self._rank(rung, cid)

    # ------------------------------------------------------------------ snapshots
    def get_state(self, ref: Callable[[Configuration], int]) -> Dict[str, Any]:
        return {
            "iteration": self.iteration,
            "schedule": [list(step) for step in self.schedule],
            "pairs": [list(pair) for pair in self.pairs],
            "members": [m.get_state(ref) for m in self.members.values()],
            "rung_of": [[list(cid), rung] for cid, rung in self.rung_of.items()],
            "outstanding": [[list(cid), n] for cid, n in self.outstanding.items()],
            "rungs": [[list(cid) for cid in rung] for rung in self.rungs],
            "queue": [trial_state(info, ref) for info in self.queue],
            "n_sampled": self.n_sampled,
            "n_launched": self.n_launched,
            "pending": sorted((key_to_json(key) for key in self.pending), key=repr),  # a set: one order
        }

    @classmethod
    def from_state(cls, state: Dict[str, Any], scheduler: "TrialSource", eta: float,
                   config_of: Callable[[int], Configuration]) -> "AsyncBracket":
        bracket = cls(state["iteration"], [tuple(step) for step in state["schedule"]],
                      [tuple(pair) for pair in state["pairs"]], scheduler, eta)
        for data in state["members"]:
            member = _Member.from_state(data, config_of)
            bracket.members[member.config_id] = member
        bracket.rung_of = {tuple(cid): int(rung) for cid, rung in state["rung_of"]}
        bracket.outstanding = {tuple(cid): int(n) for cid, n in state["outstanding"]}
        for rung, ids in enumerate(state["rungs"]):
            for cid in ids:
                bracket._rank(rung, tuple(cid))
        bracket.queue = deque(trial_from_state(row, config_of) for row in state["queue"])
        bracket.n_sampled = int(state["n_sampled"])
        bracket.n_launched = int(state["n_launched"])
        bracket.pending = {key_from_json(key) for key in state["pending"]}
        return bracket

    def __repr__(self) -> str:
        sizes = "/".join(str(len(r)) for r in self.rungs)
        return f"AsyncBracket(iteration={self.iteration}, results per rung {sizes}, pending={len(self.pending)})"
