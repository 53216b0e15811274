"""Giving freed memory back to the system.

glibc serves arrays below its mmap threshold (which grows to 32 MB once a
large array has been freed) from the heap, and keeps the heap's freed pages:
after the set-up of a large model, hundreds of MB of freed temporaries stay
resident and add to every later peak.  :func:`trim` returns them
(``malloc_trim``), a few milliseconds, called between set-up stages.
"""

from __future__ import annotations

import ctypes
import sys

_libc = None
if sys.platform.startswith("linux"):
    try:
        _libc = ctypes.CDLL("libc.so.6")
        _libc.malloc_trim  # noqa: B018 - glibc only
    except (OSError, AttributeError):
        _libc = None


def trim() -> None:
    """Return the heap's free pages to the system (glibc; a no-op elsewhere)."""
    if _libc is not None:
        _libc.malloc_trim(0)
