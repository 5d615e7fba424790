"""The "nameserver": a Dask scheduler where the workers and the optimizer of a run meet.

HpBandSter started a Pyro4 nameserver; here the same ``NameServer`` starts a Dask scheduler in a
background thread of this process. Workers and optimizers connect to it by host and port (or
find both in the credentials file it writes into the working directory), and its Dask
dashboard shows the jobs while they run.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from typing import Any, Optional, Tuple

from smacish.runners.dask import QuietDaskLogs
from smacish.compat.hpbandster._connection import (
    DEFAULT_PORT,
    BackgroundServer,
    credentials_path,
    write_credentials,
)

logger = logging.getLogger("smacish.hpbandster")


def nic_name_to_host(nic_name: str) -> str:
    """The IPv4 address of the network interface ``nic_name`` (e.g. ``"eth0"``), or
    ``'No IP addr'`` if it has none, as HpBandSter answers.

    >>> nic_name_to_host("lo")
    '127.0.0.1'
    """
    import socket

    import psutil  # a dependency of distributed

    addresses = psutil.net_if_addrs().get(nic_name)
    if addresses is None:
        raise ValueError(
            f"no network interface named {nic_name!r}; there are {sorted(psutil.net_if_addrs())}"
        )
    for address in addresses:
        if address.family == socket.AF_INET:
            return address.address
    return "No IP addr"


class NameServer:
    """Starts the meeting point of a run: a Dask scheduler listening on ``host:port``.

    ``port=0`` takes any free port, ``port=None`` the well-known default (8786, Dask's), so that
    workers given only ``nameserver=host`` find it. With a ``working_directory`` the address is
    written there (``HPB_run_<run_id>_dask.json``) for :meth:`Worker.load_nameserver_credentials`.
    Several runs with different ``run_id``s can share one nameserver.

    >>> ns = NameServer(run_id="doc", host="127.0.0.1", port=0)
    >>> host, port = ns.start()
    >>> host, port > 0
    ('127.0.0.1', True)
    >>> ns.shutdown()

    Args:
        run_id: names the run (the credentials file carries it).
        working_directory: where to write the credentials file (None: none is written).
        host: the address to listen on; default ``'localhost'`` (or the address of ``nic_name``).
        port: 0 for any free port, None for 8786.
        nic_name: a network interface whose address to listen on when ``host`` is None.
        dashboard_address: where Dask's dashboard listens (needs bokeh; default: a free port on
            ``host``).
    """

    def __init__(
        self,
        run_id: Any,
        working_directory: Optional[str] = None,
        host: Optional[str] = None,
        port: Optional[int] = 0,
        nic_name: Optional[str] = None,
        dashboard_address: Optional[str] = None,
    ):
        if port is not None and (
            isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536
        ):
            raise ValueError(
                f"port is {port!r}, but must be None (the default port {DEFAULT_PORT}), "
                "0 (any free port) or a port number"
            )
        self.run_id = run_id
        self.host = host
        self.nic_name = nic_name
        self.port = port
        self.dir = working_directory
        self.dashboard_address = dashboard_address
        self.conf_fn: Optional[str] = None
        self._server: Optional[BackgroundServer] = None

    @property
    def address(self) -> Optional[str]:
        """The Dask address of the running scheduler (``tcp://host:port``), or None."""
        if self._server is None or self._server.server is None:
            return None
        return self._server.server.address

    @property
    def dashboard_link(self) -> Optional[str]:
        """The URL of the Dask dashboard, if bokeh is installed and the nameserver runs."""
        scheduler = self._server.server if self._server is not None else None
        if (
            scheduler is None
            or "dashboard" not in scheduler.services
            or importlib.util.find_spec("bokeh") is None
        ):
            return None
        return f"http://{self.host}:{scheduler.services['dashboard'].port}/status"

    def start(self) -> Tuple[str, int]:
        """Start the scheduler in a background thread; returns ``(host, port)``."""
        if self._server is not None and self._server.running:
            return self.host, self.port
        if self.host is None:
            self.host = nic_name_to_host(self.nic_name) if self.nic_name is not None else "localhost"
        port = DEFAULT_PORT if self.port is None else self.port
        dashboard = importlib.util.find_spec("bokeh") is not None
        dashboard_address = self.dashboard_address or f"{self.host}:0"

        def make_scheduler() -> Any:
            from distributed import Scheduler

            # the HTTP server (dashboard, health checks) always gets an address of its own:
            # Dask's default, 8787, would be taken by the first nameserver of the machine
            return Scheduler(
                host=self.host,
                port=port,
                dashboard=dashboard,
                dashboard_address=dashboard_address,
                validate=False,
            )

        server = BackgroundServer(f"smacish nameserver for run {self.run_id}")
        self._quiet = QuietDaskLogs()  # the scheduler's and the workers' INFO chatter, as HpBandSter has none
        try:
            scheduler = server.start(make_scheduler)
        except OSError as err:
            self._quiet.restore()
            raise OSError(
                err.errno,
                f"the nameserver cannot listen on {self.host}:{port} ({err.strerror or err}); "
                "pass port=0 for any free port",
            ) from None
        self._server = server
        self.port = int(scheduler.port)
        logger.info(
            "nameserver for run %s: Dask scheduler at %s%s",
            self.run_id,
            scheduler.address,
            f", dashboard {self.dashboard_link}" if self.dashboard_link else "",
        )
        if self.dir is not None:
            os.makedirs(self.dir, exist_ok=True)
            self.conf_fn = credentials_path(self.dir, self.run_id)
            write_credentials(
                self.conf_fn, self.run_id, self.host, self.port, scheduler.address, self.dashboard_link
            )
        return self.host, self.port

    def shutdown(self) -> None:
        """Stop the scheduler (its workers shut down with it) and remove the credentials file."""
        server, self._server = self._server, None
        if server is not None:
            server.call(lambda: server.server.close())
            server.join()
        if getattr(self, "_quiet", None) is not None:
            self._quiet.restore()
            self._quiet = None
        if self.conf_fn is not None:
            try:
                os.remove(self.conf_fn)
            except FileNotFoundError:
                pass
            self.conf_fn = None

    def __del__(self) -> None:
        try:
            self.shutdown()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    def __repr__(self) -> str:
        where = f"{self.host}:{self.port}" if self.address else "not started"
        return f"NameServer(run_id={self.run_id!r}, {where})"
