"""Persistent runs: exact resume after a kill anywhere, a real SIGKILLed Dask driver, damaged
or mismatched run directories, warm-starting, and that loading executes nothing it reads.

The exactness tests drive an Optimizer with a deterministic "user": it keeps up to
``n_workers`` trials asked ahead, tells one of them at a time (which one is drawn by
hypothesis), and is "killed" (the Optimizer dropped, nothing closed) before any of its
operations. The killed run is resumed with ``Optimizer.load`` and must then ask and tell
exactly what an uninterrupted run with the same seed asks and tells.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import pickle
import random
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
import zlib
from unittest import mock
from collections import Counter
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
from ConfigSpace import ConfigurationSpace, Float
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smacish import _snapshot
from smacish import (
    Hyperband,
    Optimizer,
    RunHistory,
    StatusType,
    SuccessiveHalving,
    Trajectory,
    TrialInfo,
    TrialValue,
    WaitForResults,
)

# Optimizers are dropped on purpose, as a killed process drops them: their open log is
# closed by the garbage collector, which Python reports as an unraisable ResourceWarning.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:Exception ignored in. <_io\.(FileIO|TextIOWrapper) name='[^']*events\.jsonl'"
    ":pytest.PytestUnraisableExceptionWarning"
)

REPO = Path(__file__).resolve().parents[1]
RUN_FILES = {"optimizer.json", "events.jsonl", "runhistory.json", "trajectory.jsonl", "state.json", ".lock"}


def space(**extra: Any) -> ConfigurationSpace:
    """A float, an int and a categorical hyperparameter (plus ``extra`` ones)."""
    cs = ConfigurationSpace({"x": (-5.0, 5.0), "n": (1, 8), "kind": ["a", "b", "c"]}, seed=0)
    for hp in extra.values():
        cs.add(hp)
    return cs


SPACE = space()


def vector(config) -> Tuple[float, ...]:
    return tuple(float(v) for v in config.get_array())


def value_of(info: TrialInfo) -> TrialValue:
    """A deterministic result per (config, budget, instance, seed); x > 4 crashes."""
    c = info.config
    if c["x"] > 4.0:
        return TrialValue(cost=math.inf, status=StatusType.CRASHED, additional_info={"error": "x too large"})
    base = (c["x"] - 1.0) ** 2 + 0.1 * c["n"] + {"a": 0.0, "b": 0.5, "c": 1.0}[c["kind"]]
    noise = zlib.crc32(repr((info.instance, info.seed)).encode()) % 1000 / 1000
    budget = 1.0 if info.budget is None else info.budget
    return TrialValue(cost=base + noise / budget, time=budget, additional_info={"tag": [budget, "ok"]})


# ---------------------------------------------------------------------------------- the driver
class Killed(Exception):
    """The simulated driver process died here."""


class Driver:
    """A deterministic user of ask/tell that may be killed before any of its operations.

    ``trace`` (what the outside world saw: each new ask and each tell, in order) and ``ops``
    (operations so far, re-asks of pending trials after a resume included) survive a kill, as
    a log of the user's own would; the trials it holds do not.
    """

    def __init__(self, n_workers: int, choices: List[int], kills: Optional[List[int]] = None):
        self.n_workers = n_workers
        self.choices = choices
        self.kills = sorted(kills or [])
        self.ops = 0
        self.trace: List[tuple] = []
        self.n_told = 0

    def _op(self) -> None:
        if self.kills and self.ops == self.kills[0]:
            self.kills.pop(0)
            raise Killed
        self.ops += 1

    def run(self, opt: Optimizer, n_trials: int) -> None:
        pending: List[TrialInfo] = []
        reissue = [info.key for info in opt.pending]  # pending at a kill, in the order asked
        while True:
            while len(pending) < self.n_workers and (reissue or opt.n_asked < n_trials):
                self._op()
                try:
                    info = opt.ask(n_workers=self.n_workers)
                except WaitForResults:
                    assert not reissue, "a pending trial of the killed run was not re-issued first"
                    break
                if reissue:
                    assert info.key == reissue.pop(0), "pending trials must come back first, in ask order"
                else:
                    self.trace.append(("ask", info.key, vector(info.config)))
                pending.append(info)
            if not pending:
                return
            self._op()
            info = pending.pop(self.choices[self.n_told % len(self.choices)] % len(pending))
            value = value_of(info)
            opt.tell(info, value)
            self.n_told += 1
            self.trace.append(("tell", info.key, value.cost, value.status))


def run_killed(
    make: Callable[[], Optimizer], directory: Path, driver: Driver, n_trials: int,
    torn_tails: Optional[List[int]] = None, load_kwargs: Callable[[], dict] = dict,
) -> Tuple[Optimizer, int]:
    """Run ``driver`` on ``make()``, resuming with ``Optimizer.load(directory, **load_kwargs())``
    after every kill.

    ``torn_tails``: per kill, the length of a prefix of the log's last line to append before
    resuming, as a crash in the middle of a write leaves it (0: none). Returns the final
    optimizer and the number of loads."""
    torn_tails = list(torn_tails or [])
    opt = make()
    loads = 0
    while True:
        try:
            driver.run(opt, n_trials)
            return opt, loads
        except Killed:
            pass
        del opt  # dropped like a killed process: nothing is closed or saved on purpose
        torn = torn_tails.pop(0) if torn_tails else 0
        if torn:
            tear_log(directory, torn)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            opt = Optimizer.load(directory, durable=False, **load_kwargs())
        truncated = [w for w in caught if issubclass(w.category, RuntimeWarning) and "truncated" in str(w.message)]
        assert len(truncated) == (1 if torn else 0), [str(w.message) for w in caught]
        loads += 1


def tear_log(directory: Path, length: int) -> None:
    """Write the first ``length`` bytes of a copy of the last event, without its newline, at
    the end of the events (over the zeros the log grew ahead, as a real torn write would)."""
    path = directory / "events.jsonl"
    data = path.read_bytes() if path.exists() else b""
    end = data.find(b"\0") if b"\0" in data else len(data)
    lines = data[:end].splitlines()
    last = lines[-1] if lines else b'{"e": "ask", "t": 0.0, "n_workers": 1, "trial": {}}'
    with open(path, "r+b" if path.exists() else "wb") as fh:
        fh.seek(end)
        fh.write(last[: max(1, min(length, len(last) - 1))])


def trial_rows(rh: RunHistory) -> List[tuple]:
    return [(i.key, vector(i.config), v.cost, v.status) for i, v in rh.items()]


def trajectory_rows(traj) -> List[tuple]:
    return [(e.config_number, e.cost, e.budget, e.n_trials, e.budget_spent) for e in traj]


def assert_same_run(
    ref: Optimizer, ref_driver: Driver, opt: Optimizer, driver: Driver, directory: Path,
    load_kwargs: Callable[[], dict] = dict,
) -> None:
    assert driver.trace == ref_driver.trace
    assert trial_rows(opt.runhistory) == trial_rows(ref.runhistory)
    assert opt.incumbent == ref.incumbent
    a = ref.runhistory.incumbent_entry(ref.intensifier.incumbent_selection, ref.intensifier.max_budget)
    b = opt.runhistory.incumbent_entry(opt.intensifier.incumbent_selection, opt.intensifier.max_budget)
    assert (a is None) == (b is None)
    if a is not None:
        assert (b.config_id, b.budget, b.cost) == (a.config_id, a.budget, a.cost)
    assert trajectory_rows(opt.trajectory) == trajectory_rows(ref.trajectory)
    assert (opt.n_asked, opt.budget_spent, opt.pending) == (ref.n_asked, ref.budget_spent, [])
    # the files agree with memory: the trajectory file, the snapshot, and one more replay
    if (directory / "trajectory.jsonl").exists():
        assert trajectory_rows(Trajectory.load(directory / "trajectory.jsonl")) == trajectory_rows(ref.trajectory)
    else:
        assert len(ref.trajectory) == 0
    opt.close()  # saves, and frees the directory for the next writer
    assert trial_rows(RunHistory.load(directory / "runhistory.json")) == trial_rows(ref.runhistory)
    again = Optimizer.load(directory, durable=False, **load_kwargs())
    assert trial_rows(again.runhistory) == trial_rows(ref.runhistory)
    assert trajectory_rows(again.trajectory) == trajectory_rows(ref.trajectory)


class ListSelector:
    """A selector of the user's own: hands out a fixed list of distinct configurations in
    order, with its position as its (JSON) state."""

    def __init__(self, space_: ConfigurationSpace, n: int = 300):
        sampler = ConfigurationSpace({"x": (-5.0, 5.0), "n": (1, 8), "kind": ["a", "b", "c"]}, seed=4)
        self.configs = [type(c)(space_, vector=c.get_array()) for c in sampler.sample_configuration(n)]
        self.i = 0

    def propose(self, runhistory, pending):
        config = self.configs[self.i]
        self.i += 1
        return config

    def get_state(self):
        return {"i": self.i}

    def set_state(self, state):
        self.i = state["i"]


# ---------------------------------------------------------------------------------- exactness
INSTANCES = [f"inst-{k}" for k in range(9)]
CASES: Dict[str, dict] = {
    "sh-real": dict(make=lambda: SuccessiveHalving(min_budget=1, max_budget=27, eta=3), n_workers=1, n_trials=45),
    "hb-real": dict(make=lambda: Hyperband(min_budget=1, max_budget=9, eta=3), n_workers=1, n_trials=50),
    "sh-instances": dict(
        make=lambda: SuccessiveHalving(instances=INSTANCES[:4], n_seeds=2, eta=2, instance_order="shuffle"),
        n_workers=1, n_trials=60),
    "hb-instances-3w": dict(
        make=lambda: Hyperband(instances=INSTANCES, eta=3, instance_order="shuffle_once"), n_workers=3, n_trials=60),
    "hb-real-3w": dict(make=lambda: Hyperband(min_budget=1, max_budget=27, eta=3), n_workers=3, n_trials=60),
    "sh-real-2w-any": dict(
        make=lambda: SuccessiveHalving(min_budget=0.1, max_budget=1.0, eta=2, incumbent_selection="any_budget"),
        n_workers=2, n_trials=40),
    # selectors with state: the user's own (passed again on load), and the model-based ones
    "hb-own-selector-2w": dict(make=lambda: Hyperband(min_budget=1, max_budget=9, eta=3), n_workers=2,
                               n_trials=50, selector=lambda: ListSelector(SPACE)),
    "hb-kde-2w": dict(make=lambda: Hyperband(min_budget=1, max_budget=9, eta=3), n_workers=2, n_trials=50,
                      selector=lambda: "kde"),
    "sh-rf": dict(make=lambda: SuccessiveHalving(min_budget=1, max_budget=9, eta=3), n_workers=1, n_trials=30,
                  selector=lambda: "rf", slow=True),  # slow=True: seconds per run, sampled less
}
FAST_CASES = sorted(name for name, spec in CASES.items() if not spec.get("slow"))

_references: Dict[tuple, Tuple[Optimizer, Driver]] = {}


def reference(case: str, choices: List[int]) -> Tuple[Optimizer, Driver]:
    """The uninterrupted run, in memory (no output_dir), with the same seed and tell order."""
    key = (case, tuple(choices))
    if key not in _references:
        spec = CASES[case]
        opt = Optimizer(SPACE, spec["make"](), seed=7, selector=selector_of(spec))
        driver = Driver(spec["n_workers"], choices)
        driver.run(opt, spec["n_trials"])
        assert len(opt.runhistory) == spec["n_trials"]
        _references[key] = (opt, driver)
    return _references[key]


def selector_of(spec: dict) -> Any:
    return spec["selector"]() if "selector" in spec else "random"


def exact_resume(case: str, choices: List[int], kills: List[int], torn: List[int],
                 snapshot_every: Optional[int] = None) -> None:
    """``snapshot_every``: write a state snapshot after that many events (None: as in use, which
    in runs this small means only at ``save``), so that resumes start from snapshots at any
    point of the log."""
    spec = CASES[case]
    own = not isinstance(selector_of(spec), str)

    def load_kwargs() -> dict:  # the user's own selector is passed again, a new one per load
        return {"selector": selector_of(spec)} if own else {}

    ref, ref_driver = reference(case, choices)
    often = ({"MIN_EVENTS": snapshot_every, "GROWTH": 10**9} if snapshot_every
             else {"MIN_EVENTS": _snapshot.MIN_EVENTS, "GROWTH": _snapshot.GROWTH})
    with tempfile.TemporaryDirectory() as tmp, mock.patch.multiple(_snapshot, **often):
        directory = Path(tmp) / "run"
        driver = Driver(spec["n_workers"], choices, kills)
        opt, loads = run_killed(
            lambda: Optimizer(SPACE, spec["make"](), seed=7, output_dir=directory, durable=False,
                              selector=selector_of(spec)),
            directory, driver, spec["n_trials"], torn, load_kwargs,
        )
        assert loads == len(kills) - len(driver.kills)  # every kill point inside the run was hit
        assert_same_run(ref, ref_driver, opt, driver, directory, load_kwargs)


def exactness_examples(case: str):
    n_ops = 2 * CASES[case]["n_trials"] + 5  # asks + tells, and a few re-asks after resumes
    return dict(
        choices=st.lists(st.integers(0, 7), min_size=1, max_size=6),
        kills=st.lists(st.integers(0, n_ops), min_size=1, max_size=3, unique=True),
        torn=st.lists(st.sampled_from([0, 0, 1, 7, 60, 10_000]), min_size=3, max_size=3),
        snapshot_every=st.sampled_from([None, 1, 2, 5, 13]),
    )


@pytest.mark.parametrize("case", FAST_CASES)
def test_resume_is_exact_after_a_kill_anywhere(case):
    """Killed before any ask or tell (and sometimes mid-write), once or several times, the
    resumed run asks and tells what the uninterrupted one does, with the same incumbent and
    trajectory."""

    @settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(**exactness_examples(case))
    def check(choices, kills, torn, snapshot_every):
        exact_resume(case, choices, kills, torn, snapshot_every)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_resume_is_exact_after_a_kill_anywhere_many(case):
    @settings(max_examples=20 if CASES[case].get("slow") else 150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(**exactness_examples(case))
    def check(choices, kills, torn, snapshot_every):
        exact_resume(case, choices, kills, torn, snapshot_every)

    check()


@pytest.mark.slow
@pytest.mark.parametrize("case", FAST_CASES)
def test_resume_after_every_single_kill_point(case):
    """Every kill point of one run, exhaustively (the hypothesis tests sample them)."""
    n_ops = len(reference(case, [0, 3, 1])[1].trace)
    for kill in range(0, n_ops + 2):
        for snapshot_every in (None, 3):
            exact_resume(case, [0, 3, 1], [kill], [0], snapshot_every)


def test_resume_is_exact_with_the_random_forest_selector():
    """The model-based selector's state (its RNG; its model is rebuilt from the RunHistory)
    comes back too: killed twice, the run goes on as the uninterrupted one."""
    exact_resume("sh-rf", [0], [13, 30], [0])
    exact_resume("sh-rf", [0], [13, 30], [0], snapshot_every=4)


def test_pending_trial_told_without_asking_again(tmp_path):
    """After a load, a pending trial may be told straight from ``opt.pending``; it is then
    not re-issued, and the run goes on as the uninterrupted one."""
    ref = Optimizer(SPACE, Hyperband(min_budget=1, max_budget=9), selector="random", seed=7)
    opt = Optimizer(SPACE, Hyperband(min_budget=1, max_budget=9), selector="random", seed=7,
                    output_dir=tmp_path / "run")
    held = [opt.ask(n_workers=2), opt.ask(n_workers=2)]
    ref_held = [ref.ask(n_workers=2), ref.ask(n_workers=2)]
    assert [i.key for i in held] == [i.key for i in ref_held]
    del opt
    opt = Optimizer.load(tmp_path / "run")
    assert [i.key for i in opt.pending] == [i.key for i in held]
    assert opt.n_asked == 0  # the pending ones count again when they are re-issued or told
    first = opt.pending[0]
    opt.tell(first, value_of(first))
    ref.tell(ref_held[0], value_of(ref_held[0]))
    assert opt.n_asked == 1
    again = opt.ask(n_workers=2)
    assert again.key == held[1].key  # the other one is re-issued, the told one is not
    opt.tell(again, value_of(again))
    ref.tell(ref_held[1], value_of(ref_held[1]))
    for _ in range(30):
        a, b = ref.ask(n_workers=2), opt.ask(n_workers=2)
        assert (a.key, vector(a.config)) == (b.key, vector(b.config))
        ref.tell(a, value_of(a))
        opt.tell(b, value_of(b))
    assert trial_rows(opt.runhistory) == trial_rows(ref.runhistory)
    with pytest.raises(ValueError, match="told already"):
        opt.tell(first, value_of(first))


# ------------------------------------------------------------------ a real driver, SIGKILLed
DRIVER_SCRIPT = textwrap.dedent('''
    import sys
    import time

    from ConfigSpace import ConfigurationSpace

    import smacish


    def target(config, budget):
        time.sleep(0.02 + 0.01 * budget)
        return (config["x"] - 1.0) ** 2 + 1.0 / budget


    if __name__ == "__main__":
        mode, directory, n_trials, selector = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
        if len(sys.argv) > 5:  # a state snapshot every that many events: resumes start from one
            smacish._snapshot.MIN_EVENTS, smacish._snapshot.GROWTH = int(sys.argv[5]), 10**9
        if mode == "new":
            cs = ConfigurationSpace({"x": (-5.0, 5.0)}, seed=0)
            opt = smacish.Optimizer(cs, smacish.Hyperband(min_budget=1, max_budget=9, eta=3), seed=3,
                                    selector=selector, output_dir=directory)
        else:
            opt = smacish.Optimizer.load(directory)
        opt.optimize(target, n_trials=n_trials, n_workers=2)
        print("finished", len(opt.runhistory))
''')
PLANNED = Hyperband(min_budget=1, max_budget=9, eta=3).schedules  # [(9, 1), (3, 3), (1, 9)], [(5, 3), (1, 9)], [(3, 9)]


def start_driver(script: Path, mode: str, directory: Path, n_trials: int, cwd: Path, selector: str,
                 snapshot_every: Optional[int] = None) -> subprocess.Popen:
    """The driver in a session of its own (so its whole process group can be killed); its
    output goes to files (a full pipe nobody reads would block it)."""
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
    every = [str(snapshot_every)] if snapshot_every else []
    with open(cwd / f"{mode}.out", "wb") as out, open(cwd / f"{mode}.err", "wb") as err:
        return subprocess.Popen(
            [sys.executable, str(script), mode, str(directory), str(n_trials), selector, *every], cwd=cwd, env=env,
            stdout=out, stderr=err, start_new_session=True,
        )


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the driver and every process of its session (its Dask scheduler, nannies and
    workers), then wait until none is left, so no orphan keeps running trials or ports."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for _ in range(200):
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)  # orphans re-parented to init are reaped asynchronously


def log_lines(path: Path) -> List[dict]:
    """The complete events of a log (a torn last line, from the kill, is left out)."""
    data = path.read_bytes()
    return [json.loads(line) for line in data[: data.rfind(b"\n") + 1].splitlines() if line.strip()]


def trial_key(row: list) -> tuple:
    config_id, instance, seed, budget = row
    return (tuple(config_id), instance, seed, budget)


def check_schedule(rh: RunHistory) -> None:
    """Every iteration follows its Hyperband bracket: full stages before the next one starts,
    at most the planned number of configurations per stage, the best ones promoted."""
    by_iteration: Dict[int, Dict[float, Dict[tuple, float]]] = {}
    for info, value in rh.items():
        stage = by_iteration.setdefault(info.config_id[0], {}).setdefault(info.budget, {})
        assert info.config_id not in stage, f"{info.key} ran twice"
        stage[info.config_id] = rh.effective_cost(value)
    for iteration, stages in sorted(by_iteration.items()):
        [plan] = [p for p in PLANNED if p[0][1] == min(stages)]
        assert set(stages) <= {b for _, b in plan}, f"iteration {iteration}: budgets {sorted(stages)} not in {plan}"
        for j, (n, budget) in enumerate(plan):
            ran = stages.get(budget, {})
            assert len(ran) <= n, f"iteration {iteration}, budget {budget}: {len(ran)} > {n} configurations"
            if j + 1 < len(plan) and plan[j + 1][1] in stages:
                assert len(ran) == n, f"iteration {iteration}: stage {j} incomplete but the next one started"
                best = sorted(ran, key=lambda cid: (ran[cid], cid))[: plan[j + 1][0]]
                assert set(stages[plan[j + 1][1]]) <= set(best), f"iteration {iteration}: wrong promotions"


def sigkill_and_resume(tmp_path: Path, seed: int, n_trials: int = 22, selector: str = "random",
                       snapshot_every: Optional[int] = None) -> None:
    rng = random.Random(seed)
    directory = tmp_path / "run"
    script = tmp_path / "driver.py"
    script.write_text(DRIVER_SCRIPT)
    log = directory / "events.jsonl"

    proc = start_driver(script, "new", directory, n_trials, tmp_path, selector, snapshot_every)
    try:
        wait_for = rng.randint(1, 14)  # tells in the log before the kill
        deadline = time.monotonic() + 180
        while True:
            assert proc.poll() is None, f"the driver ended before the kill: {(tmp_path / 'new.err').read_text()[-3000:]}"
            assert time.monotonic() < deadline, "the driver logged no tells for 180 s"
            data = log.read_bytes() if log.exists() else b""
            if data[: data.rfind(b"\n") + 1].count(b'"e": "tell"') >= wait_for and (  # complete lines only
                    not snapshot_every or (directory / "state.json").exists()):
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.05))
        killed_at = time.time()
    finally:
        kill_group(proc)
    before = log_lines(log)
    told = {trial_key(e["trial"]): e["value"] for e in before if e["e"] == "tell"}
    asked = {trial_key([e["trial"][k] for k in ("config_id", "instance", "seed", "budget")]): e["trial"]
             for e in before if e["e"] == "ask"}
    pending = [k for k in asked if k not in told]
    assert len(told) >= wait_for and len(told) < n_trials

    if snapshot_every:
        assert (directory / "state.json").exists()  # the resume starts from a snapshot
    resumed = start_driver(script, "load", directory, n_trials, tmp_path, selector, snapshot_every)
    try:
        resumed.wait(timeout=300)
    finally:
        kill_group(resumed)
    assert resumed.returncode == 0, (tmp_path / "load.err").read_text()[-3000:]
    assert f"finished {n_trials}" in (tmp_path / "load.out").read_text()

    events = log_lines(log)
    assert events[: len(before)] == before  # the log is append-only
    after = events[len(before):]
    tells = Counter(trial_key(e["trial"]) for e in events if e["e"] == "tell")
    assert all(n == 1 for n in tells.values()), f"told more than once: {[k for k, n in tells.items() if n > 1]}"
    assert set(tells) == {trial_key([e["trial"][k] for k in ("config_id", "instance", "seed", "budget")])
                          for e in events if e["e"] == "ask"}  # every trial asked was told
    # the trials pending at the kill are asked again before anything new, in the order asked
    reasks = [e for e in after if e["e"] in ("ask", "reissue")]
    assert [e["e"] for e in reasks[: len(pending)]] == ["reissue"] * len(pending)
    assert [trial_key(e["trial"]) for e in reasks[: len(pending)]] == pending

    snapshot = RunHistory.load(directory / "runhistory.json")
    replayed = Optimizer.load(directory).runhistory  # the whole log replays through a fresh scheduler
    assert trial_rows(replayed) == trial_rows(snapshot)
    final = {i.key: (i, v) for i, v in snapshot.items()}
    assert len(final) == len(snapshot) == n_trials
    assert all(v.status is StatusType.SUCCESS for _, v in final.values())
    for key, value in told.items():  # finished before the kill: kept once, with its value
        info, kept = final[key]
        assert (kept.cost, kept.status.value, kept.starttime, kept.endtime, kept.additional_info) == (
            value["cost"], value["status"], value["starttime"], value["endtime"], value["additional_info"])
    for key in pending:  # interrupted: run again after the kill, same config, budget, config_id
        info, value = final[key]
        trial = asked[key]
        assert list(vector(info.config)) == trial["config"]["vector"]
        assert (list(info.config_id), info.budget) == (trial["config_id"], trial["budget"])
        assert value.starttime >= killed_at
    check_schedule(snapshot)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("seed, selector, snapshot_every", [(1, "random", None), (2, "rf", 3)])
def test_sigkilled_dask_driver_resumes(tmp_path, seed, selector, snapshot_every):
    """A real driver on an embedded Dask cluster, SIGKILLed (with its cluster) after a random
    number of tells, then resumed in a new process (from the whole log, or from a state
    snapshot and the log after it): nothing told is lost or run twice, the interrupted trials
    run again first, and the run ends on the planned schedule."""
    sigkill_and_resume(tmp_path, seed, selector=selector, snapshot_every=snapshot_every)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("seed", range(3, 9))
def test_sigkilled_dask_driver_resumes_many(tmp_path, seed):
    sigkill_and_resume(tmp_path, seed, n_trials=22 + seed % 3 * 11, selector=("random", "rf", "kde")[seed % 3],
                       snapshot_every=(None, 2, 5)[seed % 3])


# ---------------------------------------------------------------------------------- error cases
def hb() -> Hyperband:
    return Hyperband(min_budget=1, max_budget=9, eta=3)


def events_of(log: Path) -> bytes:
    """The events in a log, without the zeros it grows ahead of them (a run not closed has those)."""
    return log.read_bytes().rstrip(b"\0")


def serial_run(directory: Optional[Path], n_trials: int, seed: int = 7, **kwargs: Any) -> Optimizer:
    """A serial run of ``n_trials`` with ``value_of`` as the target (no output_dir if None)."""
    kwargs.setdefault("selector", "random")
    opt = Optimizer(SPACE, kwargs.pop("intensifier", None) or hb(), seed=seed, output_dir=directory, **kwargs)
    continue_run(opt, n_trials)
    return opt


def continue_run(opt: Optimizer, n_trials: int) -> Optimizer:
    while opt.n_asked < n_trials or opt.pending:
        info = opt.ask()
        opt.tell(info, value_of(info))
    return opt


def test_the_log_grows_ahead_in_zeros_that_a_killed_run_leaves_and_close_cuts(tmp_path):
    directory = tmp_path / "run"
    opt = serial_run(directory, 400)  # ~190 KB of events: the log grew several times
    log = directory / "events.jsonl"
    data = log.read_bytes()
    events = events_of(log)
    assert len(data) > len(events) and not data[len(events):].strip(b"\0")
    assert len(events.splitlines()) == 800 and all(json.loads(line) for line in events.splitlines())
    del opt  # killed: the zeros stay
    opt = Optimizer.load(directory)
    assert log.read_bytes() == data  # the load wrote nothing to the log
    continue_run(opt, 600)  # appends over the zeros
    opt.close()
    events = log.read_bytes()
    assert b"\0" not in events and len(events.splitlines()) == 1200
    assert trial_rows(opt.runhistory) == trial_rows(serial_run(None, 600).runhistory)


def test_zeros_followed_by_events_are_damage_not_free_space(tmp_path):
    directory = tmp_path / "run"
    serial_run(directory, 10)
    log = directory / "events.jsonl"
    lines = events_of(log).splitlines(keepends=True)
    log.write_bytes(b"".join(lines[:-2]) + b"\0" * 50 + lines[-1])  # a power cut's hole
    with pytest.raises(ValueError, match=rf"{re.escape(str(log))}, line 19: corrupt event"):
        Optimizer.load(directory)


def test_truncated_last_line_is_dropped_with_a_warning_and_the_run_resumes(tmp_path):
    directory = tmp_path / "run"
    serial_run(directory, 10)
    log = directory / "events.jsonl"
    lines = events_of(log).splitlines(keepends=True)
    last = json.loads(lines[-1])
    assert last["e"] == "tell"
    log.write_bytes(b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2])  # killed mid-write
    with pytest.warns(RuntimeWarning, match=rf"events\.jsonl, line {len(lines)}: dropped a truncated last event"):
        opt = Optimizer.load(directory)
    assert log.read_bytes() == b"".join(lines[:-1])  # cut back to the complete events
    assert [i.key for i in opt.pending] == [trial_key(last["trial"])]  # its result was not durable
    assert len(opt.runhistory) == 9
    continue_run(opt, 40)
    assert trial_rows(opt.runhistory) == trial_rows(serial_run(None, 40).runhistory)


def test_a_last_line_missing_only_its_newline_is_kept(tmp_path):
    directory = tmp_path / "run"
    serial_run(directory, 10)
    log = directory / "events.jsonl"
    log.write_bytes(events_of(log)[:-1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        opt = Optimizer.load(directory)
    assert len(opt.runhistory) == 10 and opt.pending == []
    assert log.read_bytes().endswith(b"}\n")


@pytest.mark.parametrize("damage", [
    lambda line: line[: len(line) // 2],  # torn in the middle of the log
    lambda line: b"\x00" * len(line),  # a block of zeros, as a power cut can leave
    lambda line: b'{"e": "tell", "t": 1.0, oops}',
    lambda line: b'["not", "an", "event"]',
    lambda line: b'{"e": "delete_everything"}',
], ids=["torn", "zeros", "bad-json", "not-an-object", "unknown-event"])
def test_a_corrupt_line_in_the_middle_of_the_log_is_an_error_naming_file_and_line(tmp_path, damage):
    directory = tmp_path / "run"
    serial_run(directory, 10)
    log = directory / "events.jsonl"
    lines = events_of(log).splitlines(keepends=True)
    lines[4] = damage(lines[4].rstrip(b"\n")) + b"\n"
    log.write_bytes(b"".join(lines))
    before = log.read_bytes()
    with pytest.raises(ValueError, match=rf"{re.escape(str(log))}, line 5: corrupt event"):
        Optimizer.load(directory)
    assert log.read_bytes() == before  # nothing is "repaired" behind the user's back


@pytest.mark.parametrize("field, damaged", [
    ("value", {"cost": "high"}), ("trial", None), ("proposals", None), ("n_workers", "two"), ("t", "noon"),
])
def test_a_well_formed_but_damaged_event_is_an_error_naming_file_and_line(tmp_path, field, damaged):
    directory = tmp_path / "run"
    serial_run(directory, 10)
    log = directory / "events.jsonl"
    lines = events_of(log).decode().splitlines(keepends=True)
    number = next(n for n, line in enumerate(lines) if field in json.loads(line) and n > 2)
    event = json.loads(lines[number])
    event[field] = damaged
    lines[number] = json.dumps(event) + "\n"
    log.write_text("".join(lines))
    with pytest.raises(ValueError, match=rf"{re.escape(str(log))}, line {number + 1}\b"):
        Optimizer.load(directory)


def test_a_corrupted_snapshot_does_not_matter_the_log_is_authoritative(tmp_path):
    directory = tmp_path / "run"
    opt = serial_run(directory, 12)
    opt.save()
    snapshot = directory / "runhistory.json"
    snapshot.write_text(snapshot.read_text()[:100])  # damaged
    (directory / "trajectory.jsonl").write_text("garbage\n")
    with pytest.raises(ValueError, match="runhistory.json is not valid JSON"):
        RunHistory.load(snapshot)
    del opt
    opt = Optimizer.load(directory)
    # rewritten from the log at once, and good
    assert trial_rows(RunHistory.load(snapshot)) == trial_rows(opt.runhistory)
    assert trajectory_rows(Trajectory.load(directory / "trajectory.jsonl")) == trajectory_rows(opt.trajectory)
    continue_run(opt, 30)
    assert trial_rows(opt.runhistory) == trial_rows(serial_run(None, 30).runhistory)
    snapshot.unlink()  # a missing snapshot is no problem either
    opt.close()
    assert len(Optimizer.load(directory).runhistory) == 30


def snapshot_then_more(directory: Path, first: int, total: int) -> Optimizer:
    """A serial run saved (state snapshot written) after ``first`` trials, then told up to
    ``total`` without another snapshot, and dropped as if killed."""
    opt = serial_run(directory, first)
    opt.save()
    return continue_run(opt, total)


def test_a_resume_replays_only_the_log_after_the_snapshot(tmp_path):
    """Proof that the snapshot is used: change an event the snapshot covers into one that no
    replay accepts (still a well-formed event, so the log's check passes), and the run still
    resumes exactly; without the snapshot the same change is an error."""
    directory = tmp_path / "run"
    opt = snapshot_then_more(directory, 20, 26)
    state = json.loads((directory / "state.json").read_text())
    assert state["log"]["events"] == 40  # 20 asks and 20 tells
    del opt
    log = directory / "events.jsonl"
    lines = events_of(log).splitlines(keepends=True)
    bogus = b'{"e": "reissue", "t": 0.0, "trial": "no such trial"}'
    lines[3] = bogus.ljust(len(lines[3]) - 1) + b"\n"  # same length: the snapshot's offset still fits
    log.write_bytes(b"".join(lines))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to the whole log
        opt = Optimizer.load(directory)
    assert len(opt.runhistory) == 26
    continue_run(opt, 40)
    assert trial_rows(opt.runhistory) == trial_rows(serial_run(None, 40).runhistory)
    assert trajectory_rows(opt.trajectory) == trajectory_rows(serial_run(None, 40).trajectory)
    opt.close()
    (directory / "state.json").unlink()
    with pytest.raises(ValueError, match=rf"{re.escape(str(log))}, line 4: damaged 'reissue' event"):
        Optimizer.load(directory)


def _cut(text: str, log: Path) -> str:
    return text[: len(text) // 2]


def _without(key: str) -> Callable[[str, Path], str]:
    def damage(text: str, log: Path) -> str:
        state = json.loads(text)
        del state[key]
        return json.dumps(state)
    return damage


def _log_position(events: int, offset: int) -> Callable[[str, Path], str]:
    def damage(text: str, log: Path) -> str:
        state = json.loads(text)
        state["log"] = {"events": events, "offset": state["log"]["offset"] + offset}
        return json.dumps(state)
    return damage


def _earlier(text: str, log: Path) -> str:
    """A good snapshot of the run after 40 events that claims to stand for the first ten: the
    events after those do not follow from it."""
    state = json.loads(text)
    state["log"] = {"events": 10, "offset": len(b"".join(events_of(log).splitlines(keepends=True)[:10]))}
    return json.dumps(state)


def _bad_member(text: str, log: Path) -> str:
    state = json.loads(text)
    state["scheduler"]["runs"][0]["members"][0]["config"] = 10**6  # no such configuration
    return json.dumps(state)


@pytest.mark.parametrize("damage, message", [
    (_cut, r"state\.json is damaged \(not valid JSON"),
    (lambda text, log: "[1, 2]", r"state\.json is not a smacish state snapshot"),
    (_without("scheduler"), r"state\.json could not be used \(KeyError: 'scheduler'\)"),
    (_bad_member, r"state\.json could not be used \(IndexError"),
    (_earlier, r"state\.json could not be used \(ValueError: .*events\.jsonl, line 11: "),
    (_log_position(40, 10**6), r"state\.json does not fit events\.jsonl \(it stands for \d+ bytes of events\.jsonl, which holds \d+\)"),
    (_log_position(40, -3), r"state\.json does not fit events\.jsonl \(byte \d+ of events\.jsonl is not the end of an event\)"),
])
def test_a_damaged_state_snapshot_is_ignored_with_a_warning(tmp_path, damage, message):
    """The log is authoritative: a snapshot that is damaged or does not fit the log is named
    in a warning, the whole log is replayed, and the run goes on exactly."""
    directory = tmp_path / "run"
    opt = snapshot_then_more(directory, 20, 26)
    del opt
    path = directory / "state.json"
    path.write_text(damage(path.read_text(), directory / "events.jsonl"))
    with pytest.warns(RuntimeWarning, match=message + r".*; the run is rebuilt from events\.jsonl alone"):
        opt = Optimizer.load(directory)
    assert json.loads(path.read_text())["log"]["events"] == 52  # a good snapshot again
    continue_run(opt, 40)
    assert trial_rows(opt.runhistory) == trial_rows(serial_run(None, 40).runhistory)


def test_snapshots_are_taken_while_telling_and_grow_geometrically(tmp_path):
    with mock.patch.multiple(_snapshot, MIN_EVENTS=10, GROWTH=2):
        directory = tmp_path / "run"
        opt = serial_run(directory, 4)
        assert not (directory / "state.json").exists()  # 8 events so far
        seen = []
        for _ in range(60):
            info = opt.ask()
            opt.tell(info, value_of(info))
            covered = json.loads((directory / "state.json").read_text())["log"]["events"]
            if not seen or seen[-1] != covered:
                seen.append(covered)
        # a snapshot once 10 more events and half as many again as the last one covered
        assert seen == [10, 20, 30, 46, 70, 106]
        assert [_snapshot.due(n, then) for n, then in [(9, 0), (10, 0), (29, 20), (30, 20), (44, 30), (45, 30)]] \
            == [False, True, False, True, False, True]


@pytest.mark.parametrize("content, message", [
    ('{"format": "smacish.run", "version": 1, "configsp', "optimizer.json is corrupt"),
    ("", "optimizer.json is corrupt"),
    ('{"format": "something else"}', "optimizer.json is not a smacish run's settings file"),
    ("[1, 2, 3]", "optimizer.json is not a smacish run's settings file"),
])
def test_a_corrupted_settings_file_is_a_clear_error(tmp_path, content, message):
    directory = tmp_path / "run"
    serial_run(directory, 5)
    (directory / "optimizer.json").write_text(content)
    with pytest.raises(ValueError, match=re.escape(message)):
        Optimizer.load(directory)


@pytest.mark.parametrize("tamper", [
    lambda s: s["intensifier"].update({"class": "hyperband_brackets"}),  # a function, not a class
    lambda s: s["intensifier"].update({"class": "__builtins__"}),
    lambda s: s["intensifier"].update({"class": "ParallelScheduler"}),
    lambda s: s["intensifier"]["settings"].update({"eta": "three"}),
    lambda s: s["intensifier"]["settings"].update({"code": "import os"}),
    lambda s: s.pop("intensifier"),
    lambda s: s.pop("configspace"),
    lambda s: s.update({"seed": "0"}),
    lambda s: s.update({"selector": "../../evil"}),
], ids=["function", "builtins", "abstract", "bad-eta", "unknown-setting", "no-intensifier",
        "no-space", "bad-seed", "bad-selector"])
def test_a_tampered_settings_file_is_a_clear_error_naming_it(tmp_path, tamper):
    directory = tmp_path / "run"
    serial_run(directory, 5)
    path = directory / "optimizer.json"
    settings_ = json.loads(path.read_text())
    tamper(settings_)
    path.write_text(json.dumps(settings_))
    with pytest.raises(ValueError, match=re.escape(str(path))):
        Optimizer.load(directory)


def test_a_changed_configuration_space_is_refused_saying_what_differs(tmp_path):
    directory = tmp_path / "run"
    serial_run(directory, 5)
    hint = r"warmstart=smacish\.RunHistory\.load\("
    with pytest.raises(ValueError, match=rf"configuration space differs.*added \['y'\].*{hint}"):
        Optimizer.load(directory, configspace=space(y=Float("y", (0.0, 1.0))))
    narrower = ConfigurationSpace({"x": (-4.0, 5.0), "n": (1, 8), "kind": ["a", "b", "c"]})
    with pytest.raises(ValueError, match=rf"changed \['x'\].*{hint}"):
        Optimizer.load(directory, configspace=narrower)
    fewer = ConfigurationSpace({"x": (-5.0, 5.0), "n": (1, 8)})
    with pytest.raises(ValueError, match=rf"removed \['kind'\].*{hint}"):
        Optimizer.load(directory, configspace=fewer)
    assert len(Optimizer.load(directory, configspace=space()).runhistory) == 5  # the same space is fine


def test_changed_intensifier_settings_are_refused_saying_what_differs(tmp_path):
    directory = tmp_path / "run"
    serial_run(directory, 5)
    hint = r"warmstart=smacish\.RunHistory\.load\("
    with pytest.raises(ValueError, match=rf"intensifier differs.*eta: 3 -> 2.*{hint}"):
        Optimizer.load(directory, intensifier=Hyperband(min_budget=1, max_budget=9, eta=2))
    with pytest.raises(ValueError, match=rf"max_budget: 9 -> 27.*{hint}"):
        Optimizer.load(directory, intensifier=Hyperband(min_budget=1, max_budget=27, eta=3))
    with pytest.raises(ValueError, match=rf"class: Hyperband -> SuccessiveHalving.*{hint}"):
        Optimizer.load(directory, intensifier=SuccessiveHalving(min_budget=1, max_budget=9, eta=3))
    assert len(Optimizer.load(directory, intensifier=hb()).runhistory) == 5  # the same settings are fine


def test_a_missing_directory_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=rf"{re.escape(str(tmp_path / 'nope'))} does not exist.*no smacish run is there"):
        Optimizer.load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"optimizer\.json is missing.*is not a smacish run directory"):
        Optimizer.load(tmp_path / "empty")
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(FileNotFoundError, match="does not exist or is not a directory"):
        Optimizer.load(tmp_path / "file")


@contextlib.contextmanager
def read_only(path: Path):
    """Make ``path`` a directory nobody may add files to. ``chmod`` does not stop root, so as
    root it gets the immutable attribute (``chattr +i``), which does."""
    if os.geteuid() != 0:
        os.chmod(path, 0o555)

        def undo() -> None:
            os.chmod(path, 0o755)
    else:
        done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True) if _has("chattr") else None
        if done is None or done.returncode != 0:
            pytest.skip(f"running as root and cannot make {path} read-only: chattr +i "
                        f"{'is not installed' if done is None else 'failed: ' + done.stderr.strip()}")

        def undo() -> None:
            subprocess.run(["chattr", "-i", str(path)], check=True)
    try:
        probe = path / ".probe"
        try:
            probe.write_text("x")
        except OSError:
            pass
        else:
            probe.unlink()
            pytest.skip(f"{path} is still writable after making it read-only (file system ignores it)")
        yield
    finally:
        undo()


def _has(command: str) -> bool:
    import shutil

    return shutil.which(command) is not None


def test_a_read_only_directory_is_refused_with_a_clear_error(tmp_path):
    run = tmp_path / "run"
    opt = serial_run(run, 8)
    opt.save()
    del opt
    # the run's files (not .lock, whose holder line a refused open may rewrite with a new time)
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.name != ".lock"}
    empty = tmp_path / "empty"
    empty.mkdir()
    with read_only(run), read_only(empty):
        with pytest.raises(PermissionError, match=rf"output_dir {re.escape(str(empty))} cannot hold a run.*choose another"):
            Optimizer(SPACE, hb(), output_dir=empty)
        with pytest.raises(PermissionError, match=rf"output_dir {re.escape(str(empty / 'sub'))} cannot hold a run"):
            Optimizer(SPACE, hb(), output_dir=empty / "sub")
        with pytest.raises(PermissionError, match=rf"cannot resume the run in {re.escape(str(run))}.*not writable.*RunHistory\.load"):
            Optimizer.load(run)
        # reading it is fine
        assert len(RunHistory.load(run / "runhistory.json")) == 8
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.name != ".lock"} == before
    assert list(empty.iterdir()) == []
    assert len(Optimizer.load(run).runhistory) == 8  # writable again: resumes


def test_an_output_dir_below_a_regular_file_is_refused(tmp_path):
    """Another way to a directory nobody can write, which holds for root too."""
    (tmp_path / "file").write_text("a file")
    with pytest.raises(NotADirectoryError, match=rf"output_dir {re.escape(str(tmp_path / 'file' / 'run'))} cannot hold a run \(Not a directory\); choose another"):
        Optimizer(SPACE, hb(), output_dir=tmp_path / "file" / "run")
    with pytest.raises(FileExistsError, match=rf"output_dir {re.escape(str(tmp_path / 'file'))} cannot hold a run"):
        Optimizer(SPACE, hb(), output_dir=tmp_path / "file")
    assert (tmp_path / "file").read_text() == "a file"


@pytest.mark.parametrize("only", [None, "optimizer.json", "events.jsonl", "runhistory.json", "trajectory.jsonl"])
def test_a_new_optimizer_never_overwrites_a_run(tmp_path, only):
    directory = tmp_path / "run"
    serial_run(directory, 12).save()
    if only is not None:  # what is left of a run, or a file a user saved there
        for path in directory.iterdir():
            if path.name != only:
                path.unlink()
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    previous = RunHistory.load(tmp_path / "run" / "runhistory.json") if only in (None, "runhistory.json") else None
    for kwargs in ({}, {"warmstart": previous} if previous else {}):
        with pytest.raises(FileExistsError, match=rf"{re.escape(str(directory))} already holds a run; resume it with smacish\.Optimizer\.load\(.*or choose a new output_dir"):
            Optimizer(SPACE, hb(), seed=3, output_dir=directory, **kwargs)
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before


def test_a_custom_selector_must_be_passed_again_on_load(tmp_path):
    directory = tmp_path / "run"
    serial_run(directory, 10, selector=ListSelector(SPACE))
    with pytest.raises(ValueError, match=r"used its own selector \(ListSelector\); pass it again: Optimizer\.load\(\.\.\., selector=\.\.\.\)"):
        Optimizer.load(directory)
    opt = Optimizer.load(directory, selector=ListSelector(SPACE))
    continue_run(opt, 30)
    assert trial_rows(opt.runhistory) == trial_rows(serial_run(None, 30, selector=ListSelector(SPACE)).runhistory)


def test_a_failed_tell_leaves_the_run_as_it_was(tmp_path):
    """A value that cannot be logged is refused before anything changes, so the run in memory
    and the one on disk never part ways."""
    directory = tmp_path / "run"
    opt = serial_run(directory, 6)
    info = opt.ask()
    log = (directory / "events.jsonl").read_bytes()
    with pytest.raises(TypeError, match=r"additional_info\['model'\] is of type object, which a run cannot store"):
        opt.tell(info, TrialValue(cost=1.0, additional_info={"model": object()}))
    assert (directory / "events.jsonl").read_bytes() == log
    assert opt.pending == [info] and len(opt.runhistory) == 6
    opt.tell(info, value_of(info))  # the user fixes the value and tells again
    continue_run(opt, 25)
    del opt
    resumed = Optimizer.load(directory)
    assert trial_rows(resumed.runhistory) == trial_rows(serial_run(None, 25).runhistory)


def test_a_failing_callback_cannot_part_the_run_from_its_log(tmp_path):
    """A tell is durable before user callbacks run: one that raises leaves a resumable run."""
    directory = tmp_path / "run"
    opt = serial_run(directory, 6)

    def broken(info, value):
        raise RuntimeError("callback failed")

    opt.callbacks.append(broken)
    info = opt.ask()
    with pytest.raises(RuntimeError, match="callback failed"):
        opt.tell(info, value_of(info))
    opt.callbacks.remove(broken)
    assert opt.pending == [] and len(opt.runhistory) == 7
    continue_run(opt, 25)
    del opt
    resumed = Optimizer.load(directory)
    assert trial_rows(resumed.runhistory) == trial_rows(serial_run(None, 25).runhistory)


# ---------------------------------------------------------------------------------- warm start
def previous_run(tmp_path: Path, n_trials: int = 22) -> RunHistory:
    serial_run(tmp_path / "previous", n_trials, seed=11).save()  # random selector
    return RunHistory.load(tmp_path / "previous" / "runhistory.json")


def test_warmstart_seeds_the_runhistory_but_not_the_counts(tmp_path):
    previous = previous_run(tmp_path)
    opt = Optimizer(SPACE, hb(), selector="random", seed=7, warmstart=previous)
    assert len(opt.runhistory) == len(previous) == 22
    assert (opt.n_asked, opt.budget_spent, opt.pending) == (0, 0.0, [])
    for info, value in previous.items():
        assert opt.runhistory.get(TrialInfo(info.config, info.budget, info.instance, info.seed)) == value
    assert opt.incumbent == previous.incumbent()  # the old best counts until beaten
    spent = 0.0
    for _ in range(10):
        info = opt.ask()
        assert not previous.has_config(info.config)  # the random selector proposes new ones
        opt.tell(info, value_of(info))
        spent += info.budget
    assert (opt.n_asked, opt.budget_spent, len(opt.runhistory)) == (10, spent, 32)
    continue_run(opt, 22)  # optimize/n_trials counts this run's trials only
    assert opt.n_asked == 22 and len(opt.runhistory) == 44


def test_warmstart_from_a_space_with_an_extra_hyperparameter(tmp_path):
    previous = previous_run(tmp_path)
    wider = space(z=Float("z", (0.0, 1.0), default=0.25))
    opt = Optimizer(wider, hb(), selector="random", seed=7, warmstart=previous)
    assert len(opt.runhistory) == len(previous)
    for (old, value), (new, carried) in zip(previous.items(), opt.runhistory.items()):
        assert {k: v for k, v in dict(new.config).items() if k != "z"} == dict(old.config)
        assert new.config["z"] == 0.25 and new.config.config_space is wider
        assert (new.budget, carried) == (old.budget, value)


def test_warmstart_from_a_space_with_a_missing_hyperparameter(tmp_path):
    previous = previous_run(tmp_path)
    fewer = ConfigurationSpace({"x": (-5.0, 5.0), "n": (1, 8)}, seed=0)
    opt = Optimizer(fewer, hb(), selector="random", seed=7, warmstart=previous)
    assert len(opt.runhistory) == len(previous)
    for (old, _), (new, _) in zip(previous.items(), opt.runhistory.items()):
        assert dict(new.config) == {"x": old.config["x"], "n": old.config["n"]}


def test_warmstart_leaves_out_configurations_invalid_in_the_new_space(tmp_path):
    previous = previous_run(tmp_path)
    narrower = ConfigurationSpace({"x": (-2.0, 2.0), "n": (1, 8), "kind": ["a", "b", "c"]}, seed=0)
    outside = sum(1 for info, _ in previous.items() if abs(info.config["x"]) > 2.0)
    assert 0 < outside < len(previous)
    with pytest.warns(UserWarning, match=rf"warmstart: {outside} trial\(s\) left out, their configurations are not valid"):
        opt = Optimizer(narrower, hb(), selector="random", seed=7, warmstart=previous)
    assert len(opt.runhistory) == len(previous) - outside
    assert all(abs(info.config["x"]) <= 2.0 for info, _ in opt.runhistory.items())


def test_a_warm_started_run_resumes_exactly(tmp_path):
    previous = previous_run(tmp_path)
    choices = [1, 0, 2]
    ref = Optimizer(SPACE, Hyperband(min_budget=1, max_budget=9), selector="random", seed=7, warmstart=previous)
    ref_driver = Driver(2, choices)
    ref_driver.run(ref, 30)
    directory = tmp_path / "run"
    driver = Driver(2, choices, kills=[0, 9, 31])
    opt, loads = run_killed(
        lambda: Optimizer(SPACE, Hyperband(min_budget=1, max_budget=9), selector="random", seed=7,
                          warmstart=previous, output_dir=directory, durable=False),
        directory, driver, 30,
    )
    assert loads == 3
    assert len(opt.runhistory) == 22 + 30 and opt.n_asked == 30
    assert opt.budget_spent == sum(i.budget for i, _ in opt.runhistory.items()) - previous.budget_spent
    assert_same_run(ref, ref_driver, opt, driver, directory)


def test_a_warm_started_run_with_a_changed_space_resumes(tmp_path):
    previous = previous_run(tmp_path)
    wider = space(z=Float("z", (0.0, 1.0), default=0.25))
    directory = tmp_path / "run"
    opt = Optimizer(wider, hb(), selector="kde", seed=7, warmstart=previous, output_dir=directory)
    for _ in range(5):
        info = opt.ask()
        opt.tell(info, 1.0 + info.config["z"])
    rows = trial_rows(opt.runhistory)
    del opt
    resumed = Optimizer.load(directory)
    assert trial_rows(resumed.runhistory) == rows
    assert (resumed.n_asked, len(resumed.runhistory)) == (5, 27)
    assert resumed.configspace == wider


# ---------------------------------------------------------------------------------- no code, no escape
def test_every_file_of_a_run_is_plain_json(tmp_path):
    directory = tmp_path / "run"
    opt = serial_run(directory, 30, intensifier=SuccessiveHalving(instances=INSTANCES[:3], n_seeds=2), selector="rf")
    opt.ask()  # one pending
    opt.save()
    assert {p.name for p in directory.iterdir()} == RUN_FILES  # no temporary file left behind
    for path in directory.iterdir():
        text = path.read_text(encoding="utf-8")  # text: no pickle, no binary blob
        if path.name == "events.jsonl":  # open: zeros grown ahead of the events follow them
            text, zeros = text.rstrip("\0"), text[len(text.rstrip("\0")):]
            assert zeros and text.endswith("\n")
        if path.suffix == ".jsonl":
            rows = [json.loads(line) for line in text.splitlines()]
            assert rows and all(isinstance(r, dict) for r in rows)
        else:
            assert isinstance(json.loads(text), dict)


class _Evil:
    """Unpickling this creates ``marker``: proof that something was unpickled."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


AUDIT_SCRIPT = textwrap.dedent('''
    import json, sys
    directory, report = sys.argv[1], sys.argv[2]
    import smacish  # everything imported before the hook watches
    from smacish import Optimizer
    from smacish._io import config_to_json
    Optimizer.load(directory + "-warmup").ask()
    seen = []
    watching = False

    def hook(event, args):
        if watching and event in ("open", "exec", "compile", "pickle.find_class", "marshal.loads",
                                  "os.system", "subprocess.Popen", "os.exec", "os.posix_spawn",
                                  "os.rename", "os.remove", "os.mkdir", "os.symlink", "shutil.rmtree",
                                  "ctypes.dlopen", "import"):
            seen.append([event, [a if isinstance(a, (str, int, float, type(None))) else repr(a) for a in args]])

    sys.addaudithook(hook)
    watching = True
    opt = Optimizer.load(directory)
    for _ in range(3):
        info = opt.ask()
        opt.tell(info, 1.0)
    opt.save()
    watching = False
    with open(report, "w") as fh:
        json.dump(seen, fh)
''')


def test_loading_runs_no_code_and_touches_only_its_own_files(tmp_path):
    """An audit hook (PEP 578) watches a load and a few tells in a fresh interpreter: no
    unpickling, no exec/compile, no process, no import; every file opened, renamed or made
    is one of the run's own, inside output_dir. Planted pickles are never opened."""
    directory = tmp_path / "run"
    serial_run(directory, 20, selector="rf")  # the model-based selector's state comes back too
    serial_run(tmp_path / "run-warmup", 5, selector="rf")
    marker = tmp_path / "pwned"
    for name in ("evil.pkl", "runhistory.pkl", "optimizer.pkl", "events.pkl", "state.pickle", "__init__.py"):
        (directory / name).write_bytes(pickle.dumps(_Evil(str(marker))))
    (directory / "conftest.py").write_text(f"import os\nos.mkdir({str(marker)!r})\n")
    script, report = tmp_path / "audit.py", tmp_path / "report.json"
    script.write_text(AUDIT_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(directory), str(report)], cwd=tmp_path, capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(report.read_text())
    assert not marker.exists()
    forbidden = [e for e in seen if e[0] not in ("open", "os.rename")]
    assert forbidden == []
    root = os.path.realpath(directory)
    paths = [e[1][0] for e in seen if e[0] == "open" and isinstance(e[1][0], str)]
    paths += [p for e in seen if e[0] == "os.rename" for p in e[1][:2]]
    assert paths, "the hook saw no file at all"
    for path in paths:
        assert os.path.dirname(os.path.realpath(path)) == root, f"{path} is outside {directory}"
        name = os.path.basename(path)
        assert name in RUN_FILES or (name.startswith(".") and name.endswith(".tmp")), f"opened {path}"


@pytest.mark.parametrize("name", ["events.jsonl", "optimizer.json"])
def test_files_linked_from_outside_the_run_directory_are_refused(tmp_path, name):
    """A run directory whose files are links to elsewhere (a crafted or carelessly copied
    directory) could make a resumed run append to or truncate files outside it: refused."""
    directory = tmp_path / "run"
    serial_run(directory, 10)
    outside = tmp_path / f"outside-{name}"
    os.replace(directory / name, outside)
    os.symlink(outside, directory / name)
    before = outside.read_bytes()
    with pytest.raises(ValueError, match=rf"{re.escape(str(directory / name))} is a link to .*outside"):
        opt = Optimizer.load(directory)
        info = opt.ask()
        opt.tell(info, 1.0)
    assert outside.read_bytes() == before
    # a new run does not write through a planted link either
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    os.symlink(outside, fresh / "events.jsonl")
    with pytest.raises(FileExistsError, match="already holds a run"):
        Optimizer(SPACE, hb(), output_dir=fresh)
    assert outside.read_bytes() == before
