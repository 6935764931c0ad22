"""YAML read with bounds: the one loader for protocols, cohort manifests and every other YAML input.

``yaml.safe_load`` refuses to build arbitrary objects but not to spend memory and time: a
1.9 kB "billion laughs" document (anchors referring to anchors) expands to gigabytes once
anything walks it, a few thousand ``[`` overflow the recursive composer, and an error message
that prints the offending value echoes all of it. :func:`load_yaml` closes these:

- the input is limited in bytes before anything is parsed (``max_bytes``);
- the text must be UTF-8 (a BOM is allowed); a bad byte is reported by offset and line;
- the event stream is walked first, without building anything, to bound the nesting depth
  (``max_depth``), the number of alias uses (``max_aliases``) and the number of nodes;
- the node graph is then composed and its size *with every alias expanded* is counted on the
  shared graph (memoised, so counting costs no expansion); more than ``max_nodes`` expanded
  nodes, or an alias that refers to itself, is refused;
- exactly one document is accepted (an empty input is ``None``);
- every refusal is a :class:`YamlError` carrying one :class:`~cartscope.cohort.problems.Problem`
  (``source:line:column: message``) whose text quotes at most :data:`EXCERPT` characters of
  the input.

Only then are Python values constructed (SafeLoader's constructors: plain data, no tags that
build objects).
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass

import yaml
from yaml.events import (
    AliasEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from cartscope.cohort.problems import Problem

EXCERPT = 40
"""Characters of a hostile value that a message may quote."""


@dataclass(frozen=True)
class YamlLimits:
    """Bounds of one YAML input; the defaults fit any protocol or manifest by a wide margin."""

    max_bytes: int = 1024 * 1024
    max_depth: int = 64
    max_aliases: int = 1000
    max_nodes: int = 200_000


DEFAULT_LIMITS = YamlLimits()


class YamlError(ValueError):
    """A YAML input refused; ``problem`` says where and why (printable as one line)."""

    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem

    @property
    def message(self) -> str:
        return self.problem.message


def excerpt(value: object, limit: int = EXCERPT) -> str:
    """``value`` as a short, printable quotation: control characters escaped, cut at ``limit``."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value[: limit * 4]).decode("utf-8", "replace")
    if not isinstance(value, str):  # containers: reprlib stops early, never walking an expansion
        short = reprlib.Repr()
        short.maxlevel, short.maxlist, short.maxdict, short.maxtuple, short.maxset = 3, 6, 6, 6, 6
        short.maxstring = short.maxother = short.maxlong = limit
        text = short.repr(value)
        return text[:limit] + ("..." if len(text) > limit else "")
    text = value[: limit + 1]
    text = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return repr(text[:limit] + ("..." if len(value) > limit else ""))


def _fail(source: str, code: str, message: str, mark: yaml.Mark | None = None) -> YamlError:
    row = None if mark is None else mark.line + 1
    column = None if mark is None else str(mark.column + 1)
    return YamlError(Problem(source, row, column, code, message))


def _decode(data: str | bytes, source: str, limits: YamlLimits) -> str:
    if isinstance(data, str):
        if len(data) > limits.max_bytes:  # characters >= bytes / 4; cheap first check
            raise _fail(source, "yaml-too-large", f"the YAML input has more than {limits.max_bytes} characters")
        raw = None
        text = data
    else:
        raw = bytes(data)
        if len(raw) > limits.max_bytes:
            raise _fail(source, "yaml-too-large",
                        f"the YAML input has {len(raw)} bytes; at most {limits.max_bytes} are read")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise YamlError(Problem(
                source, line, None, "not-utf8",
                f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start} (line {line}); "
                "save the file as UTF-8")) from None
    if "\x00" in text:
        pos = text.index("\x00")
        line = text.count("\n", 0, pos) + 1
        raise YamlError(Problem(source, line, None, "not-text", f"the YAML input holds a NUL byte at offset {pos}"))
    return text


