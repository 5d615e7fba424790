"""The processes that run one trial under a cutoff or a memory limit.

Two ways in, both used by :mod:`smacish.runners._execute`:

- ``python -m smacish.runners._child --serve``: a *fork server*. It imports smacish (and so
  ConfigSpace, numpy, scipy: about two seconds of start-up) once, then forks one child per trial
  on request. Talks over its stdin/stdout, one line each way:

  - it says ``ready`` once it has imported everything;
  - it reads ``{"payload": IN, "result": OUT}`` (JSON), forks, says ``pid PID``, waits for the
    child and says ``exit CODE`` (negative: killed by that signal);
  - it exits at end of input; if its parent dies or closes the input while a trial runs, it
    kills the trial and exits, and on Linux a trial dies with the server (``PR_SET_PDEATHSIG``):
    no trial outlives the worker that started it.

  The server has no threads, so forking it is safe. A child puts itself in its own process
  group (the parent kills the group), reads stdin from /dev/null and writes its stdout to the
  server's stderr, so a target that prints cannot disturb the protocol.
- ``python -m smacish.runners._child IN OUT``: one trial in a fresh interpreter (where there is
  no ``os.fork``).

IN holds a pickled header ``{"sys_path", "cwd", "env"}`` of the parent (so the child imports
what the parent can import, from where it runs) followed by the cloudpickled ``(target, info, context)``;
``OUT.started`` appears once they are loaded (imports done) and the target is called; OUT
receives the pickled TrialValue. All are temporary files of the parent's, never user files.
"""

import json
import math
import os
import pickle
import select
import signal
import sys
import traceback

from smacish.runners._execute import call_target, error_info
from smacish.trial import StatusType, TrialValue

_CRASH_EXIT = 70  # the child could not even report a result


def main(payload: str, result: str) -> None:
    """Run the trial described in ``payload`` and write its TrialValue to ``result``."""
    try:
        with open(payload, "rb") as fh:
            header = pickle.load(fh)
            sys.path[:] = header["sys_path"]
            os.chdir(header["cwd"])
            os.environ.clear()
            os.environ.update(header["env"])
            target, info, context = pickle.load(fh)
        with open(result + ".started", "wb"):  # the cutoff counts from here, not from the fork
            pass
        value = call_target(target, info, context)
    except Exception as exc:  # noqa: BLE001 - the target could not even be loaded here
        value = TrialValue(cost=math.inf, status=StatusType.CRASHED, additional_info=error_info(exc))
    tmp = result + ".part"
    with open(tmp, "wb") as fh:
        pickle.dump(value, fh)
    os.replace(tmp, result)


# ---------------------------------------------------------------------- the fork server
def _die_with_parent() -> None:
    """Linux: have the kernel SIGKILL this process when the fork server dies (best effort)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _run_forked(request: dict, protocol_fds: tuple, server: int) -> None:
    """In the forked child: detach from the protocol, run the trial, never return."""
    code = _CRASH_EXIT
    try:
        os.setpgid(0, 0)
        if sys.platform.startswith("linux"):
            _die_with_parent()
            if os.getppid() != server:  # the server died before prctl took effect
                os._exit(code)
        for fd in protocol_fds:
            os.close(fd)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        main(request["payload"], request["result"])
        code = 0
    except SystemExit as exc:  # the target called sys.exit(): no result, like os._exit
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - report on stderr, exit without a result
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _wait(pid: int, parent: int, requests: int) -> int:
    """Wait for the child ``pid``. If our parent dies or closes our input meanwhile (it never
    writes while a trial runs), kill the child and exit: no trial outlives its worker."""
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            readable, _, _ = select.select([requests] + ([pidfd] if pidfd is not None else []), [], [],
                                           0.5 if pidfd is not None else 0.01)
            if requests in readable or os.getppid() != parent:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass
                os._exit(0)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def serve() -> None:
    """The fork server's loop (see the module docstring)."""
    parent = os.getppid()
    # keep the protocol on fds of our own; children get /dev/null as stdin and stderr as stdout
    proto_in, proto_out = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(2, 1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C goes to the parent, which ends us
    import ctypes  # noqa: F401 - preloaded for the children
    import cloudpickle  # noqa: F401 - preloaded for the children (a dependency of dask)

    reader = os.fdopen(proto_in, "r", encoding="utf-8")
    writer = os.fdopen(proto_out, "w", encoding="utf-8", buffering=1)
    try:
        writer.write("ready\n")
    except BrokenPipeError:  # the parent is gone already
        return
    server = os.getpid()
    while True:
        line = reader.readline()
        if not line:  # our parent closed the pipe (or died): done
            return
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _run_forked(request, (proto_in, proto_out), server)
        try:
            os.setpgid(pid, pid)
        except OSError:  # the child did it first, or is gone already
            pass
        writer.write(f"pid {pid}\n")
        writer.write(f"exit {_wait(pid, parent, proto_in)}\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main(sys.argv[1], sys.argv[2])
