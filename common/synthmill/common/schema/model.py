"""The schema model: types, fields and schemas, their normalized JSON Schema, and row validation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from synthmill.common.schema.checks import CHECKS, InvalidRow
from synthmill.common.schema.copula import Copula
from synthmill.common.schema.draws import Distribution

TYPES = ("string", "int", "float", "bool", "date", "datetime", "enum", "email", "uuid")

_JSON_TYPE = {"string": "string", "int": "integer", "float": "number", "bool": "boolean"}
FORMAT_OF = {"date": "date", "datetime": "date-time", "email": "email", "uuid": "uuid"}


@dataclass(frozen=True)
class Field:
    """One column. `description` is the semantic hint given to the LLM."""

    name: str
    type: str
    description: str = ""
    nullable: bool = False
    unique: bool = False
    minimum: float | None = None
    maximum: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    # How the value is sampled instead of written by the LLM (see synthmill.common.schema.distributions).
    distribution: Distribution | None = None
    # Values shown to the LLM as few-shot examples of this column (a fitted sample's free text).
    examples: tuple[Any, ...] = ()
    # The share of sampled rows where this (nullable, sampled) field is null, as in a fitted sample.
    null_share: float | None = None
    # The most of a job's rows one value of this LLM-written column may fill (see schema.shares).
    max_share: float | None = None

    def json_schema(self) -> dict[str, Any]:
        """This field as a JSON Schema property."""
        prop: dict[str, Any] = {}
        if self.type == "enum":
            prop["type"] = "string"
            prop["enum"] = list(self.choices)
        else:
            prop["type"] = _JSON_TYPE.get(self.type, "string")
        if self.type in FORMAT_OF:
            prop["format"] = FORMAT_OF[self.type]
        if self.description:
            prop["description"] = self.description
        for key, value in (("minimum", self.minimum), ("maximum", self.maximum)):
            if value is not None:
                prop[key] = int(value) if self.type == "int" else value
        if self.min_length is not None:
            prop["minLength"] = self.min_length
        if self.max_length is not None:
            prop["maxLength"] = self.max_length
        if self.pattern is not None:
            prop["pattern"] = self.pattern
        if self.nullable:
            prop["type"] = [prop["type"], "null"]
            if "enum" in prop:
                prop["enum"] = [*prop["enum"], None]
        if self.unique:
            prop["x-unique"] = True
        if self.distribution is not None:
            prop["x-distribution"] = self.distribution.spec()
        if self.examples:
            prop["examples"] = list(self.examples)
        if self.null_share is not None:
            prop["x-null-share"] = self.null_share
        if self.max_share is not None:
            prop["x-max-share"] = self.max_share
        return prop

    def validate(self, value: Any) -> None:
        """Raises InvalidRow unless `value` fits this field."""
        if value is None:
            if not self.nullable:
                raise InvalidRow(self.name, "must not be null")
            return
        check = CHECKS[self.type]
        check(self, value)
        if self.minimum is not None and value < self.minimum:
            raise InvalidRow(self.name, f"{value!r} is below the minimum {self.minimum:g}")
        if self.maximum is not None and value > self.maximum:
            raise InvalidRow(self.name, f"{value!r} is above the maximum {self.maximum:g}")
        if self.min_length is not None and len(value) < self.min_length:
            raise InvalidRow(self.name, f"shorter than {self.min_length} characters")
        if self.max_length is not None and len(value) > self.max_length:
            raise InvalidRow(self.name, f"longer than {self.max_length} characters")
        if self.pattern is not None and re.fullmatch(self.pattern, value) is None:
            raise InvalidRow(self.name, f"{value!r} does not match the pattern {self.pattern!r}")


@dataclass(frozen=True)
class Schema:
    """An ordered set of fields; rows are JSON objects with exactly these keys, in this order."""

    fields: tuple[Field, ...]
    # A Gaussian copula coupling sampled numeric columns (see synthmill.common.schema.copula).
    copula: Copula | None = None
    # Where a fitted schema came from: the sample's rows, SHA-256 and fit time (a note, not a rule).
    fitted_from: dict[str, Any] | None = None

    def json_schema(self) -> dict[str, Any]:
        """Normalized JSON Schema (draft 2020-12 style); every field is required, null marks a gap."""
        out: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {f.name: f.json_schema() for f in self.fields},
            "required": [f.name for f in self.fields],
            "additionalProperties": False,
        }
        if self.copula is not None:
            out["x-copula"] = self.copula.spec()
        if self.fitted_from is not None:
            out["x-fitted-from"] = dict(self.fitted_from)
        return out

    def validate(self, row: dict[str, Any]) -> None:
        """Raises InvalidRow (naming the field) unless `row` satisfies the schema."""
        if not isinstance(row, dict):
            raise InvalidRow("row", f"must be a JSON object, not {type(row).__name__}")
        names = {f.name for f in self.fields}
        for key in row:
            if key not in names:
                raise InvalidRow(str(key), "is not in the schema")
        for field in self.fields:
            if field.name not in row:
                raise InvalidRow(field.name, "is missing")
            field.validate(row[field.name])

    @property
    def unique_fields(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields if f.unique)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)
