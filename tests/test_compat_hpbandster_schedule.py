"""A migrated single-worker HyperBand run schedules exactly HpBandSter's (config_id, budget) sequence.

The expected sequences below are written out, not computed: they are what HpBandSter 0.7.4
itself ran (one background worker, the same ``compute``) and follow from its source:

- ``max_SH_iter = -int(log(min_budget / max_budget) / log(eta)) + 1`` budgets
  ``max_budget * eta ** -k``; iteration ``i`` runs the bracket ``s = max_SH_iter - 1 - i % max_SH_iter``
  with ``n0 = floor(max_SH_iter / (s + 1)) * eta**s`` configurations, then
  ``max(floor(n0 * eta**-k), 1)`` per stage (27/9/3/1, 9/3/1, 6/2, 4 for 9..243 and eta=3);
- a stage keeps the configurations with the smallest loss (their ids unchanged) and runs them
  again in the order they joined the iteration;
- ``config_id = (iteration, budget index, running index)``, the running index counting the
  configurations of that stage, promoted ones included, so a stage left short by crashes is
  filled with ``(iteration, stage, k)`` samples.

The loss is a function of the config_id and budget only, so the promotions do not depend on
the sampled configurations: in iteration 0 of 9..243, ``(r * 7 + 9) % 11 + r / 1000`` is
smallest for r = 2, 13, 24 (loss 1.0xx), then 5, 16 (2.0xx), then 7, 18 (3.0xx), then 10, 21
(4.0xx): the nine promoted to budget 27 are 2, 5, 7, 10, 13, 16, 18, 21, 24.
"""

from __future__ import annotations

import ConfigSpace as CS
import pytest

import smacish.compat.hpbandster.core.nameserver as hpns
from smacish.compat.hpbandster.core.worker import Worker
from smacish.compat.hpbandster.optimizers import BOHB, HyperBand

pytestmark = pytest.mark.timeout(300)


def loss_of(config_id, budget):
    iteration, budget_index, running_index = config_id
    rank = (running_index * 7 + budget_index * 5 + iteration * 3 + int(round(budget))) % 11
    return rank + 0.001 * running_index


class RecordingWorker(Worker):
    def __init__(self, *args, crash=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.crash = crash
        self.sequence = []
        self.seen = set()

    def compute(self, config_id, config, budget, working_directory):
        self.sequence.append((tuple(config_id), budget))
        first = tuple(config_id) not in self.seen
        self.seen.add(tuple(config_id))
        iteration, budget_index, running_index = config_id
        if self.crash and first and ((budget_index == 0 and running_index % 4 != 0)
                                     or (budget_index == 1 and running_index % 2 == 1)):
            raise ValueError("this configuration crashes")
        return {"loss": loss_of(config_id, budget), "info": {}}


def run_hyperband(run_id, min_budget, max_budget, n_iterations, tmp_path, crash=False):
    NS = hpns.NameServer(run_id=run_id, host="127.0.0.1", port=0)
    host, port = NS.start()
    try:
        w = RecordingWorker(run_id=run_id, nameserver=host, nameserver_port=port, crash=crash)
        w.run(background=True)
        hb = HyperBand(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}), run_id=run_id, nameserver=host,
                       nameserver_port=port, min_budget=min_budget, max_budget=max_budget, eta=3,
                       working_directory=str(tmp_path))
        res = hb.run(n_iterations=n_iterations)
        hb.shutdown(shutdown_workers=True)
    finally:
        NS.shutdown()
    return w.sequence, res


