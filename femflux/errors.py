"""Exceptions of femflux: bad input (exit 2), a failed solve (exit 3), results
that could not be written (exit 3) and the internal failure of one Newton
iteration or linear solve that the step control catches.

Messages are one line and never echo a long value whole: :func:`clip`
shortens a value a message shows, and :class:`CaseError` and
:class:`SolverError` cap their whole message at :data:`MESSAGE_LIMIT`
characters (the middle of a longer one is left out).
"""

#: characters of one value a message shows (the rest becomes an ellipsis)
VALUE_LIMIT = 200
#: characters of a whole message
MESSAGE_LIMIT = 1000


def clip(text, limit: int = VALUE_LIMIT) -> str:
    """``text`` (any object, as ``str``) cut to ``limit`` characters and an ellipsis."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}…"


def clip_message(message) -> str:
    """A message capped at :data:`MESSAGE_LIMIT` characters: its head and its tail
    (which names the problem) around an ellipsis that says how much was left out."""
    message = str(message)
    if len(message) <= MESSAGE_LIMIT:
        return message
    head, tail = MESSAGE_LIMIT * 6 // 10, MESSAGE_LIMIT * 3 // 10
    left_out = len(message) - head - tail
    return f"{message[:head]}… [{left_out} characters] …{message[-tail:]}"


class CaseError(ValueError):
    """Bad input: the case file, the mesh or an option. The CLI exits with code 2.

    The message is one line naming the key, file or value at fault.
    """

    def __init__(self, message="", *args):
        super().__init__(clip_message(message) if isinstance(message, str) else message, *args)


class SolverError(RuntimeError):
    """The solver did not converge. The CLI exits with code 3.

    ``result`` holds the last converged state (a :class:`femflux.results.Result`)
    when there is one, so that it can still be saved.
    """

    def __init__(self, message, result=None):
        super().__init__(clip_message(message) if isinstance(message, str) else message)
        self.result = result


class WriteError(SolverError):
    """The results could not be written: no space left on the device, a file
    larger than the file-size limit, a failing disk.  The CLI exits with code 3;
    the previous results folder (if any) is left as it was."""


class NewtonFailure(Exception):
    """Newton did not converge, or a linear solve in it failed: raised by the
    solver and the linear algebra (and by models, e.g. at an inadmissible
    state) and caught by the step control, which shortens the step or falls
    back to continuation; a :class:`SolverError` when it cannot."""
