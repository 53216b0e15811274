"""Safe expressions in the case file (SPEC section 2.3).

A case may give many numbers as expressions of x, y, z (m) and t (s), e.g.
``potential = "0.05*sin(2*pi*t)"``, and the onsager free energy as an
expression of the species names, R and T.  The text is parsed with Python's
:mod:`ast` module and the sympy expression is built node by node from a small
whitelist; nothing is ever passed to ``eval`` or ``sympy.sympify``:

- numbers, ``+ - * / **``, unary ``+`` and ``-``, parentheses;
- the allowed symbols (default ``x y z t``) and the constant ``pi``;
- the functions ``sin cos tan exp log sqrt tanh abs`` (one argument) and
  ``min max`` (two to :data:`MAX_ARGUMENTS` arguments).

The cost of an expression is bounded: at most :data:`MAX_LENGTH` characters,
:data:`MAX_NODES` syntax nodes (numbers, names, operators, calls) and
:data:`MAX_DEPTH` levels of nesting; ``min``/``max`` are kept unevaluated
(sympy's pairwise simplification of many arguments takes minutes) and
lambdified without renaming x, y, z, t.

Anything else raises :class:`femflux.errors.CaseError` naming the expression
and the offending token.  sympy is imported lazily (the first time an
expression is built) so that ``import femflux`` stays fast.
"""

from __future__ import annotations

import ast
import difflib
import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import CaseError, clip

SPACE_TIME = ("x", "y", "z", "t")
UNARY_FUNCTIONS = ("sin", "cos", "tan", "exp", "log", "sqrt", "tanh", "abs")
VARIADIC_FUNCTIONS = ("min", "max")  # two or more arguments
FUNCTIONS = UNARY_FUNCTIONS + VARIADIC_FUNCTIONS
MAX_LENGTH = 10_000  # characters; longer text is refused before parsing
MAX_NODES = 2_000  # numbers, names, operators and calls together
MAX_DEPTH = 100  # levels of nesting of operators and calls
MAX_ARGUMENTS = 100  # of one min() or max()

_OPERATOR_TEXT = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.BitXor: "^",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.Invert: "~",
    ast.Not: "not",
}


def _sympy():
    """The sympy module, imported on first use (it takes a while to import)."""
    import sympy

    return sympy


def _sympy_function(name: str):
    sp = _sympy()
    return {
        "sin": sp.sin,
        "cos": sp.cos,
        "tan": sp.tan,
        "exp": sp.exp,
        "log": sp.log,
        "sqrt": sp.sqrt,
        "tanh": sp.tanh,
        "abs": sp.Abs,
        "min": sp.Min,
        "max": sp.Max,
    }[name]


