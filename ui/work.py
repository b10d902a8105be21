"""Long computations the user can stop: with the Stop button, by changing a setting or by leaving.

:func:`run_stoppable` runs a core computation in a worker thread and, while it
runs, keeps a progress bar up to date from the script's own thread. Every
update is a Streamlit call, and Streamlit ends a script run at its next call
once the user changed a widget, pressed Stop or closed the tab (its
``RerunException`` / ``StopException``); the worker's ``gmm_core.Work`` is then
stopped, so EM ends within one iteration instead of running on for nobody.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

import streamlit as st

from gmm_core import Stopped, Work
from ui import state

T = TypeVar("T")

#: A computation shows its progress bar and Stop button once it has run this long.
SHOW_AFTER_SECONDS = 0.5
#: Seconds between progress updates (and so between chances to notice a click or a closed tab).
POLL_SECONDS = 0.25


@dataclass
class Progress:
    """What a running computation last reported: done as a fraction (or None) and a line of text."""

    fraction: float | None = None
    text: str = ""

    def report(self, fraction: float | None, text: str) -> None:
        """Called from the worker thread: the next update shows these."""
        self.fraction, self.text = fraction, text


def run_stoppable(task: Callable[[Work, Progress], T], *, key: str, label: str,
                  status: Callable[[Work], tuple[float, str]] | None = None) -> T:
    """``task(work, progress)`` in a worker thread, stoppable by the user.

    Parameters
    ----------
    task : callable
        The computation; it passes ``work`` to ``gmm_core`` and may call
        ``progress.report`` from its thread.
    key : str
        Identity of the computation. Pressing its Stop button remembers the key in
        ``state.STOPPED``: the rerun that follows does not start it again.
    label : str
        What is being computed, for the progress bar (Markdown-safe text).
    status : callable, optional
        ``status(work) -> (fraction done, text)``, read in the script's thread for
        each update, for tasks that do not report their progress themselves.

    Returns
    -------
    Whatever ``task`` returns.

    Raises
    ------
    Stopped
        The user stopped this computation (now or in an earlier run of the script).
    """
    if st.session_state.get(state.STOPPED) == key:
        raise Stopped(f"You stopped {label}.")
    work, progress = Work(), Progress()
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gmm-work")
    future: Future = pool.submit(task, work, progress)
    try:
        if not wait([future], timeout=SHOW_AFTER_SECONDS).done:
            _watch(future, work, progress, key=key, label=label, status=status)
        return future.result()
    finally:
        # A rerun, a Stop or a closed tab raised out of a Streamlit call: stop EM and let the thread end.
        work.stop()
        wait([future])
        pool.shutdown(wait=False)


def _watch(future: Future, work: Work, progress: Progress, *, key: str, label: str, status) -> None:
    """Show the bar and the Stop button until ``future`` is done."""
    began = time.monotonic() - SHOW_AFTER_SECONDS
    slot = st.empty()
    with slot.container():
        bar = st.progress(0.0, text=label)
        st.button("Stop", key=f"stop_{key}", on_click=_remember_stop, args=(key,), icon=":material/stop_circle:")
    while not wait([future], timeout=POLL_SECONDS).done:
        elapsed = time.monotonic() - began
        if status is not None:
            progress.report(*status(work))
        done = f": {progress.text}" if progress.text else ""
        bar.progress(min(progress.fraction or 0.0, 1.0), text=f"{label}{done} · {elapsed:,.0f} s")
    slot.empty()


def stop_key(key: tuple) -> str:
    """A short string naming the computation ``key`` identifies (for widget keys and ``state.STOPPED``)."""
    return hashlib.blake2b(repr(key).encode(), digest_size=8).hexdigest()


def _remember_stop(key: str) -> None:
    """``on_click`` of a Stop button."""
    st.session_state[state.STOPPED] = key


def forget_stop() -> None:
    """``on_click`` of a "Run again" button: the stopped computation may run once more."""
    st.session_state.pop(state.STOPPED, None)
