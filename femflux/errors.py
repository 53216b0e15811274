"""Exceptions of femflux: bad input (exit 2) and a failed solve (exit 3)."""


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
