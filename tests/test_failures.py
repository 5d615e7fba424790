"""Failures a new user hits, said out loud: the target's signature, crashing targets and the
``catch=`` policy, Ctrl-C and ABORTED trials, what tell accepts, and limits already reached."""

from __future__ import annotations

import logging
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
from smacish import StatusType, TargetFailedError, TrialValue, WaitForResults
from smacish.runners._execute import check_target


def space(seed: int = 0) -> ConfigurationSpace:
    return ConfigurationSpace({"x": (0.0, 1.0)}, seed=seed)


def optimizer(**kwargs) -> smacish.Optimizer:
    return smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9), seed=0, **kwargs)


# ---------------------------------------------------------------------- the signature
def test_a_budget_under_another_name_is_refused_before_the_first_trial_with_the_fix():
    def f(cfg, fidelity):
        return cfg["x"] / fidelity

    opt = optimizer()
    with pytest.raises(TypeError, match=r"target .*f\(cfg, fidelity\) has required parameter\(s\) \['fidelity'\].*"
                                        r"pass budget_arg='fidelity'"):
        opt.optimize(f, n_trials=5)
    assert len(opt.runhistory) == 0 and not opt.pending  # refused before anything ran


def test_a_lambda_with_a_positional_budget_is_refused_naming_it():
    with pytest.raises(TypeError, match=r"<lambda>\(c, b\).*\['b'\].*budget_arg='b'"):
        optimizer().optimize(lambda c, b: c["x"], n_trials=3)


def test_budget_arg_passes_the_budget_to_the_named_parameter():
    seen = []

    def f(cfg, fidelity, seed):
        seen.append((fidelity, seed))
        return cfg["x"] / fidelity

    opt = optimizer()
    opt.optimize(f, n_trials=13, budget_arg="fidelity")
    assert sorted({b for b, _ in seen}) == [1.0, 3.0, 9.0]
    assert [(i.budget, i.seed) for i, _ in opt.runhistory.items()] == seen


def test_budget_arg_must_name_a_parameter_of_the_target():
    with pytest.raises(TypeError, match=r"budget_arg is 'epochs', but target .* has no parameter of that name; "
                                        r"choose one of \['budget'\]"):
        optimizer().optimize(lambda config, budget: 0.0, n_trials=1, budget_arg="epochs")


def test_a_target_without_a_budget_in_a_multi_fidelity_run_is_warned_about():
    with pytest.warns(UserWarning, match=r"takes no 'budget' parameter, but the budget varies in this run"):
        optimizer().optimize(lambda config: config["x"], n_trials=2)


def test_a_target_without_budget_is_fine_when_the_budget_never_varies(recwarn):
    opt = smacish.Optimizer(space(), smacish.SuccessiveHalving(min_budget=3, max_budget=3), seed=0)
    opt.optimize(lambda config: config["x"], n_trials=2)
    assert not [w for w in recwarn if issubclass(w.category, UserWarning)]


def test_a_target_taking_no_configuration_is_refused():
    with pytest.raises(TypeError, match=r"takes no positional parameter for the configuration"):
        optimizer().optimize(lambda: 0.0, n_trials=1)


@pytest.mark.parametrize("target", [
    lambda config, budget=1.0, seed=0, instance=None: 0.0,
    lambda config, **kwargs: 0.0,
    lambda *args, **kwargs: 0.0,
    lambda config, budget, *, scale=2.0: 0.0,
])
def test_signatures_smacish_can_fill_pass_unchanged(target):
    assert check_target(target, needs=("budget",)) is target


# ---------------------------------------------------------------------- failing targets
def typo(config, budget):
    return config["X"]  # the space has "x"


def test_a_target_that_always_crashes_stops_after_three_trials_with_its_error(caplog):
    caplog.set_level(logging.WARNING, logger="smacish")
    opt = optimizer()
    with pytest.raises(TargetFailedError, match=r"the first 3 trials all failed and none has succeeded") as err:
        opt.optimize(typo, n_trials=22)
    assert isinstance(err.value.__cause__, KeyError)  # the target's own exception, in-process
    assert len(opt.runhistory) == 3
    assert all(v.status is StatusType.CRASHED for _, v in opt.runhistory.items())
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2  # the error once with its traceback, then the 2nd occurrence counted
    assert "CRASHED: KeyError: 'X'" in warnings[0] and 'return config["X"]' in warnings[0]
    assert "(2 trials so far)" in warnings[1]


