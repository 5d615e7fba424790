"""HpBandSter's API on smacish and Dask: move over by changing one import.

::

    import smacish.compat.hpbandster.core.nameserver as hpns   # was: hpbandster.core.nameserver
    import smacish.compat.hpbandster.core.result as hpres
    from smacish.compat.hpbandster.core.worker import Worker
    from smacish.compat.hpbandster.optimizers import BOHB, HyperBand, RandomSearch

The nameserver is a Dask scheduler, workers are Dask workers that run ``compute`` on your
Worker object, and the optimizers keep HpBandSter's budgets, brackets and config_ids. No
Pyro4 is needed. See ``docs/migrating-from-hpbandster.md`` for what differs.
"""
