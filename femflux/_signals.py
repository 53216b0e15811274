"""How the ``femflux`` command treats signals and library noise.

- :func:`catch_signals`: SIGINT and SIGTERM raise :class:`Interrupted` (a
  KeyboardInterrupt), so that a results folder being written is cleaned up
  (:mod:`femflux.results.writers`) and the command exits with 128 + the
  signal number (130, 143), never killed by the signal;
- :func:`exit_on_signal`: before that (the command's first second, while
  numpy and the rest are imported, nothing is written yet), the same signals
  end the process at once with the same codes;
- :func:`quiet`: no Python warnings and no log records of libraries on stderr
  (the error line stays the only line), unless ``--debug``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import warnings


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM: unwinds like KeyboardInterrupt (results being written
    are cleaned up); the exit code is 128 + ``signum``."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _on_signal(signum, frame):
    for other in (signal.SIGINT, signal.SIGTERM):  # one interrupt; the clean-up runs whole
        signal.signal(other, signal.SIG_IGN)
    raise Interrupted(signum)


def _exit_now(signum, frame):
    word = "interrupted" if signum == signal.SIGINT else "terminated"
    if os.environ.get("OMPI_COMM_WORLD_RANK", os.environ.get("PMI_RANK", "0")) in ("", "0"):
        os.write(2, f"femflux: {word}\n".encode())  # MPI: one line, from rank 0
    os._exit(128 + signum)


def exit_on_signal() -> None:
    """SIGINT and SIGTERM end the process at once with 128 + the signal number
    (the ``femflux`` command's start-up, until :func:`catch_signals`)."""
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) not in (signal.SIG_IGN, None):
                signal.signal(signum, _exit_now)


def catch_signals() -> dict:
    """SIGINT and SIGTERM raise :class:`Interrupted` (unless ignored, e.g. by
    nohup); returns the previous handlers."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            if signal.getsignal(signum) not in (signal.SIG_IGN, None):
                previous[signum] = signal.signal(signum, _on_signal)
    return previous


@contextlib.contextmanager
def quiet(debug: bool):
    """No Python warnings and no log records of libraries (VTK errors reach
    the log through PyVista) on stderr, unless ``--debug``."""
    if debug:
        yield
        return
    null = logging.NullHandler()
    logging.getLogger().addHandler(null)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.getLogger().removeHandler(null)


def restore_signals(previous: dict) -> None:
    """Put back the handlers :func:`catch_signals` replaced."""
    for signum, handler in previous.items():
        signal.signal(signum, handler)
