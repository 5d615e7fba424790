"""HpBandSter's core: nameserver, worker, master, result (on Dask)."""
