"""The fewest tokens any valid row of a schema takes: a floor for `max_new_tokens`, known at submit.

A row the grammar accepts is a JSON object with the schema's keys in order. The automaton here
accepts a superset of those rows (free whitespace at every junction, loose value alphabets), so the
shortest path through it, one vocabulary token per step, can only be shorter than the true one: a
budget under the floor is doomed whatever the model writes. The search is a breadth-first walk over
the automaton's states, each step following the vocabulary's byte trie while some state stays alive.
Rows with sampled (pinned) fields are not floored: part of them is prefilled, not generated; nor are
rows whose search passes `MAX_STEPS` trie steps (a bound on the work, the same on every machine).
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Sequence

from synthmill.common.schema import Field, Schema

MAX_STEPS = 500_000
WHITESPACE = frozenset(b" \t\n\r")
DIGITS = frozenset(b"0123456789")
HEX = frozenset(b"0123456789abcdefABCDEF-")
DATE = frozenset(b"0123456789-")
DATETIME = frozenset(b"0123456789-:.TtZz+ ")
# A string body: the fewest characters it has, and the bytes allowed raw (None: any but `"` and `\`,
# with escapes); each format's own alphabet, wider than its pattern.
FORMATS = {"uuid": (36, HEX), "date": (10, DATE), "datetime": (20, DATETIME), "email": (6, None)}

# A segment: (start state, step(state, byte) -> state | None, accepts(state) -> bool).
Segment = tuple[object, Callable[[object, int], object], Callable[[object], bool]]


def _literals(options: Sequence[bytes]) -> Segment:
    prefixes = {o[:i] for o in options for i in range(len(o) + 1)}
    done = set(options)
    return b"", lambda s, b: s + bytes([b]) if s + bytes([b]) in prefixes else None, lambda s: s in done


def _whitespace() -> Segment:
    return 0, lambda s, b: 0 if b in WHITESPACE else None, lambda s: True


def _number(alphabet: frozenset[int]) -> Segment:
    return 0, lambda s, b: 1 if b in alphabet else None, lambda s: s == 1


def _string(least: int, alphabet: frozenset[int] | None) -> Segment:
    """`"` + at least `least` characters + `"`; states: "open", (count, escaped), "closed"."""

    def step(s: object, b: int) -> object:
        if s == "open":
            return (0, False) if b == 0x22 else None
        if s == "closed":
            return None
        count, escaped = s  # type: ignore[misc]
        if escaped:
            return (min(count + 1, least), False)
        if b == 0x22:
            return "closed" if count >= least else None
        if alphabet is None:
            return (count, True) if b == 0x5C else (min(count + 1, least), False)
        return (min(count + 1, least), False) if b in alphabet else None

    return "open", step, lambda s: s == "closed"


def _union(parts: Sequence[Segment]) -> Segment:
    def step(s: object, b: int) -> object:
        nxt = tuple(None if x is None else p[1](x, b) for p, x in zip(parts, s, strict=True))  # type: ignore[arg-type]
        return None if all(x is None for x in nxt) else nxt

    def accepts(s: object) -> bool:
        return any(x is not None and p[2](x) for p, x in zip(parts, s, strict=True))  # type: ignore[arg-type]

    return tuple(p[0] for p in parts), step, accepts


def _value(field: Field) -> Segment:
    if field.type == "enum":
        options = [json.dumps(c).encode() for c in field.choices] + [
            json.dumps(c, ensure_ascii=False).encode() for c in field.choices
        ]
        value = _literals(options)
    elif field.type == "bool":
        value = _literals([b"true", b"false"])
    elif field.type == "int":
        value = _number(DIGITS | {0x2D})
    elif field.type == "float":
        value = _number(DIGITS | frozenset(b"-+.eE"))
    elif field.type in FORMATS:
        value = _string(*FORMATS[field.type])
    else:
        value = _string(field.min_length or 0, None)
    return _union([value, _literals([b"null"])]) if field.nullable else value


def row_segments(schema: Schema) -> list[Segment]:
    """`{ "k1": v1, "k2": v2 }` with optional whitespace at every junction."""
    segments = [_literals([b"{"])]
    for i, field in enumerate(schema.fields):
        if i:
            segments += [_whitespace(), _literals([b","])]
        key = json.dumps(field.name).encode()
        segments += [_whitespace(), _literals([key]), _whitespace(), _literals([b":"]), _whitespace()]
        segments.append(_value(field))
    segments += [_whitespace(), _literals([b"}"])]
    return segments


class TokenFloor:
    """Floors per schema for one tokenizer's vocabulary (each token's bytes), cached."""

    def __init__(self, vocabulary: Sequence[bytes], max_entries: int = 256):
        self.trie: dict = {}
        for token in vocabulary:
            if not token:
                continue
            node = self.trie
            for b in token:
                node = node.setdefault(b, {})
            node[None] = True  # a token ends here
        self._cache: dict[str, int | None] = {}
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def of(self, schema: Schema) -> int | None:
        """The fewest tokens of a valid row; None when the schema has sampled fields (or none is found)."""
        if any(f.distribution is not None for f in schema.fields):
            return None
        key = json.dumps(schema.json_schema())
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        floor = self._search(row_segments(schema))
        with self._lock:
            if len(self._cache) >= self._max_entries:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = floor
        return floor

    def _search(self, segments: list[Segment]) -> int | None:
        last = len(segments) - 1

        def closure(states: set) -> set:
            """Each (segment, state), plus the next segments' starts where a segment may end."""
            out, todo = set(), list(states)
            while todo:
                seg, s = todo.pop()
                if (seg, s) in out:
                    continue
                out.add((seg, s))
                if seg < last and segments[seg][2](s):
                    todo.append((seg + 1, segments[seg + 1][0]))
            return out

        def final(states: set) -> bool:
            return any(seg == last and segments[seg][2](s) for seg, s in states)

        def advance(states: set, b: int) -> set:
            moved = set()
            for seg, s in states:
                nxt = segments[seg][1](s, b)
                if nxt is not None:
                    moved.add((seg, nxt))
            return closure(moved) if moved else moved

        steps = 0
        start = closure({(0, segments[0][0])})
        seen = set(start)
        queue = deque((state, 0) for state in start)
        while queue:
            state, depth = queue.popleft()
            reached: set = set()
            stack = [(self.trie, {state})]
            while stack:  # every token that can follow `state`, walked byte by byte
                node, states = stack.pop()
                steps += len(node)
                if steps > MAX_STEPS:
                    return None
                for b, child in node.items():
                    if b is None:
                        continue
                    nxt = advance(states, b)
                    if not nxt:
                        continue
                    if None in child:
                        reached |= nxt
                    stack.append((child, nxt))
            if final(reached):
                return depth + 1
            for s in reached - seen:
                seen.add(s)
                queue.append((s, depth + 1))
        return None