class _Builder:
    """Turns a parsed ``ast`` tree into a sympy expression, refusing anything else."""

    def __init__(self, text: str, symbols: tuple[str, ...], fail):
        self.text = text
        self.symbols = {name: _sympy().Symbol(name, real=True) for name in symbols}
        self.fail = fail  # fail(problem) -> CaseError

    def segment(self, node: ast.AST) -> str:
        return ast.get_source_segment(self.text, node) or type(node).__name__

    def build(self, node: ast.AST):
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise self.fail(f"{self.segment(node)!r} is not allowed ({_describe(node)})")
        return method(node)

    def _Expression(self, node: ast.Expression):
        return self.build(node.body)

    def _Constant(self, node: ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(f"{self.segment(node)!r} is not allowed (only numbers)")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.fail(f"the number {self.segment(node)!r} is not finite")
        sp = _sympy()
        return sp.Integer(value) if isinstance(value, int) else sp.Float(value)

    def _Name(self, node: ast.Name):
        if node.id in self.symbols:
            return self.symbols[node.id]
        if node.id == "pi":
            return _sympy().pi
        if node.id in FUNCTIONS:
            raise self.fail(f"function {node.id!r} must be called, e.g. {node.id}(x)")
        allowed = [*self.symbols, "pi"]
        raise self.fail(
            f"unknown name {node.id!r}{_suggest(node.id, allowed)} (allowed: {', '.join(allowed)})"
        )

    def _UnaryOp(self, node: ast.UnaryOp):
        operand = self.build(node.operand)
        if isinstance(node.op, ast.USub):
            return -operand
        if isinstance(node.op, ast.UAdd):
            return operand
        raise self.fail(f"operator {_OPERATOR_TEXT.get(type(node.op), '?')!r} is not allowed")

    def _BinOp(self, node: ast.BinOp):
        """A chain ``a + b - c * d ...`` of left-associative operators is built
        in a loop (a long sum is not deep)."""
        chain = []
        while _flat(node):
            chain.append(node)
            node = node.left
        value = self.build(node) if chain else None
        for link in reversed(chain):
            value = self._operate(link, value, self.build(link.right))
        return value if chain else self._operate(node, self.build(node.left),
                                                 self.build(node.right))

    def _operate(self, node: ast.BinOp, left, right):
        op = type(node.op)
        if op not in (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow):
            hint = " (use ** for powers)" if op is ast.BitXor else ""
            raise self.fail(f"operator {_OPERATOR_TEXT.get(op, '?')!r} is not allowed{hint}")
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        if op is ast.Div:
            return left / right
        return self._power(left, right)

    def _power(self, base, exponent):
        """``base**exponent``; number**number is folded in floating point (no huge integers)."""
        sp = _sympy()
        if base.is_Number and exponent.is_Number:
            try:
                value = float(base) ** float(exponent)
            except (OverflowError, ZeroDivisionError):
                value = math.inf
            if isinstance(value, complex) or not math.isfinite(value):
                power = f"{float(base):g}**{float(exponent):g}"
                raise self.fail(f"{power} is not a finite real number")
            return sp.Float(value)
        return sp.Pow(base, exponent)

    def _Call(self, node: ast.Call):
        if not isinstance(node.func, ast.Name):
            raise self.fail(f"{self.segment(node.func)!r} cannot be called")
        name = node.func.id
        if name not in FUNCTIONS:
            allowed = ", ".join(FUNCTIONS)
            raise self.fail(
                f"unknown function {name!r}{_suggest(name, FUNCTIONS)} (allowed: {allowed})"
            )
        if node.keywords or any(isinstance(arg, ast.Starred) for arg in node.args):
            raise self.fail(f"{name}() takes plain arguments only")
        if name in UNARY_FUNCTIONS and len(node.args) != 1:
            raise self.fail(f"{name}() takes exactly one argument (got {len(node.args)})")
        if name in VARIADIC_FUNCTIONS and len(node.args) < 2:
            raise self.fail(f"{name}() takes two or more arguments (got {len(node.args)})")
        if name in VARIADIC_FUNCTIONS and len(node.args) > MAX_ARGUMENTS:
            raise self.fail(f"{name}() takes at most {MAX_ARGUMENTS} arguments "
                            f"(got {len(node.args)})")
        args = [self.build(arg) for arg in node.args]
        if name not in VARIADIC_FUNCTIONS:
            return _sympy_function(name)(*args)
        if all(arg.is_Number for arg in args):
            return (max if name == "max" else min)(args, key=float)
        return _sympy_function(name)(*args, evaluate=False)


_FLAT = (ast.Add, ast.Sub, ast.Mult, ast.Div)  # left-associative: sympy flattens them


def _flat(node: ast.AST) -> bool:
    return isinstance(node, ast.BinOp) and isinstance(node.op, _FLAT)


def _size(tree: ast.AST) -> tuple[int, int]:
    """The number of syntax nodes (without operator and context tokens) and
    the nesting depth of a parsed expression (a chain ``a + b + c ...`` is one
    level)."""
    nodes, deepest, stack = 0, 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, ast.operator | ast.unaryop | ast.expr_context):
            continue
        nodes += 1
        deepest = max(deepest, depth)
        for child in ast.iter_child_nodes(node):
            chained = _flat(node) and _flat(child) and child is node.left
            stack.append((child, depth if chained else depth + 1))
    return nodes, deepest


def _describe(node: ast.AST) -> str:
    """The name of a refused syntax element."""
    names = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscript",
        ast.Lambda: "lambda",
        ast.Compare: "comparison",
        ast.BoolOp: "boolean operator",
        ast.IfExp: "conditional",
        ast.List: "list",
        ast.Tuple: "tuple",
        ast.Dict: "dict",
        ast.Set: "set",
        ast.JoinedStr: "f-string",
        ast.NamedExpr: "assignment",
        ast.Starred: "starred argument",
    }
    return names.get(type(node), type(node).__name__)


