"""smacish benchmarks: overhead, scaling and utilisation measurements, and smacish next to SMAC3,
HpBandSter, Optuna, DEHB and random search (``python -m benchmarks --help``).

The older scripts (``runhistory_scaling.py``, ...) run directly. This package imports no optimiser
library at import time: its problem, recorder and simulated-clock modules are imported inside
every peer's venv.
"""
