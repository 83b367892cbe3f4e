"""Grammars for constrained decoding: the decoding form of a schema, compiled by xgrammar and cached.

`decoding_schema` turns `Schema.json_schema()` into what the grammar enforces. It is a subset of the
schema's values, chosen so that every decoded row also passes `Schema.validate`:

- date and date-time get a pattern that only spells real calendar days (no 02-30; years 1900-2099;
  a user pattern on the field wins) instead of xgrammar's looser `format` grammar;
- email gets a dot-atom pattern that the strict e-mail check accepts (xgrammar's `format: email`
  also allows quoted local parts and hosts without a dot);
- strings with no maxLength are capped at `max_string_length`, so every row ends in bounded tokens;
- integers with no bounds are held to int64 and floats to ±1e15, so a sample never overflows.
"""

from __future__ import annotations

import copy
import json
import re
import threading
from typing import Any

import xgrammar as xgr

from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import INT64_MAX, Schema

_MONTH_DAY = (
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1[0-9]|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)|(?:0[13578]|1[02])-31)"
)
DATE_PATTERN = rf"(?:19|20)[0-9]{{2}}-{_MONTH_DAY}"
DATETIME_PATTERN = rf"{DATE_PATTERN}T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]Z?"
EMAIL_PATTERN = (
    r"[a-z0-9]{1,20}(?:[._+-][a-z0-9]{1,20}){0,2}@(?:[a-z0-9]{1,20}(?:-[a-z0-9]{1,20})?\.){1,2}[a-z]{2,10}"
)
_FORMAT_PATTERNS = {"date": DATE_PATTERN, "date-time": DATETIME_PATTERN, "email": EMAIL_PATTERN}
_LOOKAROUND = re.compile(r"\(\?<?[=!]")
_BOUNDS = {"integer": (-INT64_MAX, INT64_MAX), "number": (-1e15, 1e15)}


def decoding_schema(schema: Schema, max_string_length: int) -> dict[str, Any]:
    """The JSON Schema handed to xgrammar for `schema` (see the module docstring)."""
    out = copy.deepcopy(schema.json_schema())
    for prop in out["properties"].values():
        prop.pop("x-unique", None)
        prop.pop("x-distribution", None)  # sampled values arrive pinned (see pinning)
        prop.pop("description", None)  # descriptions go into the prompt, not the grammar
        fmt = prop.get("format")
        if fmt in _FORMAT_PATTERNS:
            prop.pop("format")
            prop.setdefault("pattern", _FORMAT_PATTERNS[fmt])
        elif fmt is not None and "pattern" in prop:
            prop.pop("format")  # xgrammar lets format win over pattern; the user's pattern is stricter
        kind = prop["type"][0] if isinstance(prop["type"], list) else prop["type"]
        if kind == "string" and "enum" not in prop and "format" not in prop and "pattern" not in prop:
            prop.setdefault("maxLength", max(max_string_length, prop.get("minLength", 0)))
        if kind in _BOUNDS:
            prop.setdefault("minimum", _BOUNDS[kind][0])
            prop.setdefault("maximum", _BOUNDS[kind][1])
    return out


# xgrammar 0.2.8 fails to compile regex repetitions above about 128, hence {20,127}.
PROMPT_PATTERN = r"[A-Z][A-Za-z0-9 ,.'-]{20,127}"


def prompts_schema(count: int) -> dict[str, Any]:
    """A JSON array of exactly `count` prompts: plain sentences starting with a capital letter."""
    return {
        "type": "array",
        "items": {"type": "string", "pattern": PROMPT_PATTERN},
        "minItems": count,
        "maxItems": count,
    }


def check_patterns(schema: Schema, path: str = "schema") -> None:
    """Raises InvalidArgument naming the field whose pattern xgrammar cannot enforce."""
    for field in schema.fields:
        if field.pattern is None:
            continue
        where = f"{path}.{field.name}.pattern"
        if _LOOKAROUND.search(field.pattern):
            raise InvalidArgument(where, "lookahead/lookbehind cannot be enforced by the decoding grammar")
        try:
            xgr.Grammar.from_regex(field.pattern)
        except Exception as exc:
            reason = str(exc).strip().splitlines()[0]
            reason = reason.split(": ", 1)[-1] if "regex_converter" in reason else reason
            raise InvalidArgument(
                where, f"the decoding grammar cannot enforce this pattern: {reason}"
            ) from None


class GrammarCache:
    """Compiles JSON Schemas for one tokenizer and keeps the results (keyed by the schema text)."""

    def __init__(self, tokenizer: Any, vocab_size: int, max_entries: int = 256):
        info = xgr.TokenizerInfo.from_huggingface(tokenizer, vocab_size=vocab_size)
        self._compiler = xgr.GrammarCompiler(info)
        self.vocabulary: list[bytes] = list(info.decoded_vocab)  # each token's bytes, for token_floor
        self._cache: dict[str, xgr.CompiledGrammar] = {}
        self._lock = threading.Lock()
        self._max_entries = max_entries

    def compile(self, json_schema: dict[str, Any]) -> xgr.CompiledGrammar:
        key = json.dumps(json_schema)  # property order is row order: never sort the keys
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        compiled = self._compiler.compile_json_schema(key, any_whitespace=False)
        with self._lock:
            if len(self._cache) >= self._max_entries:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = compiled
        return compiled