def _suggest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'xyz'?)`` or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Expression:
    """A safely parsed expression of a few named symbols.

    Parameters
    ----------
    text : str
        The expression, e.g. ``"10 + 5*tanh(x/1e-8)"``.
    symbols : tuple of str
        The names it may use (besides ``pi``); default ``("x", "y", "z", "t")``.
    where : str
        The case-file key it came from, used in error messages.

    Attributes
    ----------
    text, symbols, where : as given.
    sympy : sympy.Expr
        The expression; its symbols are real ``sympy.Symbol`` objects named as
        in ``symbols``.
    """

    def __init__(self, text: str, symbols: tuple[str, ...] = SPACE_TIME, where: str = ""):
        if not isinstance(text, str):
            raise TypeError(f"Expression text must be a string, got {type(text).__name__}")
        self.text = text
        self.symbols = tuple(symbols)
        self.where = where
        self.sympy = self._parse()
        self._functions: dict[tuple[str, ...], Any] = {}

    # -- parsing ---------------------------------------------------------------
    def _error(self, problem: str) -> CaseError:
        head = f"{self.where}: " if self.where else ""
        return CaseError(f"{head}expression {clip(repr(self.text))}: {problem}")

    def _parse(self):
        text = self.text.strip()
        if not text:
            raise self._error("is empty")
        if len(text) > MAX_LENGTH:
            raise self._error(f"is longer than {MAX_LENGTH} characters")
        try:
            tree = ast.parse(text, mode="eval")
        except SyntaxError as exc:
            raise self._error(f"invalid syntax ({exc.msg})") from None
        except (RecursionError, MemoryError, ValueError):
            raise self._error("cannot be parsed (too deeply nested?)") from None
        nodes, depth = _size(tree)
        if nodes > MAX_NODES:
            raise self._error(f"has more than {MAX_NODES} numbers, names and operators")
        if depth > MAX_DEPTH:
            raise self._error(f"is nested more than {MAX_DEPTH} levels deep")
        try:
            expr = _Builder(text, self.symbols, self._error).build(tree)
        except RecursionError:
            raise self._error("is too deeply nested") from None
        sp = _sympy()
        if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            raise self._error("is infinite or undefined (division by zero? log(0)?)")
        if expr.has(sp.I):
            raise self._error("is not real (sqrt or log of a negative number?)")
        if any(not math.isfinite(float(number)) for number in expr.atoms(sp.Number)):
            raise self._error("contains a number too large for floating point")
        return expr

    # -- properties ------------------------------------------------------------
    @property
    def free_symbols(self) -> set[str]:
        """Names of the symbols the expression depends on."""
        return {symbol.name for symbol in self.sympy.free_symbols}

    @property
    def depends_on_time(self) -> bool:
        return "t" in self.free_symbols

    @property
    def is_constant(self) -> bool:
        return not self.sympy.free_symbols

    def symbol(self, name: str):
        """The sympy symbol called ``name`` (one of ``symbols``)."""
        if name not in self.symbols:
            raise KeyError(f"{name!r} is not a symbol of expression {self.text!r}")
        return _sympy().Symbol(name, real=True)

    # -- calculus and evaluation -----------------------------------------------
    def derivative(self, name: str):
        """d(expression)/d(name) as a sympy expression."""
        return _sympy().diff(self.sympy, self.symbol(name))

    def lambdify(self, names: Iterable[str]):
        """A numpy function of the symbols ``names`` (positional, in that order)."""
        names = tuple(names)
        if names not in self._functions:
            symbols = [self.symbol(name) for name in names]
            # renaming (dummify) rebuilds the expression, evaluating min/max
            plain = set(names) <= set(SPACE_TIME)
            self._functions[names] = _sympy().lambdify(
                symbols, self.sympy, modules="numpy", dummify=not plain
            )
        return self._functions[names]

    def __call__(self, **values) -> np.ndarray | float:
        """Evaluate with numpy broadcasting; every free symbol must be given.

        The result has the broadcast shape of all the given values (a float when
        they are all scalars), also for a constant expression.
        """
        missing = sorted(self.free_symbols - set(values))
        if missing:
            raise self._error(f"needs a value for {', '.join(missing)}")
        names = tuple(sorted(self.free_symbols))
        with np.errstate(all="ignore"):  # non-finite values are reported by the caller
            result = self.lambdify(names)(*(np.asarray(values[name], float) for name in names))
        shape = np.broadcast_shapes(*(np.shape(value) for value in values.values()))
        result = np.broadcast_to(np.asarray(result, dtype=float), shape)
        return float(result) if result.ndim == 0 else np.array(result)

    def __float__(self) -> float:
        if not self.is_constant:
            raise TypeError(f"expression {self.text!r} is not constant")
        return float(self.sympy)

    # -- identity --------------------------------------------------------------
    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Expression):
            return NotImplemented
        return self.text == other.text and self.symbols == other.symbols

    def __hash__(self) -> int:
        return hash((self.text, self.symbols))

    def __getstate__(self) -> dict:
        return {"text": self.text, "symbols": self.symbols, "where": self.where}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["text"], state["symbols"], state["where"])


def is_expression(obj: object) -> bool:
    """True for an :class:`Expression` (a value that varies in space or time)."""
    return isinstance(obj, Expression)


def evaluate(value: float | Expression, x: np.ndarray, t: float = 0.0) -> np.ndarray:
    """A number or expression of x, y, z, t at the points ``x``.

    Parameters
    ----------
    value : float or Expression
        A constant, or an expression of x, y, z (m) and t (s).
    x : array of shape (dim, ...)
        Point coordinates, dim 1 to 3; missing y and z are 0.
    t : float
        Time (s).

    Returns
    -------
    Array of shape ``x.shape[1:]``.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim < 1 or not 1 <= x.shape[0] <= 3:
        raise ValueError(f"x must have shape (dim, ...) with dim 1..3, got {x.shape}")
    shape = x.shape[1:]
    if not is_expression(value):
        return np.full(shape, float(value))
    zeros = np.zeros(shape)
    values = {name: (x[k] if k < x.shape[0] else zeros) for k, name in enumerate("xyz")}
    values["t"] = float(t)
    return np.broadcast_to(value(**values), shape).copy()
