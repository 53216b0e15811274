"""``--set`` overrides: dotted keys applied to the raw case dict before it is read.

Owns the override syntax (SPEC section 1): ``KEY=VALUE`` strings whose VALUE
is read as TOML, or a dict of dotted keys (Python API, a value None removes
the key); ``[[species]]``, ``[[region]]`` and ``[[boundary]]`` entries are
addressed by name, ``[[reaction]]`` and ``[[trap]]`` entries by 0-based index; setting one of
two alternative keys (``mesh.file`` / ``mesh.generate``, ``diffusivity`` /
``mobility``) drops the other.  Also :func:`_plain`, which turns Python values
into TOML types (tuples, numpy scalars, paths, expressions).
"""

from __future__ import annotations

import os
import tomllib
from typing import Any

import numpy as np

from ..errors import CaseError, clip
from .expressions import Expression
from .schema import ARRAY_SECTIONS, TOP_KEYS
from .table import _suggest


def apply_overrides(raw: dict, overrides) -> None:
    """Apply ``overrides`` (dict of dotted keys, or ``KEY=VALUE`` strings) to ``raw`` in place."""
    for key, value in _override_items(overrides):
        _apply_override(raw, key, value)


def _plain(value):
    """``value`` with only TOML types: tuples -> lists, numpy -> Python, Path and
    Expression -> str.

    Keys whose value is None (not given) are dropped.
    """
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Expression):
        return value.text
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _override_items(overrides) -> list[tuple[str, Any]]:
    """``overrides`` as (dotted key, value) pairs; "KEY=VALUE" strings are parsed as TOML."""
    if overrides is None:
        return []
    if isinstance(overrides, dict):
        return [(str(key), _plain(value)) for key, value in overrides.items()]
    if isinstance(overrides, str):
        overrides = [overrides]
    if not isinstance(overrides, list | tuple):
        raise CaseError(
            "overrides must be a dict of dotted keys or a list of 'KEY=VALUE' strings "
            f"(got {type(overrides).__name__})"
        )
    items = []
    for item in overrides:
        if not isinstance(item, str) or "=" not in item:
            raise CaseError(f"override {clip(repr(item))} must read KEY=VALUE")
        key, _, text = item.partition("=")
        items.append((key.strip(), _toml_value(text.strip())))
    return items


def _toml_value(text: str):
    """A TOML value (``2.0``, ``true``, ``[1, 2]``, ``"a"``), else the bare string."""
    if "\n" in text or "\r" in text:
        return text
    try:
        parsed = tomllib.loads(f"value = {text}")
    except tomllib.TOMLDecodeError:
        return text
    return parsed["value"] if list(parsed) == ["value"] else text


# Overriding one of these keys of a section (or entry) drops the other: they are alternatives.
_ALTERNATIVES = {
    ("mesh", "file"): "generate",
    ("mesh", "generate"): "file",
    ("species", "diffusivity"): "mobility",
    ("species", "mobility"): "diffusivity",
}


def _apply_override(raw: dict, key: str, value) -> None:
    """Set the dotted ``key`` of ``raw`` to ``value`` (entries by name or index)."""
    parts = key.split(".")
    if not all(part.strip() for part in parts):
        raise CaseError(f"override {key!r}: empty part in the dotted key")
    parts = [part.strip() for part in parts]
    head = parts[0]
    if head not in TOP_KEYS:
        raise CaseError(f"override {key!r}: unknown key {head!r}{_suggest(head, TOP_KEYS)}")
    if head in ARRAY_SECTIONS and len(parts) > 1:
        target, rest = _override_entry(raw, key, parts), parts[2:]
        if not rest:
            raise CaseError(f"override {key!r} must name a key of the entry, e.g. {key}.KEY")
    else:
        target, rest = raw, parts
    for part in rest[:-1]:
        if part not in target:
            target[part] = {}
        if not isinstance(target[part], dict):
            raise CaseError(f"override {key!r}: {part!r} is not a table")
        target = target[part]
    if value is None:  # Python API: None removes the key
        target.pop(rest[-1], None)
        return
    target[rest[-1]] = value
    local = rest if head in ARRAY_SECTIONS else rest[1:]
    if len(local) == 1 and (head, local[0]) in _ALTERNATIVES:
        target.pop(_ALTERNATIVES[head, local[0]], None)


def _override_entry(raw: dict, key: str, parts: list[str]) -> dict:
    """The ``[[section]]`` entry that an override addresses by name (or index for reactions)."""
    section, name = parts[0], parts[1]
    entries = raw.get(section, [])
    entries = (
        [entry for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    )
    if section in ("reaction", "trap"):
        if not name.isdigit() or int(name) >= len(entries):
            numbers = f"0 to {len(entries) - 1}" if entries else f"none: the case has no {section}s"
            raise CaseError(f"override {key!r}: no [[{section}]] number {name} ({numbers})")
        return entries[int(name)]
    for entry in entries:
        if entry.get("name") == name:
            return entry
    names = ", ".join(str(entry.get("name")) for entry in entries) or "none"
    raise CaseError(f"override {key!r}: no [[{section}]] named {name!r} (names: {names})")
