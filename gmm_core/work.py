"""A handle on a running computation: stop it from another thread, and see how far it got.

EM checks its :class:`Work` before every M-step (in compiled code, without the
GIL), so a fit, sweep or stability run stops within one EM iteration of
:meth:`Work.stop`, wherever its fits run in this process, and raises
:class:`~gmm_core.errors.Stopped`. Fits sent to a Dask cluster stop when their
result comes back.
"""

from __future__ import annotations

import numpy as np

from . import kernel
from .errors import Stopped


class Work:
    """Stop switch and step counter shared by every EM run of one computation."""

    def __init__(self) -> None:
        #: Read and written by the compiled EM (``gmm_core.kernel.em``'s ``control``).
        self.control = np.zeros(2, dtype=np.int64)
        #: EM runs (one per start, and a continuation on all rows of large data) finished so far.
        self.runs = 0

    def stop(self) -> None:
        """Ask every EM run of this computation to stop before its next M-step (thread-safe)."""
        self.control[kernel.STOP] = 1

    @property
    def stopped(self) -> bool:
        return bool(self.control[kernel.STOP])

    @property
    def steps(self) -> int:
        """EM iterations run so far by all of this computation's fits (approximate when they run in parallel)."""
        return int(self.control[kernel.STEPS])

    def check(self) -> None:
        """Raise :class:`Stopped` when :meth:`stop` was called."""
        if self.stopped:
            raise Stopped("Stopped before it finished.")


def control_of(work: Work | None) -> np.ndarray:
    """The ``control`` array EM reads: ``work``'s, or a fresh one nobody stops."""
    return np.zeros(2, dtype=np.int64) if work is None else work.control
