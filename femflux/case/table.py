"""Typed access to one TOML table of the case file.

Owns :class:`_Table` (unknown keys refused up front; numbers, integers,
booleans, choices, names, vectors, matrices and species-keyed tables read with
their ranges checked) and the helpers of its messages: "did you mean",
"got ...", range wording.  Every error is a one-line
:class:`femflux.errors.CaseError` naming the key.
"""

from __future__ import annotations

import difflib
import math

import numpy as np

from ..errors import CaseError, clip
from .expressions import Expression
from .schema import ARRAY_SECTIONS, TOP_KEYS, Value

_REQUIRED = object()  # default of a key that must be given


def _suggest(word: str, choices) -> str:
    """`` (did you mean 'xyz'?)`` when a choice is close to ``word``, else ''.

    Close means similar (difflib) or an abbreviation (``coef`` -> ``coefficient``).
    """
    choices = [str(c) for c in choices]
    close = difflib.get_close_matches(word, choices, n=1)
    if not close and len(word) >= 3:
        close = [c for c in choices if c.lower().startswith(word.lower())][:1]
    return f" (did you mean {close[0]!r}?)" if close else ""


def _show(value) -> str:
    """A value as the user wrote it, for 'got ...' in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"string {clip(repr(value))}"
    return clip(repr(value))


def _range_problem(value: float, gt=None, ge=None, lt=None, le=None) -> str | None:
    """'must be > 0' and the like when ``value`` is out of the bounds, else None."""
    low_ok = (gt is None or value > gt) and (ge is None or value >= ge)
    high_ok = (lt is None or value < lt) and (le is None or value <= le)
    if low_ok and high_ok:
        return None
    low = f"({gt}" if gt is not None else (f"[{ge}" if ge is not None else None)
    high = f"{lt})" if lt is not None else (f"{le}]" if le is not None else None)
    if low and high:
        return f"must be in {low}, {high}"
    if low:
        return f"must be > {gt}" if gt is not None else f"must be >= {ge}"
    return f"must be < {lt}" if lt is not None else f"must be <= {le}"


def _to_number(value, where: str) -> float:
    """``value`` as a finite float, or a CaseError naming ``where``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = " (expressions are not allowed here)" if isinstance(value, str) else ""
        raise CaseError(f"{where} must be a number (got {_show(value)}){hint}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        raise CaseError(
            f"{where} is too large for a floating-point number (an integer of "
            f"{value.bit_length()} bits; at most about 1.8e308)"
        ) from None
    if not math.isfinite(number):
        raise CaseError(f"{where} must be finite (got {value})")
    return number


