"""Bounded YAML: every hostile shape is one problem line, fast, without echoing the value."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cartscope.cohort.safe_yaml import YamlError, YamlLimits, excerpt, load_yaml


def _bomb(levels: int = 9, width: int = 9) -> str:
    names = [chr(ord("a") + i) for i in range(levels + 1)]
    lines = [f"{names[0]}: &{names[0]} [" + ", ".join(["lol"] * width) + "]"]
    for prev, name in zip(names, names[1:]):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _code(data, limits=None) -> YamlError:
    with pytest.raises(YamlError) as info:
        load_yaml(data, "p.yaml", limits)
    return info.value


def test_plain_documents_load_as_safe_load_does():
    text = "a: 1\nb: [x, 2.5, null, true]\nc: {d: 2020-01-02}\nshared: &s [1, 2]\nagain: *s\n"
    import yaml

    assert load_yaml(text, "p.yaml") == yaml.safe_load(text)
    assert load_yaml(text.encode(), "p.yaml") == yaml.safe_load(text)
    assert load_yaml("\ufeffa: 1\n".encode(), "p.yaml") == {"a": 1}
    assert load_yaml("", "p.yaml") is None
    assert load_yaml("base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n", "p.yaml")["other"] == {"x": 1, "y": 2}


def test_alias_bomb_is_refused_at_once_and_quotes_nothing():
    started = time.perf_counter()
    err = _code(_bomb())
    assert time.perf_counter() - started < 1.0
    assert err.problem.code == "yaml-alias-expansion"
    assert err.problem.file == "p.yaml" and err.problem.row is not None
    assert "lol" not in str(err)
    assert len(str(err)) < 300


def test_alias_count_limit():
    text = "a: &a 1\nb: [" + ", ".join(["*a"] * 20) + "]\n"
    assert _code(text, YamlLimits(max_aliases=10)).problem.code == "yaml-too-many-aliases"
    assert len(load_yaml(text, "p.yaml")["b"]) == 20


def test_deep_nesting_flow_and_block():
    assert _code("[" * 100_000 + "]" * 100_000).problem.code == "yaml-too-deep"
    block = "a:\n" + "".join(" " * i + "a:\n" for i in range(1, 200))
    err = _code(block)
    assert err.problem.code == "yaml-too-deep" and err.problem.row == 65
    assert load_yaml("[" * 60 + "]" * 60, "p.yaml") is not None


def test_size_limit_before_parsing():
    assert _code("a: " + "x" * 2_000_000).problem.code == "yaml-too-large"
    assert _code(b"a: " + b"x" * 2_000_000).problem.code == "yaml-too-large"
    assert _code("a: [" + "1," * 500 + "1]", YamlLimits(max_nodes=100)).problem.code == "yaml-too-large"


def test_not_utf8_names_byte_and_line():
    err = _code(b"a: 1\nb: caf\xe9\n")
    assert err.problem.code == "not-utf8" and err.problem.row == 2
    assert "0xe9" in err.problem.message
    assert _code(b"a: \x00").problem.code == "not-text"


def test_recursive_alias_and_many_documents_and_syntax():
    assert _code("a: &x [*x]\n").problem.code == "yaml-recursive-alias"
    assert _code("a: 1\n---\nb: 2\n").problem.code == "yaml-many-documents"
    err = _code("a: [1, 2\n")
    assert err.problem.code == "yaml-syntax" and str(err).startswith("p.yaml:2:1:")
    assert _code("? [1, 2]\n: 3\n").problem.code == "yaml-syntax"
    assert _code("a: !!python/object:os.system x\n").problem.code == "yaml-syntax"


def test_syntax_error_never_echoes_a_long_value():
    hostile = "a: '" + "=HYPERLINK(" * 5000 + "\n"
    err = _code(hostile + "b: [\n")
    assert len(str(err)) < 300


def test_excerpt_is_short_and_escaped():
    assert excerpt("x" * 100) == repr("x" * 40 + "...")
    assert "\\x1b" in excerpt("\x1b[31mred")


@settings(derandomize=True, max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                    max_leaves=20))
def test_round_trip_of_plain_data(value):
    import yaml

    assert load_yaml(yaml.safe_dump(value), "p.yaml") == value
