"""Exceptions of femflux: bad input (exit 2), a failed solve (exit 3) and
the internal failure of one Newton iteration or linear solve that the step
control catches."""


class CaseError(ValueError):
    """Bad input: the case file, the mesh or an option. The CLI exits with code 2.

    The message is one line naming the key, file or value at fault.
    """


class SolverError(RuntimeError):
    """The solver did not converge. The CLI exits with code 3.

    ``result`` holds the last converged state (a :class:`femflux.results.Result`)
    when there is one, so that it can still be saved.
    """

    def __init__(self, message, result=None):
        super().__init__(message)
        self.result = result


class NewtonFailure(Exception):
    """Newton did not converge, or a linear solve in it failed: raised by the
    solver and the linear algebra (and by models, e.g. at an inadmissible
    state) and caught by the step control, which shortens the step or falls
    back to continuation; a :class:`SolverError` when it cannot."""
