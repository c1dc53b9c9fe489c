"""JSON text with sorted keys and the characters as they are, written faster than ``json.dumps`` for flat dicts.

The event's canonical bytes (``audit.canonical``) and the JSON columns are ``json.dumps(value, sort_keys=True,
ensure_ascii=False)``, compact or with the default separators. On the firing path that call cost more than
the hash it feeds: ``json.dumps`` builds an encoder on every call and sorts item tuples. A dict whose keys are
strings and whose values are strings, integers or None (an event's row, most event data) is written here
with the C string encoder ``json`` itself uses; anything else (floats, lists, booleans, nested containers,
non-string keys, subclasses) goes to ``json.dumps`` with the same options. The output is byte for byte
``json.dumps``'s: the chain's hashes depend on it, and tests compare the two on varied values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# The C encoder of a str as a JSON string with non-ASCII characters kept (``ensure_ascii=False``).
string: Callable[[str], str] = json.encoder.encode_basestring  # type: ignore[attr-defined]


def _flat(value: dict[Any, Any], colon: str, comma: str) -> str | None:
    """A dict of str keys to str, int or None values as ``json`` writes it with these separators; else None."""
    out = []
    try:
        keys = sorted(value)
    except TypeError:  # keys that do not compare: json.dumps says what is wrong
        return None
    for key in keys:
        if type(key) is not str:
            return None
        item = value[key]
        if item is None:
            out.append(string(key) + colon + "null")
        elif type(item) is str:
            out.append(string(key) + colon + string(item))
        elif type(item) is int:
            out.append(string(key) + colon + int.__repr__(item))
        else:
            return None
    return "{" + comma.join(out) + "}"


def compact(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``."""
    if type(value) is dict:
        text = _flat(value, ":", ",")
        if text is not None:
            return text
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def spaced(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, sort_keys=True)`` (the default separators ``", "`` and ``": "``)."""
    if type(value) is dict:
        text = _flat(value, ": ", ", ")
        if text is not None:
            return text
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def compact_value(value: Any) -> str:
    """One value of a compact object: a str, an int or None at once, anything else through ``compact``."""
    if value is None:
        return "null"
    kind = type(value)
    if kind is str:
        return string(value)
    if kind is int:
        return int.__repr__(value)
    return compact(value)
