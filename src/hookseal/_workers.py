"""Whether this process is one of several workers serving the same application.

A per-process replay store protects one process only: with several workers, a delivery
accepted by one is accepted again by another. What can be detected reliably is detected here,
from the server's own state; what cannot (a gunicorn worker count set in a configuration file,
several machines behind a load balancer) is documented in docs/deployment.md.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import sys

__all__ = ["several_workers"]

_WORKERS_FLAG = re.compile(r"^(?:-w|--workers)(?:=?(\d+))?$")


def _int(text: str | None) -> int:
    try:
        return int(text) if text is not None else 0
    except ValueError:
        return 0


def _workers_in(args: list[str]) -> int:
    """The worker count given as ``-w N``, ``-wN``, ``--workers N`` or ``--workers=N``."""
    for index, arg in enumerate(args):
        if arg.startswith("-w") and arg[2:].isdigit():
            return int(arg[2:])
        match = _WORKERS_FLAG.match(arg)
        if match:
            if match.group(1):
                return int(match.group(1))
            if index + 1 < len(args):
                return _int(args[index + 1])
    return 0


def several_workers() -> str | None:
    """A description of the multi-process server this process runs under, or None."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        # Concurrent invocations run in separate execution environments, each a process.
        return "AWS Lambda (one process per execution environment)"
    uwsgi = sys.modules.get("uwsgi")
    if uwsgi is not None and _int(str(getattr(uwsgi, "numproc", 0))) > 1:
        return f"uWSGI with {uwsgi.numproc} worker processes"
    mod_wsgi = sys.modules.get("mod_wsgi")
    if mod_wsgi is not None and _int(str(getattr(mod_wsgi, "maximum_processes", 0))) > 1:
        return f"mod_wsgi with up to {mod_wsgi.maximum_processes} processes"
    argv0 = os.path.basename(sys.argv[0]) if sys.argv else ""
    if "gunicorn" in sys.modules or argv0.startswith("gunicorn"):
        count = _workers_in(sys.argv[1:]) or _workers_in(
            os.environ.get("GUNICORN_CMD_ARGS", "").split()
        )
        count = count or _int(os.environ.get("WEB_CONCURRENCY"))
        if count > 1:
            return f"gunicorn with {count} workers"
    if argv0.startswith("uvicorn") and _workers_in(sys.argv[1:]) > 1:
        return "uvicorn with several workers"
    if multiprocessing.parent_process() is not None:
        # uvicorn --workers, hypercorn --workers and other multiprocessing supervisors start
        # each worker as a child process of their own.
        return "a worker process started by a multiprocessing supervisor"
    return None
