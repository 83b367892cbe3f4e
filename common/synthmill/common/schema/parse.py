"""Parsing the accepted schema forms into a `Schema`; every error names the bad part."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import copula, distributions
from synthmill.common.schema.checks import INT64_MAX
from synthmill.common.schema.model import FORMAT_OF, TYPES, Field, Schema

# Other spellings users write for the same types.
_ALIASES = {
    "str": "string",
    "text": "string",
    "integer": "int",
    "number": "float",
    "double": "float",
    "boolean": "bool",
    "date-time": "datetime",
    "timestamp": "datetime",
}
_TYPE_OF_FORMAT = {fmt: kind for kind, fmt in FORMAT_OF.items()}
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# Keys accepted in a JSON Schema property; annotations are kept or ignored, anything else is an error
# (a silently ignored constraint would be a broken promise).
_PROPERTY_KEYS = {
    "type", "description", "enum", "minimum", "maximum", "minLength", "maxLength", "pattern", "format",
    "x-unique", "unique", "uniqueItems", "nullable", "anyOf",
    "title", "default", "examples", "$comment", "x-distribution", "x-null-share", "x-max-share",
}  # fmt: skip
_OBJECT_KEYS = {
    "type", "properties", "required", "additionalProperties", "title", "description",
    "$schema", "$id", "$comment", "examples", "x-unique", "x-copula", "x-fitted-from",
}  # fmt: skip
_SIMPLE_KEYS = {
    "type", "description", "nullable", "unique", "minimum", "maximum", "min", "max", "min_length",
    "max_length", "minLength", "maxLength", "pattern", "choices", "enum", "values", "format",
    "distribution", "examples", "null_share", "max_share",
}  # fmt: skip
MAX_EXAMPLES = 20


def parse_schema(
    value: str | dict, path: str = "schema", outer: Mapping[str, set[str]] | None = None
) -> Schema:
    """Parses any accepted form into a Schema; raises InvalidArgument naming the bad part's path.
    `outer` names columns of other tables a `by` may read, with the values each takes (tables jobs)."""
    value = json_object(value, path)
    if value.get("type") == "object" or isinstance(value.get("properties"), dict):
        return _parse_json_schema(value, path)
    return _parse_simple(value, path, outer)


def json_object(value: str | dict, path: str) -> dict:
    """`value` as a JSON object: a dict, or JSON text of one; InvalidArgument naming `path` if not."""
    if isinstance(value, str):
        if not value.strip():
            raise InvalidArgument(path, "is empty")
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(path, f"is not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidArgument(path, f"must be a JSON object, not {type(value).__name__}")
    return value


def _parse_simple(value: dict, path: str, outer: Mapping[str, set[str]] | None = None) -> Schema:
    # Two schema-level entries: the copula and the fit note (no field spec has their keys).
    raw_copula = value.get("copula") if copula.is_copula(value.get("copula")) else None
    fitted_from = value.get("fitted_from") if _is_note(value.get("fitted_from")) else None
    schema_level = {"copula": raw_copula, "fitted_from": fitted_from}
    value = {k: v for k, v in value.items() if schema_level.get(k) is None}
    if not value:
        raise InvalidArgument(path, "has no fields")
    fields = []
    for name, spec in value.items():
        where = f"{path}.{name}"
        _check_name(name, where)
        if isinstance(spec, str):
            spec = {"type": spec}
        elif isinstance(spec, list):
            spec = {"type": "enum", "choices": spec}
        elif not isinstance(spec, dict):
            raise InvalidArgument(where, "must be a type name, a list of choices or an object")
        unknown = sorted(set(spec) - _SIMPLE_KEYS)
        if unknown:
            raise InvalidArgument(f"{where}.{unknown[0]}", "is not a supported option")
        kind = spec.get("type")
        choices = spec.get("choices", spec.get("enum", spec.get("values")))
        if kind is None and choices is not None:
            kind = "enum"
        kind = _type_name(kind, f"{where}.type")
        if spec.get("format") is not None:
            kind = _apply_format(kind, spec["format"], f"{where}.format")
        fields.append(
            _make_field(
                name,
                kind,
                where,
                description=_str_opt(spec.get("description"), f"{where}.description") or "",
                nullable=_bool_opt(spec.get("nullable"), f"{where}.nullable"),
                unique=_bool_opt(spec.get("unique"), f"{where}.unique"),
                minimum=_first(spec, where, "minimum", "min"),
                maximum=_first(spec, where, "maximum", "max"),
                min_length=_first(spec, where, "min_length", "minLength"),
                max_length=_first(spec, where, "max_length", "maxLength"),
                pattern=spec.get("pattern"),
                choices=choices,
                distribution=spec.get("distribution"),
                examples=spec.get("examples"),
                null_share=spec.get("null_share"),
                max_share=spec.get("max_share"),
            )
        )
    distributions.check_conditions(fields, lambda name: f"{path}.{name}.distribution", outer)
    return _schema(fields, raw_copula, fitted_from, path, "copula", "fitted_from")


def _schema(
    fields: list[Field], raw_copula: Any, note: Any, path: str, copula_key: str, note_key: str
) -> Schema:
    coupled = None if raw_copula is None else copula.parse(raw_copula, fields, f"{path}.{copula_key}")
    if note is not None and not _is_note(note):
        raise InvalidArgument(f"{path}.{note_key}", "must be an object with the sample's rows")
    return Schema(tuple(fields), coupled, note)


def _is_note(value: Any) -> bool:
    return isinstance(value, dict) and "rows" in value


def _parse_json_schema(value: dict, path: str) -> Schema:
    unknown = sorted(set(value) - _OBJECT_KEYS)
    if unknown:
        raise InvalidArgument(f"{path}.{unknown[0]}", "is not a supported JSON Schema keyword here")
    if value.get("type", "object") != "object":
        raise InvalidArgument(f"{path}.type", "must be 'object'")
    props = value.get("properties")
    if not isinstance(props, dict) or not props:
        raise InvalidArgument(f"{path}.properties", "has no fields")
    required = value.get("required", list(props))
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        raise InvalidArgument(f"{path}.required", "must be a list of property names")
    for name in required:
        if name not in props:
            raise InvalidArgument(f"{path}.required", f"names {name!r}, which is not a property")
    unique_list = value.get("x-unique", [])
    if not isinstance(unique_list, list) or any(u not in props for u in unique_list):
        raise InvalidArgument(f"{path}.x-unique", "must be a list of property names")
    fields = []
    for name, prop in props.items():
        where = f"{path}.properties.{name}"
        _check_name(name, where)
        fields.append(_parse_property(name, prop, where, name not in required, name in unique_list))
    distributions.check_conditions(fields, lambda name: f"{path}.properties.{name}.x-distribution")
    return _schema(
        fields, value.get("x-copula"), value.get("x-fitted-from"), path, "x-copula", "x-fitted-from"
    )


def _parse_property(name: str, prop: Any, where: str, optional: bool, unique: bool) -> Field:
    if not isinstance(prop, dict):
        raise InvalidArgument(where, "must be a JSON Schema object")
    unknown = sorted(set(prop) - _PROPERTY_KEYS)
    if unknown:
        raise InvalidArgument(f"{where}.{unknown[0]}", "is not a supported JSON Schema keyword")
    nullable = optional or _bool_opt(prop.get("nullable"), f"{where}.nullable")
    if "anyOf" in prop:  # Optional[X] as pydantic writes it: anyOf [X, {"type": "null"}]
        branches = prop["anyOf"]
        real = [b for b in branches if b != {"type": "null"}] if isinstance(branches, list) else []
        if len(real) != 1 or len(branches) != 2 or not isinstance(real[0], dict):
            raise InvalidArgument(f"{where}.anyOf", "only [<type>, {'type': 'null'}] is supported")
        merged = {k: v for k, v in prop.items() if k != "anyOf"}
        return _parse_property(name, {**real[0], **merged}, where, True, unique)
    kind = prop.get("type")
    if isinstance(kind, list):
        non_null = [k for k in kind if k != "null"]
        if len(non_null) != 1:
            raise InvalidArgument(f"{where}.type", "only one type, optionally with 'null', is supported")
        nullable = nullable or "null" in kind
        kind = non_null[0]
    choices = prop.get("enum")
    if choices is not None:
        if not isinstance(choices, list):
            raise InvalidArgument(f"{where}.enum", "must be a list")
        if None in choices:
            nullable = True
            choices = [c for c in choices if c is not None]
        if kind not in (None, "string"):
            raise InvalidArgument(f"{where}.enum", "only string choices are supported")
        kind = "enum"
    kind = _type_name(kind, f"{where}.type")
    if prop.get("format") is not None:
        kind = _apply_format(kind, prop["format"], f"{where}.format")
    unique = (
        unique
        or _bool_opt(prop.get("x-unique"), f"{where}.x-unique")
        or _bool_opt(prop.get("unique"), f"{where}.unique")
        or _bool_opt(prop.get("uniqueItems"), f"{where}.uniqueItems")
    )
    return _make_field(
        name,
        kind,
        where,
        description=_str_opt(prop.get("description"), f"{where}.description") or "",
        nullable=nullable,
        unique=unique,
        minimum=prop.get("minimum"),
        maximum=prop.get("maximum"),
        min_length=prop.get("minLength"),
        max_length=prop.get("maxLength"),
        pattern=prop.get("pattern"),
        choices=choices,
        length_keys=("minLength", "maxLength"),
        distribution=prop.get("x-distribution"),
        examples=prop.get("examples"),
        null_share=prop.get("x-null-share"),
        null_share_key="x-null-share",
        max_share=prop.get("x-max-share"),
        max_share_key="x-max-share",
        distribution_key="x-distribution",
    )


def _make_field(
    name: str,
    kind: str,
    where: str,
    *,
    description: str,
    nullable: bool,
    unique: bool,
    minimum: Any,
    maximum: Any,
    min_length: Any,
    max_length: Any,
    pattern: Any,
    choices: Any,
    length_keys: tuple[str, str] = ("min_length", "max_length"),
    distribution: Any = None,
    distribution_key: str = "distribution",
    examples: Any = None,
    null_share: Any = None,
    null_share_key: str = "null_share",
    max_share: Any = None,
    max_share_key: str = "max_share",
) -> Field:
    numeric = kind in ("int", "float")
    for key, bound in (("minimum", minimum), ("maximum", maximum)):
        if bound is None:
            continue
        if not numeric:
            raise InvalidArgument(f"{where}.{key}", f"applies to int and float fields, not {kind}")
        if isinstance(bound, bool) or not isinstance(bound, int | float) or not math.isfinite(bound):
            raise InvalidArgument(f"{where}.{key}", "must be a finite number")
        if kind == "int" and bound != int(bound):
            raise InvalidArgument(f"{where}.{key}", "must be a whole number for an int field")
        if kind == "int" and abs(bound) > INT64_MAX:
            raise InvalidArgument(f"{where}.{key}", "does not fit in 64 bits")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise InvalidArgument(f"{where}.minimum", f"{minimum} is greater than the maximum {maximum}")
    for key, length in zip(length_keys, (min_length, max_length), strict=True):
        if length is None:
            continue
        if kind != "string":
            raise InvalidArgument(f"{where}.{key}", f"applies to string fields, not {kind}")
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise InvalidArgument(f"{where}.{key}", "must be a non-negative integer")
    if min_length is not None and max_length is not None and min_length > max_length:
        raise InvalidArgument(
            f"{where}.{length_keys[0]}", f"{min_length} is greater than the maximum length {max_length}"
        )
    if pattern is not None:
        if kind != "string":
            raise InvalidArgument(f"{where}.pattern", f"applies to string fields, not {kind}")
        if not isinstance(pattern, str) or not pattern:
            raise InvalidArgument(f"{where}.pattern", "must be a non-empty regular expression")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise InvalidArgument(f"{where}.pattern", f"does not compile: {exc}") from None
    if kind == "enum":
        if not isinstance(choices, list | tuple) or not choices:
            raise InvalidArgument(f"{where}.choices", "an enum needs at least one choice")
        if not all(isinstance(c, str) for c in choices):
            raise InvalidArgument(f"{where}.choices", "choices must be strings")
        if len(set(choices)) != len(choices):
            raise InvalidArgument(f"{where}.choices", "choices must be distinct")
        choices = tuple(choices)
    elif choices is not None:
        raise InvalidArgument(f"{where}.choices", f"only enum fields take choices, not {kind}")
    field = Field(
        name=name,
        type=kind,
        description=description,
        nullable=nullable,
        unique=unique,
        minimum=minimum if minimum is None or kind == "float" else int(minimum),
        maximum=maximum if maximum is None or kind == "float" else int(maximum),
        min_length=min_length,
        max_length=max_length,
        pattern=pattern,
        choices=choices or (),
    )
    if examples is not None:
        field = replace(field, examples=_examples(examples, field, f"{where}.examples"))
    if null_share is not None:
        field = replace(
            field, null_share=_null_share(null_share, field, distribution, f"{where}.{null_share_key}")
        )
    if max_share is not None:
        if isinstance(max_share, bool) or not isinstance(max_share, int | float) or not 0 < max_share <= 1:
            raise InvalidArgument(
                f"{where}.{max_share_key}", "must be a number in (0, 1]; 1 turns the cap off"
            )
        field = replace(field, max_share=float(max_share))
    if distribution is None:
        return field
    return replace(
        field, distribution=distributions.parse(distribution, field, f"{where}.{distribution_key}")
    )


def _null_share(raw: Any, field: Field, distribution: Any, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw < 1:
        raise InvalidArgument(where, "must be a number in [0, 1)")
    if distribution is None:
        raise InvalidArgument(where, "applies to sampled fields (with a distribution)")
    if not field.nullable:
        raise InvalidArgument(where, "needs a nullable field")
    return float(raw)


def _examples(raw: Any, field: Field, where: str) -> tuple[Any, ...]:
    if not isinstance(raw, list) or len(raw) > MAX_EXAMPLES:
        raise InvalidArgument(where, f"must be a list of at most {MAX_EXAMPLES} values")
    for value in raw:
        try:
            field.validate(value)
        except ValueError as exc:  # InvalidRow
            raise InvalidArgument(where, str(exc)) from None
    return tuple(raw)


def _check_name(name: Any, where: str) -> None:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise InvalidArgument(
            where, "a field name must match ^[A-Za-z_][A-Za-z0-9_]*$ (a CSV/parquet column)"
        )


def _type_name(kind: Any, where: str) -> str:
    if not isinstance(kind, str):
        raise InvalidArgument(where, f"is missing or not a string; use one of {', '.join(TYPES)}")
    norm = kind.strip().lower()
    norm = _ALIASES.get(norm, norm)
    if norm not in TYPES:
        raise InvalidArgument(where, f"unknown type {kind!r}; use one of {', '.join(TYPES)}")
    return norm


def _apply_format(kind: str, fmt: Any, where: str) -> str:
    if fmt not in _TYPE_OF_FORMAT:
        raise InvalidArgument(where, f"unsupported format {fmt!r}; use one of {', '.join(_TYPE_OF_FORMAT)}")
    if kind not in ("string", _TYPE_OF_FORMAT[fmt]):
        raise InvalidArgument(where, f"format {fmt!r} needs a string field, not {kind}")
    return _TYPE_OF_FORMAT[fmt]


def _first(spec: dict, where: str, *keys: str) -> Any:
    present = [k for k in keys if spec.get(k) is not None]
    if len(present) > 1:
        raise InvalidArgument(f"{where}.{present[1]}", f"repeats {present[0]}")
    return spec.get(present[0]) if present else None


def _bool_opt(value: Any, where: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidArgument(where, "must be true or false")
    return value


def _str_opt(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidArgument(where, "must be a string")
    return value
