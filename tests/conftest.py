"""Shared fixtures: real Dask clusters on 127.0.0.1 (loopback only, never a public interface).

``dask_client`` is one module-scoped LocalCluster (2 single-threaded worker processes) for tests
that leave the cluster as they found it; a test that kills, retires or adds workers takes a
cluster of its own from ``make_cluster``, which closes every cluster it made at teardown.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any, Callable, Iterator, List, Optional, Tuple

import pytest


@contextlib.contextmanager
def local_cluster(
    n_workers: int = 2, allowed_failures: Optional[int] = None, **kwargs: Any
) -> Iterator[Tuple[Any, Any]]:
    """A LocalCluster of ``n_workers`` single-threaded processes on 127.0.0.1 and a client,
    both closed on exit. ``allowed_failures`` sets the scheduler's
    ``distributed.scheduler.allowed-failures`` (Dask's own retries of tasks whose worker died)."""
    import dask
    from distributed import Client, LocalCluster

    config = {} if allowed_failures is None else {"distributed.scheduler.allowed-failures": allowed_failures}
    options = dict(
        n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
        # no dashboard; the scheduler's HTTP routes (health, metrics) on a free loopback port
        dashboard_address=None, scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        silence_logs=logging.CRITICAL,
    )
    options.update(kwargs)
    with dask.config.set(config):
        cluster = LocalCluster(**options)
    try:
        client = Client(cluster)
        try:
            yield cluster, client
        finally:
            client.close()
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Any]:
    """A client of a 2-worker LocalCluster shared by the tests of one module. Tests must not
    kill, retire or add its workers, nor leave tasks running on it."""
    with local_cluster(n_workers=2) as (_, client):
        yield client


@pytest.fixture
def make_cluster() -> Iterator[Callable[..., Tuple[Any, Any]]]:
    """``make_cluster(n_workers=2, allowed_failures=None, **LocalCluster_kwargs)`` returns a new
    ``(cluster, client)`` of the test's own; all are closed when the test ends."""
    with contextlib.ExitStack() as stack:
        made: List[Tuple[Any, Any]] = []

        def make(n_workers: int = 2, allowed_failures: Optional[int] = None, **kwargs: Any
                 ) -> Tuple[Any, Any]:
            pair = stack.enter_context(local_cluster(n_workers, allowed_failures, **kwargs))
            made.append(pair)
            return pair

        yield make