def test_once_a_trial_succeeded_failures_are_logged_and_the_run_goes_on(caplog):
    def flaky(config, budget):
        if config["x"] < 0.7:
            raise ValueError("diverged")
        return config["x"]

    caplog.set_level(logging.WARNING, logger="smacish")
    opt = optimizer()
    opt.optimize(flaky, n_trials=30, catch=None)
    crashed = [v for _, v in opt.runhistory.items() if v.status is StatusType.CRASHED]
    assert len(opt.runhistory) == 30 and len(crashed) > 3
    first = [r for r in caplog.records if "CRASHED: ValueError: diverged" in r.getMessage()
             and "trials so far" not in r.getMessage()]
    assert len(first) == 1
    assert any(f"{len(crashed)} trial(s) of this call failed" in r.getMessage() for r in caplog.records)


def test_catch_empty_reraises_at_the_first_crash():
    opt = optimizer()
    with pytest.raises(TargetFailedError, match=r"catch=\(\) does not catch it"):
        opt.optimize(typo, n_trials=10, catch=())
    assert len(opt.runhistory) == 1


def test_catch_exception_never_stops():
    opt = optimizer()
    opt.optimize(typo, n_trials=10, catch=(Exception,))
    assert len(opt.runhistory) == 10


def test_catch_a_tuple_stops_at_an_exception_it_does_not_name():
    opt = optimizer()
    opt.optimize(typo, n_trials=5, catch=(LookupError,))  # KeyError is a LookupError
    assert len(opt.runhistory) == 5
    with pytest.raises(TargetFailedError, match=r"catch=\(ValueError,\) does not catch it") as err:
        opt.optimize(typo, n_trials=10, catch=(ValueError,))
    assert isinstance(err.value.__cause__, KeyError)


def test_catch_must_be_exception_classes():
    with pytest.raises(TypeError, match=r"catch is 'ValueError', but must be None, an exception class"):
        optimizer().optimize(typo, n_trials=1, catch="ValueError")


def test_a_failing_target_on_dask_stops_with_the_workers_traceback(dask_client):
    opt = optimizer()
    with pytest.raises(TargetFailedError, match=r"(?s)KeyError: 'X'.*The trial's traceback:.*config\[\"X\"\]"):
        opt.optimize(typo, n_trials=22, client=dask_client)
    crashed = [v for _, v in opt.runhistory.items() if v.status is StatusType.CRASHED]
    assert len(crashed) >= 3
    assert all(v.additional_info["exception_types"][0] == "builtins.KeyError" for v in crashed)
    assert {i.key for i in opt.pending} == {i.key for i, _ in opt.runhistory.aborted()}


def test_optimizer_n_workers_runs_on_dask():
    opt = optimizer(n_workers=2)
    opt.optimize(lambda config, budget: config["x"] / budget, n_trials=6)
    assert {v.additional_info.get("worker") for _, v in opt.runhistory.items()} - {None}


# ---------------------------------------------------------------------- ABORTED
def test_an_aborted_trial_is_asked_again_with_the_same_key_and_is_no_result():
    opt = optimizer()
    info = opt.ask()
    opt.tell(info, TrialValue(cost=math.inf, status=StatusType.ABORTED))
    assert len(opt.runhistory) == 0 and opt.budget_spent == 0 and opt.n_asked == 0
    assert [i for i, _ in opt.runhistory.aborted()] == [info] and opt.pending == [info]
    again = opt.ask()
    assert again == info and again.config_id == info.config_id
    assert opt.runhistory.aborted() == []
    opt.tell(again, 0.5)
    assert opt.runhistory.get(info).cost == 0.5


def test_an_aborted_trial_is_never_a_promotion_failure():
    opt = smacish.Optimizer(space(), smacish.SuccessiveHalving(min_budget=1, max_budget=9), seed=0)
    stage0 = [opt.ask() for _ in range(9)]
    opt.tell(stage0[0], TrialValue(cost=math.inf, status=StatusType.ABORTED))
    for info in stage0[1:]:
        opt.tell(info, 0.5 + info.config_id[2])
    rerun = opt.ask()
    assert rerun == stage0[0]
    opt.tell(rerun, 0.0)  # now the best of its stage
    assert opt.ask().config == stage0[0].config  # and promoted first


