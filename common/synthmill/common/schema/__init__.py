"""Row schemas: parsing the accepted forms, a normalized JSON Schema, and row validation.

Torch-free: the gateway and the text server both use it. Three input forms are accepted:

- the simple map ``{"age": "int", "email": "email"}``;
- the extended simple map ``{"age": {"type": "int", "minimum": 18, "maximum": 90, "unique": true}}``
  (a list value, ``{"color": ["red", "green"]}``, is an enum);
- a JSON Schema object (``type: object``, ``properties``, ``required``, ...).

`Schema.json_schema()` is the one normalized form (saved as schema.json, compiled by xgrammar) and
parses back to the same `Schema`. Errors raise `InvalidArgument` with the path of the bad part,
e.g. ``schema.age.minimum`` or ``schema.properties.age``.
"""

from synthmill.common.schema.checks import INT64_MAX, InvalidRow
from synthmill.common.schema.model import TYPES, Field, Schema
from synthmill.common.schema.parse import parse_schema

__all__ = ["INT64_MAX", "TYPES", "Field", "InvalidRow", "Schema", "parse_schema"]