HPBANDSTER_9_243 = [
    ((0, 0, 0), 9.0), ((0, 0, 1), 9.0), ((0, 0, 2), 9.0), ((0, 0, 3), 9.0), ((0, 0, 4), 9.0),
    ((0, 0, 5), 9.0), ((0, 0, 6), 9.0), ((0, 0, 7), 9.0), ((0, 0, 8), 9.0), ((0, 0, 9), 9.0),
    ((0, 0, 10), 9.0), ((0, 0, 11), 9.0), ((0, 0, 12), 9.0), ((0, 0, 13), 9.0), ((0, 0, 14), 9.0),
    ((0, 0, 15), 9.0), ((0, 0, 16), 9.0), ((0, 0, 17), 9.0), ((0, 0, 18), 9.0), ((0, 0, 19), 9.0),
    ((0, 0, 20), 9.0), ((0, 0, 21), 9.0), ((0, 0, 22), 9.0), ((0, 0, 23), 9.0), ((0, 0, 24), 9.0),
    ((0, 0, 25), 9.0), ((0, 0, 26), 9.0), ((0, 0, 2), 27.0), ((0, 0, 5), 27.0), ((0, 0, 7), 27.0),
    ((0, 0, 10), 27.0), ((0, 0, 13), 27.0), ((0, 0, 16), 27.0), ((0, 0, 18), 27.0), ((0, 0, 21), 27.0),
    ((0, 0, 24), 27.0), ((0, 0, 2), 81.0), ((0, 0, 5), 81.0), ((0, 0, 16), 81.0), ((0, 0, 5), 243.0),
    ((1, 0, 0), 27.0), ((1, 0, 1), 27.0), ((1, 0, 2), 27.0), ((1, 0, 3), 27.0), ((1, 0, 4), 27.0),
    ((1, 0, 5), 27.0), ((1, 0, 6), 27.0), ((1, 0, 7), 27.0), ((1, 0, 8), 27.0), ((1, 0, 2), 81.0),
    ((1, 0, 4), 81.0), ((1, 0, 7), 81.0), ((1, 0, 7), 243.0), ((2, 0, 0), 81.0), ((2, 0, 1), 81.0),
    ((2, 0, 2), 81.0), ((2, 0, 3), 81.0), ((2, 0, 4), 81.0), ((2, 0, 5), 81.0), ((2, 0, 2), 243.0),
    ((2, 0, 5), 243.0), ((3, 0, 0), 243.0), ((3, 0, 1), 243.0), ((3, 0, 2), 243.0), ((3, 0, 3), 243.0),
    # iteration 4 starts the cycle of brackets again
    ((4, 0, 0), 9.0), ((4, 0, 1), 9.0), ((4, 0, 2), 9.0), ((4, 0, 3), 9.0), ((4, 0, 4), 9.0),
    ((4, 0, 5), 9.0), ((4, 0, 6), 9.0), ((4, 0, 7), 9.0), ((4, 0, 8), 9.0), ((4, 0, 9), 9.0),
    ((4, 0, 10), 9.0), ((4, 0, 11), 9.0), ((4, 0, 12), 9.0), ((4, 0, 13), 9.0), ((4, 0, 14), 9.0),
    ((4, 0, 15), 9.0), ((4, 0, 16), 9.0), ((4, 0, 17), 9.0), ((4, 0, 18), 9.0), ((4, 0, 19), 9.0),
    ((4, 0, 20), 9.0), ((4, 0, 21), 9.0), ((4, 0, 22), 9.0), ((4, 0, 23), 9.0), ((4, 0, 24), 9.0),
    ((4, 0, 25), 9.0), ((4, 0, 26), 9.0), ((4, 0, 2), 27.0), ((4, 0, 5), 27.0), ((4, 0, 8), 27.0),
    ((4, 0, 10), 27.0), ((4, 0, 13), 27.0), ((4, 0, 16), 27.0), ((4, 0, 19), 27.0), ((4, 0, 21), 27.0),
    ((4, 0, 24), 27.0), ((4, 0, 5), 81.0), ((4, 0, 8), 81.0), ((4, 0, 19), 81.0), ((4, 0, 8), 243.0),
]