def test_an_interrupted_ask_tell_loop_is_told_how_to_clear_its_trials():
    opt = optimizer()
    with pytest.raises(WaitForResults, match=r"status=StatusType\.ABORTED"):
        for _ in range(100):
            opt.ask(n_workers=1)


def test_aborting_twice_is_refused():
    opt = optimizer()
    info = opt.ask()
    opt.tell(info, TrialValue(cost=math.inf, status=StatusType.ABORTED))
    with pytest.raises(ValueError, match="was aborted already"):
        opt.tell(info, TrialValue(cost=math.inf, status=StatusType.ABORTED))


def test_ctrl_c_records_the_running_trial_aborted_and_the_next_call_runs_it_first():
    calls = []

    def target(config, budget):
        calls.append(config["x"])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return config["x"] / budget

    opt = optimizer()
    with pytest.raises(KeyboardInterrupt):
        opt.optimize(target, n_trials=10)
    (interrupted, _), = opt.runhistory.aborted()
    assert len(opt.runhistory) == 2
    opt.optimize(target, n_trials=10)
    assert calls[3] == calls[2]  # the interrupted trial, run again first
    assert opt.runhistory.get(interrupted).status is StatusType.SUCCESS
    assert len(opt.runhistory) == 10


def test_a_real_sigint_aborts_the_trial_and_load_reissues_it(tmp_path: Path):
    directory = tmp_path / "run"
    script = textwrap.dedent(f"""
        import sys, time
        from ConfigSpace import ConfigurationSpace
        import smacish

        def target(config, budget):
            print("started", flush=True)
            time.sleep(60)
            return 0.0

        opt = smacish.Optimizer(ConfigurationSpace({{"x": (0.0, 1.0)}}, seed=0),
                                smacish.Hyperband(min_budget=1, max_budget=9), seed=0,
                                output_dir={str(directory)!r})
        opt.tell(opt.ask(), 0.25)
        try:
            opt.optimize(target, n_trials=10)
        except KeyboardInterrupt:
            print("interrupted", len(opt.runhistory.aborted()), flush=True)
    """)
    # SIGINT as a terminal's Ctrl-C delivers it, even when the tests run as a background job
    # (whose shell starts its commands with SIGINT ignored, which Python would then keep)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stdout.readline().strip() == "started"
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert out.strip() == "interrupted 1", err
    assert "1 trial(s) recorded ABORTED" in err

    opt = smacish.Optimizer.load(directory)
    assert len(opt.runhistory) == 1
    second = opt.ask()
    assert second.config_id == (0, 0, 1)  # the interrupted trial, not a new one
    opt.tell(second, 0.5)
    opt.close()
    assert len(smacish.Optimizer.load(directory).runhistory) == 2


def test_aborted_trials_survive_a_runhistory_round_trip():
    opt = optimizer()
    info = opt.ask()
    opt.tell(info, TrialValue(cost=math.inf, status=StatusType.ABORTED))
    back = smacish.RunHistory.from_json(opt.runhistory.to_json())
    assert [(i.key, v.status) for i, v in back.aborted()] == [(info.key, StatusType.ABORTED)]
    assert len(back) == 0


# ---------------------------------------------------------------------- tell and limits
def test_tell_takes_what_a_target_may_return():
    opt = optimizer()
    info = opt.ask()
    opt.tell(info, {"cost": 0.25, "epochs": 3})
    assert opt.runhistory.get(info).cost == 0.25 and opt.runhistory.get(info).additional_info == {"epochs": 3}


@pytest.mark.parametrize("bad", ["0.3", b"0.3", True, math.nan, {"acc": 0.9}])
def test_tell_and_a_target_refuse_the_same_values(bad):
    opt = optimizer()
    info = opt.ask()
    with pytest.raises(ValueError, match=r"tell\(.*\) got"):
        opt.tell(info, bad)
    assert opt.pending == [info] and len(opt.runhistory) == 0  # state intact
    opt.optimize(lambda config, budget: bad, n_trials=2, catch=(Exception,))
    assert all(v.status is StatusType.CRASHED for _, v in opt.runhistory.items())