class _Table:
    """One TOML table being read: unknown keys are refused up front, values are typed.

    ``label`` names the table in messages (``[solver]``, ``species 'K'``),
    ``path`` is its dotted key (``solver``, ``species.K``) and ``prefix`` the
    keys leading to a nested table (``generate.``).
    """

    def __init__(self, data, known, label: str = "", path: str = "", prefix: str = ""):
        self.data = data
        self.label = label
        self.path = path
        self.prefix = prefix
        if known is not None:
            self._reject_unknown(known)

    # -- names and errors --------------------------------------------------------
    def where(self, key: str = "") -> str:
        name = self.prefix + key if key else self.prefix.rstrip(".")
        if not self.label or not name:
            return self.label or name
        separator = " " if self.label.startswith("[") else ": "
        return f"{self.label}{separator}{name}"

    def error(self, key: str, problem: str) -> CaseError:
        return CaseError(f"{self.where(key)} {problem}")

    def _reject_unknown(self, known) -> None:
        for key in self.data:
            if key in known:
                continue
            if not self.path:  # the top level: sections
                raise CaseError(_unknown_top_level(key, self.data[key]))
            raise CaseError(f"unknown key '{self.path}.{key}'{_suggest(key, known)}")

    # -- presence ------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self.data

    def get(self, key: str, default=None):
        return self.data.get(key, default)

    def _missing(self, key: str, default):
        if default is _REQUIRED:
            raise self.error(key, "is required")
        return default

    # -- scalars ---------------------------------------------------------------------
    def number(self, key: str, default=_REQUIRED, **bounds) -> float | None:
        if key not in self.data:
            return self._missing(key, default)
        value = _to_number(self.data[key], self.where(key))
        problem = _range_problem(value, **bounds)
        if problem:
            raise self.error(key, f"{problem} (got {self.data[key]!r})")
        return value

    def integer(self, key: str, default=_REQUIRED, choices=None, **bounds) -> int:
        if key not in self.data:
            return self._missing(key, default)
        value = self.data[key]
        integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not integral:
            raise self.error(key, f"must be an integer (got {_show(value)})")
        value = int(value)
        if choices is not None and value not in choices:
            allowed = " or ".join(map(str, choices))
            raise self.error(key, f"must be {allowed} (got {value})")
        problem = _range_problem(value, **bounds)
        if problem:
            raise self.error(key, f"{problem} (got {value})")
        return value

    def boolean(self, key: str, default=_REQUIRED) -> bool:
        if key not in self.data:
            return self._missing(key, default)
        if not isinstance(self.data[key], bool):
            raise self.error(key, f"must be true or false (got {_show(self.data[key])})")
        return self.data[key]

    def string(self, key: str, default=_REQUIRED) -> str:
        if key not in self.data:
            return self._missing(key, default)
        if not isinstance(self.data[key], str):
            raise self.error(key, f"must be a string (got {_show(self.data[key])})")
        return self.data[key]

    def choice(self, key: str, default, choices) -> str:
        value = self.string(key, default)
        if value not in choices:
            raise self.error(
                key,
                f"must be one of {' | '.join(choices)} (got {value!r}){_suggest(value, choices)}",
            )
        return value

    def value(
        self, key: str, default=_REQUIRED, symbols=("x", "y", "z", "t"), ge=None, static=False
    ) -> Value | None:
        """A number or an expression (a constant expression becomes a float).

        ``static``: the value must not depend on t (initial values).
        """
        if key not in self.data:
            return self._missing(key, default)
        return _read_value(self.data[key], self.where(key), symbols, ge, static)

    # -- lists -----------------------------------------------------------------------
    def _list(self, key: str) -> list:
        value = self.data[key]
        if not isinstance(value, list):
            raise self.error(key, f"must be a list (got {_show(value)})")
        return value

    def names(self, key: str) -> list[str]:
        """A list of distinct strings (region names), default empty."""
        if key not in self.data:
            return []
        names = self._list(key)
        for name in names:
            if not isinstance(name, str):
                raise self.error(key, f"must be a list of names (got {_show(name)})")
        if len(set(names)) != len(names):
            raise self.error(key, f"lists a name twice ({', '.join(names)})")
        return list(names)

    def numbers(self, key: str, default=_REQUIRED, length=None, **bounds) -> list[float]:
        if key not in self.data:
            return self._missing(key, default)
        values = self._list(key)
        if length is not None and len(values) != length:
            raise self.error(key, f"needs {length} entries (got {len(values)})")
        result = []
        for k, value in enumerate(values):
            number = _to_number(value, f"{self.where(key)}[{k}]")
            problem = _range_problem(number, **bounds)
            if problem:
                raise self.error(f"{key}[{k}]", f"{problem} (got {value!r})")
            result.append(number)
        return result

    def integers(self, key: str, default=_REQUIRED, length=None, **bounds) -> list[int]:
        if key not in self.data:
            return self._missing(key, default)
        values = self._list(key)
        if length is not None and len(values) != length:
            raise self.error(key, f"needs {length} entries (got {len(values)})")
        items = _Table(
            {f"{key}[{k}]": v for k, v in enumerate(values)},
            None,
            self.label,
            self.path,
            self.prefix,
        )
        return [items.integer(f"{key}[{k}]", **bounds) for k in range(len(values))]

    def vector(self, key: str) -> list[Value | None] | None:
        """A vector of numbers or expressions; "free" entries become None."""
        if key not in self.data:
            return None
        values = self._list(key)
        if not 1 <= len(values) <= 3:
            raise self.error(key, f"needs one entry per dimension (got {len(values)})")
        return [
            None if value == "free" else _read_value(value, f"{self.where(key)}[{k}]")
            for k, value in enumerate(values)
        ]

    def matrix(self, key: str, size: int, names: list[str]) -> np.ndarray:
        """A size x size matrix of numbers (rows and columns in [[species]] order)."""
        rows = self._list(key)
        shape = f"{len(rows)} rows"
        if len(rows) == size and all(isinstance(row, list) and len(row) == size for row in rows):
            return np.array(
                [
                    [_to_number(v, f"{self.where(key)}[{i}][{j}]") for j, v in enumerate(row)]
                    for i, row in enumerate(rows)
                ]
            )
        if len(rows) == size:
            lengths = {len(row) if isinstance(row, list) else 1 for row in rows}
            shape = f"rows of {', '.join(map(str, sorted(lengths)))} entries"
        raise self.error(
            key,
            f"must be a {size} x {size} matrix, one row and column per species in "
            f"[[species]] order ({', '.join(names)}); got {shape}",
        )

    # -- nested tables ---------------------------------------------------------------
    def table(self, key: str, known=None) -> _Table:
        value = self.data[key]
        if not isinstance(value, dict):
            raise self.error(key, f"must be a table (got {_show(value)})")
        path = f"{self.path}.{key}" if self.path else key
        return _Table(value, known, self.label, path, f"{self.prefix}{key}.")

    def species_map(self, key: str, species: list[str], read) -> dict:
        """A table keyed by species names: ``{name: read(table, name)}``."""
        if key not in self.data:
            return {}
        table = self.table(key)
        result = {}
        for name in table.data:
            if name not in species:
                raise self.error(key, _unknown_species(name, species))
            result[name] = read(table, name)
        return result


def _read_value(value, where: str, symbols=("x", "y", "z", "t"), ge=None, static=False) -> Value:
    """A number or an expression string at ``where`` (see :meth:`_Table.value`)."""
    if isinstance(value, str):
        expression = Expression(value, symbols, where)
        if static and expression.depends_on_time:
            raise CaseError(f"{where} must not depend on t (got {value!r})")
        if not expression.is_constant:
            return expression
        number = float(expression)
    else:
        number = _to_number(value, where)
    problem = _range_problem(number, ge=ge)
    if problem:
        raise CaseError(f"{where} {problem} (got {clip(repr(value))})")
    return number


def _unknown_top_level(key: str, value) -> str:
    """The message for an unknown top-level key or section."""

    def shown(name, as_array):
        return f"[[{name}]]" if as_array else (f"[{name}]" if name != "title" else name)

    close = difflib.get_close_matches(key, TOP_KEYS, n=1)
    hint = ""
    if close:
        hint = f" (did you mean '{shown(close[0], close[0] in ARRAY_SECTIONS)}'?)"
    if isinstance(value, dict) or (
        isinstance(value, list) and value and isinstance(value[0], dict)
    ):
        return f"unknown section '{shown(key, isinstance(value, list))}'{hint}"
    return f"unknown key '{key}'{hint}"


def _unknown_species(name: str, species: list[str]) -> str:
    return (
        f"names unknown species {name!r}{_suggest(name, species)} (species: {', '.join(species)})"
    )
