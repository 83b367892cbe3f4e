"""`POST /schema`: a schema in any accepted form, normalised to the JSON Schema the text server
compiles, by the same parser the gateway uses. The page's schema builder shows it as you type."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import parse_schema

router = APIRouter(tags=["generate"])


class SchemaRequest(BaseModel):
    schema_: dict[str, Any] = Field(alias="schema", description='{"age": "int"} or a JSON Schema object.')


@router.post("/schema")
async def normalise_schema(body: SchemaRequest) -> dict[str, Any]:
    """`{"json_schema": ...}`, or 400 naming the bad part (`schema.age.minimum: ...`)."""
    try:
        return {"json_schema": parse_schema(body.schema_).json_schema()}
    except InvalidArgument as exc:
        raise HTTPException(400, str(exc)) from None