def test_non_json_additional_info_is_refused_naming_the_key_with_or_without_output_dir():
    opt = optimizer()
    info = opt.ask()
    with pytest.raises(TypeError, match=r"additional_info\['model'\] is of type object"):
        opt.tell(info, {"cost": 0.5, "model": object()})
    assert opt.pending == [info] and len(opt.runhistory) == 0
    opt.tell(info, {"cost": 0.5, "model": "saved to model.pt"})


def test_optimize_warns_when_n_trials_is_already_reached():
    opt = optimizer()
    opt.optimize(lambda config, budget: config["x"], n_trials=5)
    with pytest.warns(UserWarning, match=r"runs nothing: the run has reached n_trials=5 .*count the whole run"):
        opt.optimize(lambda config, budget: config["x"], n_trials=5)
    assert len(opt.runhistory) == 5


# ---------------------------------------------------------------------- what status and plots say
def crashed_run(directory: Path) -> smacish.Optimizer:
    opt = smacish.Optimizer(space(), smacish.Hyperband(min_budget=1, max_budget=9), seed=0, output_dir=directory)
    opt.optimize(typo, n_trials=5, catch=(Exception,))
    return opt


def test_status_counts_trials_by_status_and_shows_the_first_error_of_each_kind(tmp_path, capsys):
    from smacish.cli import main

    opt = crashed_run(tmp_path / "run")
    info = opt.ask()
    opt.tell(info, TrialValue(cost=math.inf, status=StatusType.ABORTED))
    assert main(["status", str(tmp_path / "run")]) == 0
    out = capsys.readouterr().out
    assert "by status:   5 CRASHED, 1 ABORTED (to run again)" in out
    assert "error:       CRASHED: KeyError: 'X' (5 trial(s); first config_id=(0, 0, 0) budget=1.0)" in out
    assert 'return config["X"]' in out
    assert "incumbent:   none yet" in out


def test_status_piped_into_head_ends_quietly(tmp_path):
    crashed_run(tmp_path / "run")
    proc = subprocess.run(f"'{sys.executable}' -m smacish status '{tmp_path / 'run'}' | head -1", shell=True,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout.startswith("run:")
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr


def test_status_of_a_directory_that_is_no_run_says_so(tmp_path, capsys):
    from smacish.cli import main

    assert main(["status", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "is not a smacish run directory" in err and "resum" not in err


def test_plots_of_a_run_without_success_say_so_instead_of_empty_axes(tmp_path):
    from smacish import plotting

    opt = crashed_run(tmp_path / "run")
    for fig, message in ((plotting.plot_trajectory(opt), "no successful trial yet"),
                         (plotting.plot_learning_curves(opt.runhistory), "no successful trial yet")):
        assert [t.get_text() for t in fig.axes[0].texts] == [message]
    empty = smacish.RunHistory(space())
    assert [t.get_text() for t in plotting.plot_worker_timeline(empty).axes[0].texts] == ["no finished trial yet"]


# ---------------------------------------------------------------------- a script without a __main__ guard
SCRIPT = """
from ConfigSpace import ConfigurationSpace
import smacish

def target(config, budget):
    return config["x"] / budget

opt = smacish.Optimizer(ConfigurationSpace({"x": (0.0, 1.0)}), smacish.Hyperband(min_budget=1, max_budget=9))
"""


def test_a_script_without_a_main_guard_is_told_in_one_sentence(tmp_path):
    script = tmp_path / "tune.py"
    script.write_text(SCRIPT + "opt.optimize(target, n_trials=6, n_workers=2)\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: optimize() with n_workers=2 starts Dask worker processes")
    assert "tune.py again, which would run line 9 again" in last and 'if __name__ == "__main__":' in last
    assert "nanny" not in proc.stderr.lower() and len(proc.stderr.splitlines()) < 15


def test_a_guarded_script_runs_on_dask(tmp_path):
    script = tmp_path / "tune.py"
    script.write_text(SCRIPT + "if __name__ == '__main__':\n    opt.optimize(target, n_trials=6, n_workers=2)\n"
                      "    print(len(opt.runhistory))\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "6"


def test_the_embedded_cluster_is_quiet_under_basic_config(tmp_path):
    script = tmp_path / "tune.py"
    script.write_text("import logging\nlogging.basicConfig()\n" + SCRIPT
                      + "if __name__ == '__main__':\n    opt.optimize(target, n_trials=6, n_workers=2)\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
