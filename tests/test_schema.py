"""synthmill.common.schema: the accepted forms, the normalized JSON Schema, errors with paths, validation."""

from __future__ import annotations

import json

import pytest

from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import TYPES, Field, InvalidRow, Schema, parse_schema


def test_simple_map_with_aliases():
    schema = parse_schema('{"a": "str", "b": "integer", "c": "number", "d": "boolean", "e": "date-time"}')
    assert [(f.name, f.type) for f in schema.fields] == [
        ("a", "string"), ("b", "int"), ("c", "float"), ("d", "bool"), ("e", "datetime"),
    ]  # fmt: skip


def test_extended_simple_map():
    schema = parse_schema(
        {
            "age": {"type": "int", "minimum": 18, "maximum": 90, "description": "years", "unique": True},
            "nick": {
                "type": "string",
                "nullable": True,
                "min_length": 2,
                "max_length": 8,
                "pattern": "[a-z]+",
            },
            "color": ["red", "green"],
        }
    )
    age, nick, color = schema.fields
    assert age == Field("age", "int", "years", unique=True, minimum=18, maximum=90)
    assert nick == Field("nick", "string", nullable=True, min_length=2, max_length=8, pattern="[a-z]+")
    assert color == Field("color", "enum", choices=("red", "green"))
    assert schema.unique_fields == ("age",)


def test_json_schema_form():
    schema = parse_schema(
        {
            "type": "object",
            "properties": {
                "id": {"type": "string", "format": "uuid", "x-unique": True},
                "mail": {"type": "string", "format": "email"},
                "born": {"type": ["string", "null"], "format": "date"},
                "at": {"type": "string", "format": "date-time"},
                "kind": {"enum": ["a", "b", None]},
                "score": {"anyOf": [{"type": "number", "minimum": 0}, {"type": "null"}]},
                "n": {"type": "integer", "maximum": 5, "description": "count"},
                "opt": {"type": "boolean"},
            },
            "required": ["id", "mail", "born", "at", "kind", "score", "n"],
        }
    )
    by_name = {f.name: f for f in schema.fields}
    assert by_name["id"].type == "uuid" and by_name["id"].unique
    assert by_name["mail"].type == "email"
    assert by_name["born"] == Field("born", "date", nullable=True)
    assert by_name["at"].type == "datetime"
    assert by_name["kind"] == Field("kind", "enum", nullable=True, choices=("a", "b"))
    assert by_name["score"] == Field("score", "float", nullable=True, minimum=0)
    assert by_name["n"] == Field("n", "int", "count", maximum=5)
    assert by_name["opt"].nullable  # not required: may be null


def test_json_schema_round_trips():
    fields = {
        "s": {"type": "string", "min_length": 1, "max_length": 9, "pattern": "[a-z]+", "description": "d"},
        "i": {"type": "int", "minimum": -3, "maximum": 3, "unique": True},
        "f": {"type": "float", "minimum": 0.5, "nullable": True},
        "b": "bool",
        "d": "date",
        "t": "datetime",
        "e": {"type": "enum", "choices": ["x", "y"], "nullable": True},
        "m": "email",
        "u": "uuid",
    }
    schema = parse_schema(fields)
    normalized = schema.json_schema()
    assert normalized["type"] == "object" and normalized["required"] == list(fields)
    assert parse_schema(json.dumps(normalized)) == schema
    assert normalized["properties"]["e"] == {"type": ["string", "null"], "enum": ["x", "y", None]}
    assert {f.type for f in schema.fields} == set(TYPES)