def _scan(text: str, source: str, limits: YamlLimits) -> None:
    """Walk the parser's events (no nodes built) and enforce depth, alias and node counts."""
    depth = aliases = nodes = documents = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                depth += 1
                nodes += 1
                if depth > limits.max_depth:
                    raise _fail(source, "yaml-too-deep",
                                f"the YAML is nested more than {limits.max_depth} levels deep", event.start_mark)
            elif isinstance(event, (MappingEndEvent, SequenceEndEvent)):
                depth -= 1
            elif isinstance(event, ScalarEvent):
                nodes += 1
            elif isinstance(event, AliasEvent):
                aliases += 1
                if aliases > limits.max_aliases:
                    raise _fail(source, "yaml-too-many-aliases",
                                f"the YAML uses more than {limits.max_aliases} aliases (*name)", event.start_mark)
            elif isinstance(event, DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise _fail(source, "yaml-many-documents",
                                "the YAML holds more than one document (a second '---'); give one",
                                event.start_mark)
            if nodes > limits.max_nodes:
                raise _fail(source, "yaml-too-large",
                            f"the YAML has more than {limits.max_nodes} values", event.start_mark)
    except yaml.MarkedYAMLError as exc:
        raise _syntax(exc, source) from None
    except yaml.YAMLError as exc:
        raise _fail(source, "yaml-syntax", f"not valid YAML: {type(exc).__name__}") from None


def _syntax(exc: yaml.MarkedYAMLError, source: str) -> YamlError:
    mark = exc.problem_mark or exc.context_mark
    what = exc.problem or exc.context or "syntax error"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    message = f"not valid YAML: {what}{context}"
    if len(message) > 160:
        message = message[:157] + "..."
    return _fail(source, "yaml-syntax", message, mark)


def _expanded_size(root: Node, source: str, limits: YamlLimits) -> int:
    """Nodes of ``root`` with every alias expanded, counted on the shared graph (memoised)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()
    # iterative post-order walk: the depth is bounded already, but the graph may be wide
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            active.discard(key)
            if isinstance(node, SequenceNode):
                total = 1 + sum(sizes[id(child)] for child in node.value)
            elif isinstance(node, MappingNode):
                total = 1 + sum(sizes[id(k)] + sizes[id(v)] for k, v in node.value)
            else:
                total = 1
            if total > limits.max_nodes:
                raise _fail(source, "yaml-alias-expansion",
                            f"the YAML's aliases expand to more than {limits.max_nodes} values "
                            "(an alias bomb?); write the values out or use fewer aliases", node.start_mark)
            sizes[key] = total
            continue
        if key in sizes:
            continue
        if key in active:
            raise _fail(source, "yaml-recursive-alias", "an alias refers to the value that contains it",
                        node.start_mark)
        active.add(key)
        stack.append((node, True))
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            children = [c for pair in node.value for c in pair]
        else:
            children = []
        for child in children:
            if id(child) in active:
                raise _fail(source, "yaml-recursive-alias", "an alias refers to the value that contains it",
                            child.start_mark)
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def load_yaml(data: str | bytes, source: str = "<yaml>", limits: YamlLimits | None = None) -> object:
    """The Python value of one YAML document in ``data``, within ``limits``.

    Raises :class:`YamlError` (its ``problem`` names ``source``, the line and the reason) for
    input that is too large, not UTF-8, nested too deeply, alias-expanding past the limit,
    recursive, of several documents, or not valid YAML. An empty document gives ``None``.
    """
    limits = limits or DEFAULT_LIMITS
    text = _decode(data, source, limits)
    _scan(text, source, limits)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _expanded_size(node, source, limits)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        raise _syntax(exc, source) from None
    except yaml.YAMLError as exc:
        raise _fail(source, "yaml-syntax", f"not valid YAML: {type(exc).__name__}") from None
    except RecursionError:
        raise _fail(source, "yaml-too-deep", "the YAML is nested too deeply") from None
    finally:
        loader.dispose()


__all__ = ["DEFAULT_LIMITS", "EXCERPT", "YamlError", "YamlLimits", "excerpt", "load_yaml"]
