"""Job: one evaluation of a configuration on a budget, as result loggers and config generators
see it. (HpBandSter's Dispatcher itself is replaced by Dask.)"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional, Tuple


class Job:
    """One run of a configuration on a budget: ``id`` (the config_id), ``kwargs`` (``config``,
    ``budget``, ``working_directory``), ``timestamps`` (``submitted``, ``started``,
    ``finished``, seconds since the epoch), ``result`` (``{'loss', 'info'}`` or None) and
    ``exception`` (a traceback, or None).

    >>> job = Job((0, 0, 1), config={"x": 0.5}, budget=3.0)
    >>> job.result = {"loss": 0.25, "info": {}}
    >>> job.id, job.kwargs["budget"]
    ((0, 0, 1), 3.0)
    """

    def __init__(self, id: Tuple[int, int, int], **kwargs: Any):
        self.id = id
        self.kwargs = kwargs
        self.timestamps: Dict[str, float] = {}
        self.result: Optional[Dict[str, Any]] = None
        self.exception: Optional[str] = None
        self.worker_name: Optional[str] = None

    def time_it(self, which_time: str) -> None:
        self.timestamps[which_time] = time.time()

    def __repr__(self) -> str:
        return (
            f"job_id: {self.id}\nkwargs: {self.kwargs}\nresult: {self.result}\nexception: {self.exception}\n"
        )