BAD = [
    ({}, "schema"),
    ("", "schema"),
    ("[1, 2]", "schema"),
    ({"type": "object", "properties": {}}, "schema.properties"),
    ({"age": "int128"}, "schema.age.type"),
    ({"age": {"minimum": 1}}, "schema.age.type"),
    ({"age": {"type": "int", "minimum": 9, "maximum": 1}}, "schema.age.minimum"),
    ({"age": {"type": "int", "minimum": 1.5}}, "schema.age.minimum"),
    ({"s": {"type": "string", "min_length": 5, "max_length": 2}}, "schema.s.min_length"),
    ({"s": {"type": "string", "pattern": "(unclosed"}}, "schema.s.pattern"),
    ({"s": {"type": "int", "pattern": "[0-9]"}}, "schema.s.pattern"),
    ({"s": {"type": "string", "minimum": 1}}, "schema.s.minimum"),
    ({"first name": "string"}, "schema.first name"),
    ({"1st": "string"}, "schema.1st"),
    ({"c": {"type": "enum", "choices": []}}, "schema.c.choices"),
    ({"c": {"type": "enum"}}, "schema.c.choices"),
    ({"c": {"type": "string", "widget": 1}}, "schema.c.widget"),
    ({"c": {"type": "string", "format": "ipv4"}}, "schema.c.format"),
    ({"type": "object", "properties": {"a": {"type": "string", "maxLength": 2, "minLength": 3}}},
     "schema.properties.a.minLength"),
    ({"type": "object", "properties": {"a": {"type": ["string", "integer"]}}}, "schema.properties.a.type"),
    ({"type": "object", "properties": {"a": {"type": "integer", "multipleOf": 2}}},
     "schema.properties.a.multipleOf"),
    ({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]}, "schema.required"),
]  # fmt: skip


@pytest.mark.parametrize(("value", "path"), BAD)
def test_bad_schemas_name_the_path(value, path):
    with pytest.raises(InvalidArgument) as err:
        parse_schema(value)
    assert err.value.field == path, str(err.value)
    assert str(err.value).startswith(f"{path}: ")


def test_custom_root_path():
    with pytest.raises(InvalidArgument) as err:
        parse_schema({"age": "nope"}, path="spec.schema")
    assert err.value.field == "spec.schema.age.type"


SCHEMA = parse_schema(
    {
        "age": {"type": "int", "minimum": 18, "maximum": 90},
        "price": {"type": "float", "minimum": 0},
        "ok": "bool",
        "day": "date",
        "at": "datetime",
        "mail": {"type": "email", "unique": True},
        "id": "uuid",
        "tier": ["a", "b"],
        "code": {"type": "string", "pattern": "[A-Z]{2}", "nullable": True},
    }
)
GOOD = {
    "age": 30,
    "price": 9.5,
    "ok": True,
    "day": "2024-02-29",
    "at": "2024-02-29T10:00:00Z",
    "mail": "ann.lee@example.com",
    "id": "2f1e4a9c-0b7d-4c3e-9a1f-5d6e7f8a9b0c",
    "tier": "a",
    "code": None,
}


def test_validate_accepts_a_good_row():
    SCHEMA.validate(GOOD)
    SCHEMA.validate({**GOOD, "price": 3, "code": "XY"})  # an int is a number


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"age": 17}, "age"),
        ({"age": 30.0}, "age"),
        ({"age": True}, "age"),
        ({"price": -1}, "price"),
        ({"price": float("inf")}, "price"),
        ({"ok": 1}, "ok"),
        ({"day": "2023-02-29"}, "day"),
        ({"day": "2023-2-3"}, "day"),
        ({"at": "2023-01-01 10:00"}, "at"),
        ({"mail": "not-an-email"}, "mail"),
        ({"mail": "a@b"}, "mail"),
        ({"id": "1234"}, "id"),
        ({"id": "2f1e4a9c0b7d4c3e9a1f5d6e7f8a9b0c"}, "id"),
        ({"tier": "c"}, "tier"),
        ({"code": "xyz"}, "code"),
        ({"tier": None}, "tier"),
        ({"extra": 1}, "extra"),
    ],
)
def test_validate_names_the_field(change, field):
    with pytest.raises(InvalidRow) as err:
        SCHEMA.validate({**GOOD, **change})
    assert err.value.field == field and str(err.value).startswith(f"{field}: ")
    assert isinstance(err.value, ValueError)


def test_validate_missing_field_and_non_object():
    row = dict(GOOD)
    del row["ok"]
    with pytest.raises(InvalidRow, match=r"^ok: is missing"):
        SCHEMA.validate(row)
    with pytest.raises(InvalidRow):
        SCHEMA.validate([GOOD])


def test_schema_module_is_torch_free():
    import subprocess
    import sys

    code = "import sys, synthmill.common.schema; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_schema_is_hashable_for_caches():
    assert hash(parse_schema({"a": "int"})) == hash(Schema((Field("a", "int"),)))
