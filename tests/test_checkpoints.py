"""Promotions that continue training: a target with a ``trial`` parameter gets a checkpoint
directory per configuration and the budget it may continue from, is charged only the
increment, prefers the worker that holds a local checkpoint, and what can no longer be
promoted is removed."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from ConfigSpace import ConfigurationSpace

import smacish
from smacish import Checkpoints, Hyperband, Optimizer, StatusType, SuccessiveHalving, TrialContext, TrialValue
from smacish.trial import charged_budget

sys.path.insert(0, str(Path(__file__).parent))
import _checkpoint_targets as targets  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def space() -> ConfigurationSpace:
    return ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def by_config(opt: Optimizer) -> dict:
    """config_id -> [(budget, value)] in the order told."""
    rows: dict = {}
    for info, value in opt.runhistory.items():
        rows.setdefault(info.config_id, []).append((info.budget, value))
    return rows


# ---------------------------------------------------------------------- continuing, serially
@pytest.mark.parametrize("claim", ["return", "context"])
def test_a_promotion_continues_from_its_checkpoint_and_is_charged_the_increment(tmp_path, claim):
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1, output_dir=tmp_path / "run")
    opt.optimize(lambda config, budget, trial: targets.epochs_target(config, budget, trial, claim=claim),
                 n_trials=13)  # one bracket: 9 x 1, 3 x 3, 1 x 9
    promoted = [(b, v) for rows in by_config(opt).values() for b, v in rows[1:]]
    assert len(promoted) == 4  # 3 promoted to 3 epochs, 1 of them to 9
    for budget, value in promoted:
        assert value.additional_info["start"] > 0  # it resumed ...
        assert value.additional_info["trained"] == budget - value.additional_info["start"]  # ... and trained the rest
        assert value.additional_info["continued_from"] == value.additional_info["start"]
    trained = sum(v.additional_info["trained"] for _, v in opt.runhistory.items())
    assert trained == 9 * 1 + 3 * 2 + 1 * 6 == 21  # from scratch it would be 9 + 9 + 9 = 27
    assert opt.budget_spent == opt.runhistory.budget_spent == 21
    assert opt.trajectory[-1].budget_spent <= 21
    saved = smacish.RunHistory.load(tmp_path / "run" / "runhistory.json")
    assert saved.budget_spent == 21


def test_the_budget_limit_counts_increments(tmp_path):
    opt = Optimizer(space(), Hyperband(min_budget=1, max_budget=9, eta=3), seed=2)
    opt.optimize(targets.serial_target, budget_limit=60)
    trained = sum(v.additional_info["trained"] for _, v in opt.runhistory.items())
    assert trained == opt.budget_spent
    assert 60 <= opt.budget_spent < 60 + 9
    full = sum(i.budget for i, _ in opt.runhistory.items())
    assert full > opt.budget_spent  # more trials than the same limit buys from scratch


def test_without_a_claim_the_trial_pays_its_whole_budget():
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    opt.optimize(lambda config, budget, trial: targets.epochs_target(config, budget, trial, claim="none"),
                 n_trials=13)
    assert opt.budget_spent == 27


def test_learning_curve_points_are_kept_in_the_runhistory():
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    opt.optimize(targets.serial_target, n_trials=13)
    top = [(i, v) for i, v in opt.runhistory.items() if i.budget == 9][0]
    steps = [s for s, _ in top[1].additional_info["reports"]]
    assert steps == [4.0, 5.0, 6.0, 7.0, 8.0, 9.0]  # the epochs this trial trained
    assert top[1].additional_info["reports"][-1][1] == pytest.approx(top[0].config["x"] + 1 / 9)


def test_reports_survive_a_crash():
    def target(config, budget, trial):
        trial.report(1, 0.5)
        raise RuntimeError("diverged")

    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    opt.optimize(target, n_trials=3, catch=(Exception,))
    value = next(v for _, v in opt.runhistory.items())
    assert value.status is StatusType.CRASHED
    assert value.additional_info["reports"] == [[1.0, 0.5]]


def test_the_context_reaches_a_trial_in_a_child_process():
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3, cutoff=60), seed=1)
    opt.optimize(targets.serial_target, n_trials=13)
    assert all(v.status is StatusType.SUCCESS for _, v in opt.runhistory.items())
    assert opt.budget_spent == 21
    assert all(v.additional_info["pid"] != os.getpid() for _, v in opt.runhistory.items())


# ---------------------------------------------------------------------- errors
def test_a_wrong_continued_from_is_a_crash_that_says_why():
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    opt.optimize(lambda config, budget, trial: {"cost": 1.0, "continued_from": budget}, n_trials=3, catch=(Exception,))
    value = next(v for _, v in opt.runhistory.items())
    assert value.status is StatusType.CRASHED
    assert "continued_from=1.0" in value.additional_info["error"]
    assert "below the trial's budget 1" in value.additional_info["error"]
    assert opt.budget_spent == 3


def test_tell_refuses_a_wrong_continued_from_and_changes_nothing():
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    info = opt.ask()
    with pytest.raises(ValueError, match=r"continued_from=-2.*number > 0 and below the trial's budget 1"):
        opt.tell(info, {"cost": 0.5, "continued_from": -2})
    with pytest.raises(ValueError, match="continued_from='3'"):
        opt.tell(info, {"cost": 0.5, "continued_from": "3"})
    assert len(opt.runhistory) == 0 and opt.pending == [info]
    opt.tell(info, 0.5)
    assert opt.budget_spent == 1


def test_tell_charges_the_increment_an_ask_tell_user_reports():
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    for _ in range(9):
        opt.tell(opt.ask(), 0.5)
    info = opt.ask()
    assert info.budget == 3
    opt.tell(info, {"cost": 0.4, "continued_from": 1.0})
    assert opt.budget_spent == 9 + 2


def test_runhistory_refuses_a_continued_from_without_budget():
    rh = smacish.RunHistory(space())
    info = smacish.TrialInfo(space().get_default_configuration(), instance="a")
    with pytest.raises(ValueError, match="has no budget"):
        rh.add(info, TrialValue(cost=0.1, additional_info={"continued_from": 1.0}))
    assert len(rh) == 0


def test_checkpoints_need_a_target_with_a_trial_parameter():
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    with pytest.raises(TypeError, match="'trial' parameter"):
        opt.optimize(lambda config, budget: 0.0, n_trials=2, checkpoints=Checkpoints())
    with pytest.raises(ValueError, match="keep='everything'"):
        Checkpoints(keep="everything")
    with pytest.raises(TypeError, match="shared='yes'"):
        Checkpoints(shared="yes")


def test_a_target_taking_kwargs_gets_no_context():
    seen = []
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    opt.optimize(lambda config, **kwargs: seen.append(sorted(kwargs)) or 0.0, n_trials=2)
    assert seen == [["budget", "instance", "seed"]] * 2


def test_charged_budget():
    info = smacish.TrialInfo(space().get_default_configuration(), budget=9.0)
    assert charged_budget(info, TrialValue(cost=0.1)) == 9.0
    assert charged_budget(info, TrialValue(cost=0.1, additional_info={"continued_from": 3})) == 6.0
    assert charged_budget(smacish.TrialInfo(info.config, instance="a"), TrialValue(cost=0.1)) == 1.0


# ---------------------------------------------------------------------- the context itself
def test_away_from_its_holder_a_trial_starts_from_scratch_in_an_empty_directory(tmp_path):
    (tmp_path / "config_0_0_1").mkdir()
    (tmp_path / "config_0_0_1" / "state.json").write_text("{}")
    context = TrialContext((0, 0, 1), 9.0, tmp_path / "config_0_0_1", previous_budget=3.0, holder="tcp://a:1")
    context.prepare("tcp://a:1")
    assert context.previous_budget == 3.0 and (tmp_path / "config_0_0_1" / "state.json").exists()
    context.prepare("tcp://b:2")
    assert context.previous_budget is None and not any((tmp_path / "config_0_0_1").iterdir())


def test_report_refuses_what_is_not_a_finite_number(tmp_path):
    context = TrialContext((0, 0, 1), 9.0, tmp_path)
    with pytest.raises(ValueError, match="finite"):
        context.report(1, math.nan)
    with pytest.raises(TypeError, match="step must be a number"):
        context.report("one", 0.5)
    assert context.reports == []


# ---------------------------------------------------------------------- removal
def test_directories_of_configurations_that_cannot_be_promoted_are_removed(tmp_path):
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1, output_dir=tmp_path / "run")
    seen_after_stage_0 = []

    def target(config, budget, trial):
        if budget == 3:
            seen_after_stage_0.append(sorted(p.name for p in trial.checkpoint_dir.parent.iterdir()))
        return targets.serial_target(config, budget, trial)

    opt.optimize(target, n_trials=13)
    assert len(seen_after_stage_0[0]) == 3  # the 6 not promoted went when stage 0 ended
    left = sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    inc = [i.config_id for i, _ in opt.runhistory.items() if i.config == opt.incumbent]
    assert left == ["config_%d_%d_%d" % inc[0]]  # the incumbent's only


@pytest.mark.parametrize("keep, expected", [("all", 9), ("promotable", 0)])
def test_keep_decides_what_stays(tmp_path, keep, expected):
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    opt.optimize(targets.serial_target, n_trials=13, checkpoints=Checkpoints(tmp_path / "ck", keep=keep))
    assert len(list((tmp_path / "ck").iterdir())) == expected


def test_without_output_dir_checkpoints_last_as_long_as_the_optimizer():
    roots = set()

    def target(config, budget, trial):
        roots.add(trial.checkpoint_dir.parent)
        return targets.serial_target(config, budget, trial)

    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    opt.optimize(target, n_trials=9)
    opt.optimize(target, n_trials=13)  # a second call continues from the first one's checkpoints
    assert opt.budget_spent == 21
    (root,) = roots
    assert root.exists()
    del opt
    import gc

    gc.collect()
    assert not root.exists()


def test_live_config_ids_follow_the_stages():
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    infos = [opt.ask() for _ in range(9)]
    assert opt.intensifier.live_config_ids() == {i.config_id for i in infos}
    for k, info in enumerate(infos):
        opt.tell(info, float(k))
    promoted = {(0, 0, 0), (0, 0, 1), (0, 0, 2)}  # the three lowest costs
    assert opt.intensifier.live_config_ids() == promoted


# ---------------------------------------------------------------------- Dask
def test_a_promotion_on_dask_goes_to_the_worker_holding_its_local_checkpoint(make_cluster):
    _, client = make_cluster(n_workers=2)
    opt = Optimizer(space(), Hyperband(min_budget=1, max_budget=9, eta=3), seed=3)
    opt.optimize(targets.dask_target, n_trials=66, client=client, checkpoints=Checkpoints(shared=False))
    promotions = continued = 0
    for rows in by_config(opt).values():
        for (_, before), (_, after) in zip(rows, rows[1:]):
            promotions += 1
            if after.additional_info["start"] > 0:
                continued += 1
                assert after.additional_info["worker"] == before.additional_info["worker"]
    assert promotions >= 10
    # Dask may move a queued promotion to an idle worker (work stealing): it then starts over
    assert continued >= promotions * 0.7
    assert sum(v.additional_info["trained"] for _, v in opt.runhistory.items()) == opt.budget_spent


def test_a_killed_workers_checkpoints_fall_back_to_training_from_scratch(make_cluster):
    _, client = make_cluster(n_workers=2)
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1)
    settings = Checkpoints(shared=False)
    opt.optimize(targets.dask_target, n_trials=9, client=client, checkpoints=settings)  # stage 0 only
    holders = {i.config_id: v.additional_info["worker"] for i, v in opt.runhistory.items()}
    promoted = opt.intensifier.live_config_ids()
    victim = holders[min(promoted)]
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)  # the nanny starts a new worker, at another address
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = set(client.scheduler_info()["workers"])
        if victim not in workers and len(workers) == 2:
            break
        time.sleep(0.1)
    assert victim not in set(client.scheduler_info()["workers"])
    opt.optimize(targets.dask_target, n_trials=12, client=client, checkpoints=settings)
    for info, value in list(opt.runhistory.items())[9:]:
        lost = holders[info.config_id] == victim
        assert (value.additional_info["start"] == 0) is lost, (info.config_id, value.additional_info)
        assert value.additional_info.get("continued_from") == (None if lost else 1.0)
    n_lost = sum(holders[cid] == victim for cid in promoted)
    assert opt.budget_spent == 9 + 3 * 3 - (3 - n_lost) * 1


def test_on_an_embedded_cluster_checkpoints_are_shared():
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1, n_workers=2)
    opt.optimize(targets.dask_target, n_trials=30)
    promoted = [v for rows in by_config(opt).values() for _, v in rows[1:]]
    assert promoted and all(v.additional_info["start"] > 0 for v in promoted)  # whichever worker
    assert sum(v.additional_info["trained"] for _, v in opt.runhistory.items()) == opt.budget_spent


# ---------------------------------------------------------------------- resume
DRIVER = textwrap.dedent('''
    import sys
    from pathlib import Path
    from ConfigSpace import ConfigurationSpace
    import smacish
    sys.path.insert(0, sys.argv[3])
    import _checkpoint_targets as targets
    run = Path(sys.argv[1])
    opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}, seed=0),
                            smacish.SuccessiveHalving(min_budget=1, max_budget=9, eta=3), seed=1, output_dir=run)
    opt.optimize(lambda c, budget, trial: targets.epochs_target(c, budget, trial, kill_after=int(sys.argv[2])),
                 n_trials=13)
''')


def test_resume_after_sigkill_keeps_the_checkpoints(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    run = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, str(script), str(run), "11", str(Path(__file__).parent)],
                          env=env, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    opt = Optimizer.load(run)
    assert len(opt.runhistory) == 10  # the 11th trial was killed before it was told
    opt.optimize(targets.serial_target, n_trials=13)
    later = list(opt.runhistory.items())[10:]
    assert [i.budget for i, _ in later] == [3.0, 3.0, 9.0]
    assert all(v.additional_info["start"] > 0 for _, v in later)  # continued from before the kill
    assert opt.budget_spent == 21  # the killed attempt was never told, so never charged


def test_the_simulated_runner_gives_the_context_and_charges_increments():
    from smacish.runners.simulated import run_simulated

    def duration(info, value):
        return info.budget - (value.additional_info.get("continued_from") or 0.0)

    opt = Optimizer(space(), Hyperband(min_budget=1, max_budget=9, eta=3), seed=4)
    sim = run_simulated(opt, targets.serial_target, duration, n_workers=4, budget_limit=80)
    assert sim.busy == pytest.approx(opt.budget_spent)
    assert sum(v.additional_info["trained"] for _, v in opt.runhistory.items()) == opt.budget_spent
    assert any(v.additional_info["start"] > 0 for _, v in opt.runhistory.items())
    assert opt.callbacks == []


def test_asynchronous_promotions_continue_and_keep_what_a_rung_may_still_promote(tmp_path):
    opt = Optimizer(space(), SuccessiveHalving(min_budget=1, max_budget=9, eta=3, asynchronous=True), seed=5)
    opt.optimize(targets.serial_target, n_trials=40, checkpoints=Checkpoints(tmp_path / "ck"))
    promoted = [v for rows in by_config(opt).values() for _, v in rows[1:]]
    assert promoted and all(v.additional_info["start"] > 0 for v in promoted)
    assert sum(v.additional_info["trained"] for _, v in opt.runhistory.items()) == opt.budget_spent
    left = {p.name for p in (tmp_path / "ck").iterdir()}
    live = {"config_%d_%d_%d" % cid for cid in opt.intensifier.live_config_ids()}
    top = {"config_%d_%d_%d" % i.config_id for i, _ in opt.runhistory.items() if i.budget == 9}
    assert live <= left and top - live  # nothing a rung may still promote is gone
    assert left - live <= {"config_%d_%d_%d" % i.config_id for i, _ in opt.runhistory.items()
                           if i.config == opt.incumbent}  # at the top rung: only the incumbent's stays