HPBANDSTER_1_27 = [
    ((0, 0, 0), 1.0), ((0, 0, 1), 1.0), ((0, 0, 2), 1.0), ((0, 0, 3), 1.0), ((0, 0, 4), 1.0),
    ((0, 0, 5), 1.0), ((0, 0, 6), 1.0), ((0, 0, 7), 1.0), ((0, 0, 8), 1.0), ((0, 0, 9), 1.0),
    ((0, 0, 10), 1.0), ((0, 0, 11), 1.0), ((0, 0, 12), 1.0), ((0, 0, 13), 1.0), ((0, 0, 14), 1.0),
    ((0, 0, 15), 1.0), ((0, 0, 16), 1.0), ((0, 0, 17), 1.0), ((0, 0, 18), 1.0), ((0, 0, 19), 1.0),
    ((0, 0, 20), 1.0), ((0, 0, 21), 1.0), ((0, 0, 22), 1.0), ((0, 0, 23), 1.0), ((0, 0, 24), 1.0),
    ((0, 0, 25), 1.0), ((0, 0, 26), 1.0), ((0, 0, 0), 3.0), ((0, 0, 3), 3.0), ((0, 0, 5), 3.0),
    ((0, 0, 8), 3.0), ((0, 0, 11), 3.0), ((0, 0, 14), 3.0), ((0, 0, 19), 3.0), ((0, 0, 22), 3.0),
    ((0, 0, 25), 3.0), ((0, 0, 3), 9.0), ((0, 0, 14), 9.0), ((0, 0, 25), 9.0), ((0, 0, 3), 27.0),
    ((1, 0, 0), 3.0), ((1, 0, 1), 3.0), ((1, 0, 2), 3.0), ((1, 0, 3), 3.0), ((1, 0, 4), 3.0),
    ((1, 0, 5), 3.0), ((1, 0, 6), 3.0), ((1, 0, 7), 3.0), ((1, 0, 8), 3.0), ((1, 0, 1), 9.0),
    ((1, 0, 4), 9.0), ((1, 0, 7), 9.0), ((1, 0, 7), 27.0), ((2, 0, 0), 9.0), ((2, 0, 1), 9.0),
    ((2, 0, 2), 9.0), ((2, 0, 3), 9.0), ((2, 0, 4), 9.0), ((2, 0, 5), 9.0), ((2, 0, 1), 27.0),
    ((2, 0, 3), 27.0), ((3, 0, 0), 27.0), ((3, 0, 1), 27.0), ((3, 0, 2), 27.0), ((3, 0, 3), 27.0),
]

# Configurations with budget index 0 and running index not divisible by 4, and refills with an
# odd running index, crash on their first run: stage 0 of iteration 0 keeps 7 of 27, so stage 1
# is filled with (0, 1, 7) and (0, 1, 8) - its running index counts the 7 promoted ones - and
# (0, 1, 7) crashes as well.
HPBANDSTER_9_243_WITH_CRASHES = [
    ((0, 0, 0), 9.0), ((0, 0, 1), 9.0), ((0, 0, 2), 9.0), ((0, 0, 3), 9.0), ((0, 0, 4), 9.0),
    ((0, 0, 5), 9.0), ((0, 0, 6), 9.0), ((0, 0, 7), 9.0), ((0, 0, 8), 9.0), ((0, 0, 9), 9.0),
    ((0, 0, 10), 9.0), ((0, 0, 11), 9.0), ((0, 0, 12), 9.0), ((0, 0, 13), 9.0), ((0, 0, 14), 9.0),
    ((0, 0, 15), 9.0), ((0, 0, 16), 9.0), ((0, 0, 17), 9.0), ((0, 0, 18), 9.0), ((0, 0, 19), 9.0),
    ((0, 0, 20), 9.0), ((0, 0, 21), 9.0), ((0, 0, 22), 9.0), ((0, 0, 23), 9.0), ((0, 0, 24), 9.0),
    ((0, 0, 25), 9.0), ((0, 0, 26), 9.0), ((0, 0, 0), 27.0), ((0, 0, 4), 27.0), ((0, 0, 8), 27.0),
    ((0, 0, 12), 27.0), ((0, 0, 16), 27.0), ((0, 0, 20), 27.0), ((0, 0, 24), 27.0), ((0, 1, 7), 27.0),
    ((0, 1, 8), 27.0), ((0, 0, 4), 81.0), ((0, 0, 12), 81.0), ((0, 1, 8), 81.0), ((0, 0, 12), 243.0),
    ((1, 0, 0), 27.0), ((1, 0, 1), 27.0), ((1, 0, 2), 27.0), ((1, 0, 3), 27.0), ((1, 0, 4), 27.0),
    ((1, 0, 5), 27.0), ((1, 0, 6), 27.0), ((1, 0, 7), 27.0), ((1, 0, 8), 27.0), ((1, 0, 0), 81.0),
    ((1, 0, 4), 81.0), ((1, 0, 8), 81.0), ((1, 0, 4), 243.0), ((2, 0, 0), 81.0), ((2, 0, 1), 81.0),
    ((2, 0, 2), 81.0), ((2, 0, 3), 81.0), ((2, 0, 4), 81.0), ((2, 0, 5), 81.0), ((2, 0, 0), 243.0),
    ((2, 0, 4), 243.0), ((3, 0, 0), 243.0), ((3, 0, 1), 243.0), ((3, 0, 2), 243.0), ((3, 0, 3), 243.0),
]


