"""``python -m benchmarks COMMAND``: smacish next to its peers on the same problems.

Commands:
  quick            all three measurements, small (3 seeds, small budgets; ~10 min on 2 cores),
                   then docs/benchmarks.md
  full             the same with >= 10 seeds and larger budgets (hours; not for CI)
  quality | overhead | parallel | durability [--variant smoke|quick|full] [--adapters a,b]
                   one measurement
  report [--variant quick|full] [--only heldout|heldout-serial|heldout-w8|heldout-w32|heldout-w128]
                   rewrite docs/benchmarks.md and docs/img/ from benchmarks/results/
  setup-peers [peer ...]
                   create .bench-venvs/<peer>/ for smac, hpbandster, optuna, dehb
  peers            which peers are set up

With no command: ``quick``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import List, Optional


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command")
    for name in ("quick", "full"):
        s = sub.add_parser(name, help=f"all measurements ({name}) and the report")
        s.add_argument("--only", default="quality,overhead,parallel,durability", help="comma-separated measurements")
        s.add_argument("--adapters", default=None, help="comma-separated adapters (default: all)")
        s.add_argument("--no-report", action="store_true")
        s.add_argument("--deadline-scale", type=float, default=1.0,
                       help="multiply every batch deadline (a busy machine needs longer to finish all seeds)")
    for name in ("quality", "overhead", "parallel", "durability"):
        s = sub.add_parser(name, help=f"measurement: {name}")
        s.add_argument("--variant", default="quick", choices=["smoke", "quick", "full"])
        s.add_argument("--adapters", default=None)
        s.add_argument("--deadline-scale", type=float, default=1.0)
    s = sub.add_parser("report", help="rewrite docs/benchmarks.md from stored results")
    s.add_argument("--variant", default="quick", choices=["smoke", "quick", "full"])
    s.add_argument("--only", default=None, choices=["heldout", "heldout-serial", "heldout-w8", "heldout-w32",
                                                    "heldout-w128"],
                   help="rewrite only this section of the existing page, from its results")
    s = sub.add_parser("setup-peers", help="create one venv per peer")
    s.add_argument("peers", nargs="*")
    sub.add_parser("peers", help="list the peers and whether they are set up")
    return p


DURABILITY = {"smoke": ["--trials", "200", "--load-trials", "1000", "--selectors", "random"],
              "quick": ["--trials", "2000", "--load-trials", "20000"], "full": []}


def _measure(name: str, variant: str, adapters: Optional[List[str]]) -> None:
    from benchmarks import overhead, parallel, quality

    t0 = time.perf_counter()
    print(f"== {name} ({variant})", flush=True)
    if name == "quality":
        res = quality.run(variant, adapters)
        quality.print_table(quality.final_table(res["summary"]))
    elif name == "overhead":
        res = overhead.run(variant, adapters)
        quality.print_table(overhead.table(res["summary"]))
    elif name == "parallel":
        res = parallel.run(variant)
        quality.print_table(parallel.table(res["summary"]))
    elif name == "durability":  # smacish only: the cost of output_dir, and loading a big run
        from benchmarks import durability

        durability.main(DURABILITY[variant] + ["--save"])
    else:
        raise SystemExit(f"unknown measurement {name!r}")
    print(f"== {name} done in {time.perf_counter() - t0:.0f} s\n", flush=True)


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    command = args.command or "quick"
    if getattr(args, "deadline_scale", 1.0) != 1.0:
        from benchmarks import runner

        runner.DEADLINE_SCALE = args.deadline_scale
    if command in ("quick", "full"):
        only = getattr(args, "only", "quality,overhead,parallel,durability").split(",")
        adapters = args.adapters.split(",") if getattr(args, "adapters", None) else None
        t0 = time.perf_counter()
        for name in only:
            _measure(name.strip(), command, adapters)
        if not getattr(args, "no_report", False):
            from benchmarks import report

            report.main(command)
        print(f"total {time.perf_counter() - t0:.0f} s")
        return 0
    if command in ("quality", "overhead", "parallel", "durability"):
        _measure(command, args.variant, args.adapters.split(",") if args.adapters else None)
        return 0
    if command == "report":
        from benchmarks import report

        return report.main(args.variant, args.only)
    if command == "setup-peers":
        from benchmarks import setup_peers

        return setup_peers.main(args.peers)
    if command == "peers":
        from benchmarks.peers import ADAPTERS
        from benchmarks.setup_peers import available_peers

        found = available_peers()
        for name, spec in ADAPTERS.items():
            status = "this venv" if spec.venv is None else (
                f"set up ({found[spec.venv]})" if spec.venv in found else "not set up")
            print(f"{name:15s} {status}")
        return 0
    raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    sys.exit(main())
