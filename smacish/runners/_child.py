"""Entry point of the child process that runs one trial under a cutoff or a memory limit.

``python -m smacish.runners._child IN OUT``: IN holds the cloudpickled ``(target, info)``
written by the parent; OUT receives the pickled TrialValue. Both are temporary files of the
parent's, never user files.
"""

import math
import os
import pickle
import sys
import traceback

from smacish.runners._execute import call_target
from smacish.trial import StatusType, TrialValue


def main(payload: str, result: str) -> None:
    try:
        with open(payload, "rb") as fh:
            target, info = pickle.load(fh)
        value = call_target(target, info)
    except Exception:  # noqa: BLE001 - the target could not even be loaded here
        value = TrialValue(
            cost=math.inf, status=StatusType.CRASHED,
            additional_info={"traceback": traceback.format_exc()},
        )
    tmp = result + ".part"
    with open(tmp, "wb") as fh:
        pickle.dump(value, fh)
    os.replace(tmp, result)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
