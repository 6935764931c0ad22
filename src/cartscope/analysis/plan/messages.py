"""Schema errors of a plan in clinical words: ``key.path: message`` with the allowed values.

pydantic reports a wrong value as its own text ("Input should be a valid tuple", one error per
member of a union, the union member's type name inside the location). :func:`schema_problems`
turns each into one line per key path that a clinician can act on: what the key needs (a list
of analytes, a whole number from 1 to 5, one of the allowed values), what was given, the
allowed values and the closest one (did you mean ...?).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

_TYPE_TAG = re.compile(r"^(literal|tuple|list|dict|set|frozenset|function-|union|nullable|json-or-python|"
                       r"lax-or-strict|str|int|float|bool|none|is-instance)\b|\[", re.IGNORECASE)
"""Location parts pydantic adds for a union member or a wrapped validator (not keys of the file)."""


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest candidate, or ''."""
    cands = [str(c) for c in candidates]
    low = {c.casefold(): c for c in cands}
    if name.casefold() in low:
        return f" (did you mean {low[name.casefold()]!r}?)"
    hit = difflib.get_close_matches(name.casefold(), list(low), n=1, cutoff=0.6)
    return f" (did you mean {low[hit[0]]!r}?)" if hit else ""


def key_path(loc: Iterable[Any]) -> str:
    """``analyses[3].covariates[1]`` from a location tuple."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _clean(loc: Iterable[Any], tags: Iterable[str] = ()) -> tuple:
    tags = set(tags)
    out = []
    for part in loc:
        if isinstance(part, str) and (_TYPE_TAG.search(part) and part not in ("none",) or part in tags):
            continue
        out.append(part)
    return tuple(out)


def _allowed(expected: str) -> list[str]:
    """``'a', 'b' or 'c'`` (pydantic's ``expected``) -> ['a', 'b', 'c']."""
    parts = re.split(r", | or ", expected)
    return [p.strip().strip("'\"") for p in parts if p.strip()]


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null (empty)"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _need(e: Mapping[str, Any], role: str) -> str:
    """What the key needs, from one pydantic error (one union member)."""
    t, ctx = e["type"], e.get("ctx") or {}
    items = f"{role}s" if role else "values"
    if t == "literal_error":
        allowed = _allowed(str(ctx.get("expected", "")))
        return ("one of " + ", ".join(allowed)) if len(allowed) > 1 else (allowed[0] if allowed else "another value")
    if t in ("tuple_type", "list_type", "set_type", "frozen_set_type", "iterable_type"):
        return f"a list of {items}"
    if t in ("int_parsing", "int_type", "int_from_float"):
        return "a whole number"
    if t in ("float_parsing", "float_type", "finite_number"):
        return "a number"
    if t in ("bool_parsing", "bool_type"):
        return "true or false"
    if t in ("string_type",):
        return f"a {role}" if role else "a text value"
    if t in ("dict_type", "model_type", "model_attributes_type", "mapping_type"):
        return "a mapping of keys to values (key: value)"
    if t == "none_required":
        return "null"
    if t == "greater_than_equal":
        return f"a number of at least {ctx.get('ge')}"
    if t == "less_than_equal":
        return f"a number of at most {ctx.get('le')}"
    if t == "greater_than":
        return f"a number above {ctx.get('gt')}"
    if t == "less_than":
        return f"a number below {ctx.get('lt')}"
    return str(e.get("msg", "another value"))


def _one(errors: list[Mapping[str, Any]], role: str, fields: Iterable[str], last: Any) -> str:
    """One message for the errors of one key path (several when the key allows a union)."""
    e = errors[0]
    t = e["type"]
    value = e.get("input")
    if t == "extra_forbidden":
        return "unknown key" + suggest(str(last), fields)
    if t == "missing":
        return "required key is missing"
    if t in ("value_error", "assertion_error"):
        err = (e.get("ctx") or {}).get("error")
        return str(err) if err is not None else str(e["msg"]).removeprefix("Value error, ")
    if t == "union_tag_invalid":
        ctx = e.get("ctx") or {}
        known = _allowed(str(ctx.get("expected_tags", "")))
        tag = str(ctx.get("tag", ""))
        return (f"unknown {ctx.get('discriminator', 'kind').strip(chr(39))} rule {tag!r}{suggest(tag, known)}; "
                f"known: {', '.join(known)}")
    if t == "union_tag_not_found":
        ctx = e.get("ctx") or {}
        return f"needs a {ctx.get('discriminator', 'kind')} key"
    if t == "string_pattern_mismatch":
        return f"{_shown(value)} is not a valid name (a letter, then letters, digits, _ . -)"
    if t in ("string_too_short", "too_short") and not value:
        return "must not be empty"
    needs: list[str] = []
    for err in errors:
        n = _need(err, role)
        if n not in needs:
            needs.append(n)
    allowed = [a for err in errors if err["type"] == "literal_error"
               for a in _allowed(str((err.get("ctx") or {}).get("expected", "")))]
    listy = any(err["type"] in ("tuple_type", "list_type") for err in errors)
    if allowed and len(needs) == 1:
        msg = f"{_shown(value)} is not allowed here; allowed values: {', '.join(allowed)}"
    else:
        msg = f"needs {' or '.join(needs)}; got {_shown(value)}"
    if isinstance(value, str) and value:
        if allowed:
            msg += suggest(value, allowed)
        if listy:
            msg += f" (a list is written in brackets: [{value}])"
    return msg


def schema_problems(exc: ValidationError, prefix: tuple = (), fields: Iterable[str] = (),
                    roles: Mapping[str, str] | None = None, tags: Iterable[str] = ()) -> list[tuple[str, str]]:
    """``(key path, message)`` per key path of ``exc``, in the order pydantic found them.

    ``prefix`` is prepended to every location; ``fields`` are the keys allowed at the top of the
    model (for the did-you-mean of an unknown key); ``roles`` maps a key to the word for what its
    values name (``analytes`` -> ``analyte``); location parts in ``tags`` (a union's
    discriminator values such as the ``derive`` rule) are dropped from the path."""
    roles = roles or {}
    fields = list(fields)
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for e in exc.errors():
        loc = _clean(e["loc"], tags)
        groups.setdefault(loc, []).append(e)
    out = []
    for loc, errors in groups.items():
        keys = [p for p in loc if isinstance(p, str)]
        role = roles.get(keys[0], "") if keys else ""
        out.append((key_path((*prefix, *loc)), _one(errors, role, fields, loc[-1] if loc else "")))
    return out


__all__ = ["key_path", "schema_problems", "suggest"]
