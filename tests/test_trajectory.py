"""Trajectory: an entry per change of the incumbent, its attributes, its file and DataFrame."""

import json
import math
import time

import pytest
from ConfigSpace import Configuration, ConfigurationSpace

from smacish import RunHistory, StatusType, Trajectory, TrajectoryEntry, TrialInfo, TrialValue

SPACE = ConfigurationSpace({"x": (0.0, 1.0)}, seed=0)


def cfg(i: int) -> Configuration:
    return Configuration(SPACE, values={"x": i / 10})


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def tell(rh, traj, config, cost, budget=1.0, seed=0, status=StatusType.SUCCESS, **update_kwargs):
    rh.add(TrialInfo(config, budget=budget, seed=seed), TrialValue(cost=cost, status=status))
    return traj.update(rh, **update_kwargs)


@pytest.fixture
def rh():
    return RunHistory(SPACE)


@pytest.fixture
def traj():
    return Trajectory(clock=FakeClock())


# ---------------------------------------------------------------- when entries are added
def test_first_incumbent_gives_an_entry(rh, traj):
    entry = tell(rh, traj, cfg(1), 0.5)
    assert isinstance(entry, TrajectoryEntry)
    assert list(traj) == [entry]


def test_no_entry_without_an_incumbent(rh, traj):
    assert tell(rh, traj, cfg(1), math.inf, status=StatusType.CRASHED) is None
    assert len(traj) == 0


def test_worse_challenger_adds_no_entry(rh, traj):
    tell(rh, traj, cfg(1), 0.5)
    assert tell(rh, traj, cfg(2), 0.7) is None
    assert len(traj) == 1


def test_better_challenger_adds_an_entry(rh, traj):
    tell(rh, traj, cfg(1), 0.5)
    entry = tell(rh, traj, cfg(2), 0.1)
    assert (entry.config_number, entry.cost) == (2, 0.1)
    assert len(traj) == 2


def test_incumbent_on_a_larger_budget_adds_an_entry_even_if_its_cost_is_higher(rh, traj):
    tell(rh, traj, cfg(1), 0.5, budget=1.0)
    entry = tell(rh, traj, cfg(1), 0.6, budget=3.0)
    assert (entry.config_number, entry.budget, entry.cost) == (1, 3.0, 0.6)


def test_incumbent_on_a_larger_budget_with_the_same_cost_adds_an_entry(rh, traj):
    tell(rh, traj, cfg(1), 0.5, budget=1.0)
    entry = tell(rh, traj, cfg(1), 0.5, budget=3.0)
    assert entry is not None and entry.budget == 3.0


def test_incumbent_cost_change_on_the_same_budget_adds_an_entry(rh, traj):
    tell(rh, traj, cfg(1), 0.5, seed=0)
    entry = tell(rh, traj, cfg(1), 0.3, seed=1)
    assert (entry.config_number, entry.cost) == (1, pytest.approx(0.4))


def test_asking_again_without_news_adds_no_entry(rh, traj):
    tell(rh, traj, cfg(1), 0.5)
    assert traj.update(rh) is None
    assert len(traj) == 1


def test_update_follows_the_selection_rule(rh, traj):
    assert tell(rh, traj, cfg(1), 0.5, budget=3.0, selection="highest_budget", max_budget=9.0) is None
    entry = tell(rh, traj, cfg(1), 0.4, budget=9.0, selection="highest_budget", max_budget=9.0)
    assert (entry.budget, entry.cost) == (9.0, 0.4)


def test_a_run_of_trials_gives_entries_only_at_changes(rh, traj):
    costs = [0.9, 0.95, 0.5, 0.6, 0.7, 0.2, 0.3]
    for i, cost in enumerate(costs):
        tell(rh, traj, cfg(i), cost)
    assert [e.cost for e in traj] == [0.9, 0.5, 0.2]
    assert [e.n_trials for e in traj] == [1, 3, 6]


# ---------------------------------------------------------------- entry attributes
def test_entry_attributes(rh):
    clock = FakeClock(50.0)
    traj = Trajectory(clock=clock)
    clock.now = 53.5
    tell(rh, traj, cfg(1), 0.9, budget=1.0)
    clock.now = 60.0
    tell(rh, traj, cfg(2), 0.7, budget=1.0)
    clock.now = 61.0
    entry = tell(rh, traj, cfg(2), 0.4, budget=3.0)
    assert entry.walltime == 11.0
    assert entry.n_trials == 3
    assert entry.budget_spent == 5.0
    assert entry.budget == 3.0
    assert entry.cost == 0.4
    assert entry.config_number == 2
    assert entry.config == {"x": 0.2}
    assert traj[0].walltime == 3.5


def test_walltime_uses_the_monotonic_clock_by_default(rh):
    before = time.monotonic()
    traj = Trajectory()
    entry = tell(rh, traj, cfg(1), 0.5)
    after = time.monotonic()
    assert 0.0 <= entry.walltime <= after - before


