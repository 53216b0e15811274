"""A small TOML writer for ``case.toml``, the case as run (``tomllib`` only reads).

Strings are TOML basic strings in UTF-8: every character is written as it is
(emoji and other characters beyond the Basic Multilingual Plane included)
except the quote, the backslash and the control characters, which are
escaped; write the text with ``encoding="utf-8"``.
"""

from __future__ import annotations

import math
import re

import numpy as np

# TOML basic-string escapes: quote, backslash, and every control character
# (U+0000-U+001F, U+007F), the common ones by name
_ESCAPES = {code: f"\\u{code:04X}" for code in [*range(0x20), 0x7F]}
_ESCAPES.update({ord('"'): '\\"', ord("\\"): "\\\\", ord("\b"): "\\b", ord("\t"): "\\t",
                 ord("\n"): "\\n", ord("\f"): "\\f", ord("\r"): "\\r"})


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string (UTF-8, escapes only where TOML needs them)."""
    return f'"{text.translate(_ESCAPES)}"'


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_string(key)


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}"
                                for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def dump_toml(data: dict) -> str:
    """TOML text for a case dict: scalars first, then tables and arrays of tables."""
    lines: list[str] = []
    _dump_table(data, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _dump_table(table: dict, prefix: list[str], lines: list[str]) -> None:
    def is_table_array(v):
        return isinstance(v, list) and v and all(isinstance(e, dict) for e in v)

    for key, value in table.items():
        if not isinstance(value, dict) and not is_table_array(value):
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in table.items():
        path = prefix + [_toml_key(key)]
        if isinstance(value, dict):
            lines.append("")
            lines.append(f"[{'.'.join(path)}]")
            _dump_table(value, path, lines)
        elif is_table_array(value):
            for entry in value:
                lines.append("")
                lines.append(f"[[{'.'.join(path)}]]")
                _dump_table(entry, path, lines)
