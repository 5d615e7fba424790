"""Where the nameserver (a Dask scheduler) is, and how Dask servers run in a background thread.

The "nameserver" of this layer is a Dask scheduler; a run's workers are Dask workers that carry
the resource ``hpbandster-run-<run_id>``, so the jobs of one run go to its own workers only and
several runs can share one scheduler.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from typing import Any, Callable, Optional, Tuple

DEFAULT_PORT = 8786
"""The port of a nameserver started with ``port=None``, and the one workers and optimizers
look at when given only a host (Dask's own default scheduler port; Pyro4's was 9090)."""

DEFAULT_HOST = "127.0.0.1"
CONNECT_TIMEOUT = 30.0
"""Seconds a worker or an optimizer tries to reach the nameserver before giving up."""


def resource_name(run_id: Any) -> str:
    """The Dask worker resource that marks the workers of one run."""
    return f"hpbandster-run-{run_id}"


def credentials_path(working_directory: str, run_id: Any) -> str:
    """The JSON file where a nameserver with a working directory writes its address."""
    return os.path.join(str(working_directory), f"HPB_run_{run_id}_dask.json")


def scheduler_address(host: Optional[str], port: Optional[int]) -> str:
    """The Dask address of the nameserver at ``host``/``port``.

    >>> scheduler_address("127.0.0.1", None)
    'tcp://127.0.0.1:8786'
    >>> scheduler_address("tcp://10.0.0.5:9000", None)
    'tcp://10.0.0.5:9000'
    >>> scheduler_address("::1", 9000)
    'tcp://[::1]:9000'
    """
    host = DEFAULT_HOST if host is None else str(host)
    if "://" in host:  # already a Dask address, e.g. of a cluster started elsewhere
        return host
    port = DEFAULT_PORT if port is None else int(port)
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"tcp://{host}:{port}"


def write_credentials(
    path: str, run_id: Any, host: str, port: int, address: str, dashboard: Optional[str]
) -> None:
    from smacish._io import atomic_write_text

    data = {"run_id": str(run_id), "host": host, "port": port, "address": address, "dashboard": dashboard}
    atomic_write_text(path, json.dumps(data, indent=1) + "\n")


def read_credentials(path: str) -> Tuple[str, int]:
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh)
    return data["host"], int(data["port"])


class BackgroundServer:
    """An asyncio event loop in a daemon thread that hosts one Dask server (scheduler or worker)
    until it closes."""

    def __init__(self, name: str):
        self.name = name
        self.server: Any = None
        self.loop: Optional[asyncio.AbstractEventLoop] = None
        self.thread: Optional[threading.Thread] = None
        self._ready = threading.Event()
        self._error: Optional[BaseException] = None
        self._stop_requested = False

    def start(self, make_server: Callable[[], Any], timeout: float = CONNECT_TIMEOUT + 30) -> Any:
        """Create the server in the thread, start it, and return it once it runs."""
        self.thread = threading.Thread(target=self._main, args=(make_server,), name=self.name, daemon=True)
        self.thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"{self.name} did not start within {timeout:g} s")
        if self._error is not None:
            raise self._error
        return self.server

    def serve_here(self, make_server: Callable[[], Any]) -> None:
        """Create, start and serve in this thread until the server closes (raises if it cannot
        start)."""
        self.thread = threading.current_thread()
        self._main(make_server)
        if self._error is not None:
            raise self._error

    def _main(self, make_server: Callable[[], Any]) -> None:
        asyncio.run(self._serve(make_server))

    async def _serve(self, make_server: Callable[[], Any]) -> None:
        try:
            server = make_server()
            await server
        except BaseException as err:  # noqa: BLE001 - handed to the starting thread
            self._error = err
            self._ready.set()
            return
        self.server = server
        self.loop = asyncio.get_running_loop()
        self._ready.set()
        if self._stop_requested:  # asked to stop while it was starting
            await server.close()
        await server.finished()

    def request_stop(self) -> None:
        """Close the server once it has started (at once if it runs)."""
        self._stop_requested = True
        if self.server is not None:
            self.call(lambda: self.server.close())

    def call(self, coroutine_function: Callable[[], Any], timeout: Optional[float] = 30.0) -> None:
        """Run ``coroutine_function()`` on the server's loop; wait for it unless timeout is None."""
        loop = self.loop
        if loop is None or loop.is_closed() or not loop.is_running():
            return
        try:
            future = asyncio.run_coroutine_threadsafe(coroutine_function(), loop)
        except RuntimeError:  # the loop closed meanwhile
            return
        if timeout is not None:
            try:
                future.result(timeout)
            except Exception:  # noqa: BLE001 - closing a server that is going away anyway
                pass

    def join(self, timeout: Optional[float] = 30.0) -> None:
        if self.thread is not None and self.thread is not threading.current_thread():
            self.thread.join(timeout)

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.is_alive() and self.server is not None
