"""Runners execute trials: in this process or on Dask. They only call ask, tell and Dask."""

from smacish.runners._execute import call_target, execute_trial, parse_result
from smacish.runners._limits import Limits
from smacish.runners.dask import DaskLoop, embedded_client, run_dask
from smacish.runners.serial import run_serial
from smacish.runners.simulated import SimulationResult, run_simulated

__all__ = ["DaskLoop", "Limits", "call_target", "embedded_client", "execute_trial", "parse_result", "run_dask", "run_serial", "run_simulated", "SimulationResult"]