def test_entry_config_is_a_plain_json_ready_dict(rh, traj):
    entry = tell(rh, traj, cfg(1), 0.5)
    assert type(entry.config) is dict
    assert json.loads(json.dumps(entry.config)) == entry.config


def test_instance_runs_record_the_number_of_pairs_as_budget(rh, traj):
    rh.add(TrialInfo(cfg(1), instance="a"), TrialValue(cost=0.5))
    rh.add(TrialInfo(cfg(1), instance="b"), TrialValue(cost=0.7))
    entry = traj.update(rh)
    assert (entry.budget, entry.cost) == (2.0, pytest.approx(0.6))


# ---------------------------------------------------------------- sequence protocol
def test_trajectory_is_a_sequence(rh, traj):
    for i, cost in enumerate([0.5, 0.4, 0.3]):
        tell(rh, traj, cfg(i), cost)
    assert len(traj) == 3
    assert traj[-1].cost == 0.3
    assert [e.cost for e in traj[:2]] == [0.5, 0.4]
    assert [e.config_number for e in traj] == [1, 2, 3]
    assert "3 entries" in repr(traj)


# ---------------------------------------------------------------- file
def test_entries_are_written_as_json_lines_as_they_happen(rh, tmp_path):
    path = tmp_path / "trajectory.jsonl"
    traj = Trajectory(path=path, clock=FakeClock())
    tell(rh, traj, cfg(1), 0.5)
    assert len(path.read_text().splitlines()) == 1
    tell(rh, traj, cfg(2), 0.7)  # no change, no line
    tell(rh, traj, cfg(3), 0.2)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["cost"] for line in lines] == [0.5, 0.2]
    assert set(lines[0]) == {"walltime", "n_trials", "budget_spent", "budget", "cost", "config_number", "config"}


def test_no_file_is_written_without_a_path(rh, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tell(rh, Trajectory(clock=FakeClock()), cfg(1), 0.5)
    assert list(tmp_path.iterdir()) == []


def test_trajectory_file_reads_back_equal(rh, tmp_path):
    path = tmp_path / "trajectory.jsonl"
    clock = FakeClock()
    traj = Trajectory(path=path, clock=clock)
    for i, (cost, budget) in enumerate([(0.5, 1.0), (0.4, 1.0), (0.45, 3.0)]):
        clock.now += 1.25
        tell(rh, traj, cfg(i % 2), cost, budget=budget)
    loaded = Trajectory.load(path)
    assert list(loaded) == list(traj)
    assert len(loaded) == 3


def test_blank_lines_in_the_file_are_ignored(rh, tmp_path):
    path = tmp_path / "trajectory.jsonl"
    traj = Trajectory(path=path, clock=FakeClock())
    tell(rh, traj, cfg(1), 0.5)
    path.write_text(path.read_text() + "\n\n")
    assert list(Trajectory.load(path)) == list(traj)


@pytest.mark.parametrize("bad_line", ['{"walltime": 1.0, "cost"', '[1, 2, 3]', '{"walltime": 1.0}', "42"])
def test_corrupt_line_is_a_value_error_naming_the_file_and_line(rh, tmp_path, bad_line):
    path = tmp_path / "trajectory.jsonl"
    traj = Trajectory(path=path, clock=FakeClock())
    tell(rh, traj, cfg(1), 0.5)
    tell(rh, traj, cfg(2), 0.4)
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0], bad_line, lines[1]]) + "\n")
    with pytest.raises(ValueError, match="line 2") as err:
        Trajectory.load(path)
    assert str(path) in str(err.value)


# ---------------------------------------------------------------- DataFrame
def test_to_dataframe_has_a_row_per_entry_and_the_attribute_columns(rh, traj):
    tell(rh, traj, cfg(1), 0.5)
    tell(rh, traj, cfg(2), 0.3, budget=3.0)
    df = traj.to_dataframe()
    assert list(df.columns) == ["walltime", "n_trials", "budget_spent", "budget", "cost", "config_number", "config"]
    assert df["cost"].tolist() == [0.5, 0.3]
    assert df["budget"].tolist() == [1.0, 3.0]
    assert df["config_number"].tolist() == [1, 2]
    assert df["config"].tolist() == [{"x": 0.1}, {"x": 0.2}]


def test_to_dataframe_of_an_empty_trajectory_has_the_columns():
    df = Trajectory().to_dataframe()
    assert len(df) == 0 and "cost" in df.columns


def test_a_trajectory_written_with_the_old_name_of_config_number_loads(tmp_path) -> None:
    path = tmp_path / "trajectory.jsonl"
    path.write_text('{"walltime": 1.0, "n_trials": 3, "budget_spent": 3.0, "budget": 1.0, "cost": 0.5, '
                    '"config_id": 2, "config": {"x": 0.1}}\n')
    entry = Trajectory.load(path)[0]
    assert entry.config_number == 2
    with pytest.warns(DeprecationWarning, match="config_number"):
        assert entry.config_id == 2