def test_hyperband_9_to_243_runs_hpbandsters_sequence(tmp_path):
    sequence, res = run_hyperband("schedule-9", 9, 243, 5, tmp_path)
    assert sequence == HPBANDSTER_9_243
    assert res.HB_config["budgets"] == [9.0, 27.0, 81.0, 243.0]
    assert res.num_iterations() == 5
    # every run reached the Result under the id and budget it ran with
    assert sorted((r.config_id, r.budget) for r in res.get_all_runs()) == sorted(HPBANDSTER_9_243)


def test_hyperband_1_to_27_runs_hpbandsters_sequence(tmp_path):
    sequence, res = run_hyperband("schedule-1", 1, 27, 4, tmp_path)
    assert sequence == HPBANDSTER_1_27
    assert res.HB_config["budgets"] == [1.0, 3.0, 9.0, 27.0]


def test_a_stage_short_of_configurations_is_filled_as_hpbandster_does(tmp_path):
    sequence, res = run_hyperband("schedule-crash", 9, 243, 4, tmp_path, crash=True)
    assert sequence == HPBANDSTER_9_243_WITH_CRASHES
    failed = [r for r in res.get_all_runs() if r.loss is None]
    assert len(failed) == 20 + 1 + 6 + 4 + 3  # per iteration: 20 + (0, 1, 7), 6, 4, 3
    assert all("this configuration crashes" in r.error_logs for r in failed)
    assert res.get_runs_by_id((0, 1, 8))[-1].budget == 81.0


class ConfigRecordingWorker(Worker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.first_seen = {}

    def compute(self, config_id, config, budget, working_directory):
        self.first_seen.setdefault(tuple(config_id), dict(config))
        return {"loss": (config["x"] - 0.3) ** 2 / budget, "info": {}}  # losses depend on the config


@pytest.mark.parametrize("optimizer, extra", [(HyperBand, {}), (BOHB, {"random_fraction": 1.0})],
                         ids=["HyperBand", "BOHB-random-fraction"])
def test_random_configurations_come_from_the_spaces_own_sampler_as_in_hpbandster(tmp_path, optimizer, extra):
    """HpBandSter's random sampling (HyperBand's, and BOHB's random fraction) is
    ``configspace.sample_configuration()``: a seeded space gives the same configurations, in the
    order their config_ids are created."""
    NS = hpns.NameServer(run_id="sampling", host="127.0.0.1", port=0)
    host, port = NS.start()
    try:
        w = ConfigRecordingWorker(run_id="sampling", nameserver=host, nameserver_port=port)
        w.run(background=True)
        hb = optimizer(configspace=CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=5), run_id="sampling",
                       nameserver=host, nameserver_port=port, min_budget=1, max_budget=9, eta=3,
                       working_directory=str(tmp_path), **extra)
        hb.run(n_iterations=3)
        hb.shutdown(shutdown_workers=True)
    finally:
        NS.shutdown()
    twin = CS.ConfigurationSpace({"x": (0.0, 1.0)}, seed=5)
    in_order = [w.first_seen[k] for k in sorted(w.first_seen)]
    assert len(in_order) == 9 + 3 + 3  # HpBandSter's brackets for 1..9, eta 3
    assert in_order == [dict(twin.sample_configuration()) for _ in in_order]
