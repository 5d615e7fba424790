"""benchmarks.tune --workers: variants on the virtual clock, judged at fractions of T."""

from benchmarks import tune
from benchmarks.heldout import FRACTIONS


def test_parallel_run_reports_every_fraction_and_the_final_is_the_last():
    out = tune.run_one(("rf", {"selector": "rf"}, "branin-boca", 0, 3.0, 4, 1.0))
    assert sorted(out["at"]) == sorted(str(f) for f in FRACTIONS)
    assert out["final"] == out["at"]["1.0"]
    assert out["at"]["0.1"] > 0


def test_parallel_report_has_the_fraction_lines():
    runs = [tune.run_one((n, o, "branin-boca", s, 3.0, 4, 1.0))
            for s in (0, 1) for n, o in (("rf", {"selector": "rf"}), ("random", {"selector": "random"}))]
    text = tune.report(runs, ["rf", "random"])
    assert "overall, at a fraction of T" in text and "random / rf: 10%" in text
