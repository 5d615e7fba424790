"""Compatibility layers: other libraries' APIs on top of smacish.

- :mod:`smacish.compat.hpbandster`: HpBandSter's Worker / NameServer / BOHB / HyperBand /
  RandomSearch / Result, on Dask.
"""
