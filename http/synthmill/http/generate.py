"""Seed 003's `POST /generate/{text,images,unified}`: its request shapes unchanged, synthmill's own
options as optional keys; `POST /generate/tables` for several related tables. Each request becomes one gateway job; the gateway checks every value and
its refusal (400) names the field. Unknown keys are ignored; known keys of the wrong type are 422."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field

from synthmill.client import AsyncClient, SpecError, fit_sample, image_job, tables_job, text_job, unified_job
from synthmill.http.deps import Gateway
from synthmill.v1 import gateway_pb2 as pb

router = APIRouter(tags=["generate"])

# Values the protobuf fields can hold; what is sensible is the gateway's call.
UInt = Annotated[int, Field(ge=0, le=2**32 - 1)]
Seed = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]
Format = Literal["json", "jsonl", "csv", "parquet"]


class Queued(BaseModel):
    job_id: str
    message: str


class ImageOptions(BaseModel):
    """Image options shared by /generate/images and /generate/unified (all optional)."""

    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    resolution: tuple[UInt, UInt] | None = Field(None, description="[width, height], multiples of 8.")
    negative_prompt: str = ""
    steps: UInt = Field(0, description="Denoising steps; 0 picks the server default.")
    cfg_scale: float | None = Field(None, description="Classifier-free guidance scale.")
    sampler: str = Field("", description='Scheduler name, e.g. "Euler a", "DPM++ 2M".')
    model: str = Field("", description="Image model; empty picks the server default.")
    seed: Seed | None = Field(None, description="Base seed; item i uses seed + i. -1 or none is random.")
    axes: dict[str, list[str]] = Field(
        default_factory=dict, description="Values for {name} placeholders, balanced over the images."
    )
    best_of: UInt | None = Field(None, description="Candidates per image; the best-scoring one is kept.")
    annotations: list[str] = Field(
        default_factory=list,
        description='Labels to make, e.g. ["bbox"] or ["bbox", "mask"] (instance masks in their boxes).',
    )
    labels: list[str] = Field(default_factory=list, description="Classes for open-vocabulary detection.")

    def params(self) -> dict[str, Any]:
        return {
            "size": self.resolution,
            "negative": self.negative_prompt,
            "steps": self.steps,
            "guidance": self.cfg_scale,
            "scheduler": self.sampler,
            "model": self.model,
            "vary": self.axes,
            "seed": self.seed,
            "best_of": self.best_of,
            "annotations": self.annotations,
            "labels": self.labels,
        }


class RowOptions(BaseModel):
    schema_: dict[str, Any] = Field(alias="schema", description='{"age": "int"} or a JSON Schema object.')
    num_samples: UInt = Field(description="Rows to make.")
    output_format: Format = "json"
    instructions: str = Field("", description="Free-form instructions for the whole table.")


class TextRequest(RowOptions):
    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    schema_: dict[str, Any] | None = Field(
        None, alias="schema", description='{"age": "int"} or a JSON Schema object; or give `like`.'
    )
    like: str | None = Field(
        None,
        description="A sample (csv with a header, or jsonl) the gateway fits the schema to, instead of `schema`.",
    )
    like_format: Literal["csv", "jsonl"] = Field("csv", description="The format of `like`.")
    min_count: UInt = Field(0, description="With `like`: drop categories seen fewer times (0: 5).")
    keep_rare: bool = Field(False, description="With `like`: keep the rare categories.")
    fail_under: dict[str, float] = Field(
        default_factory=dict,
        description='With `like`: e.g. {"quality": 0.85, "dcr": 0.6}; below, the job fails.',
    )

    seed: Seed | None = None
    model: str = Field("", description="Text model; empty picks the server default.")
    temperature: float | None = None
    top_p: float | None = None


class TablesRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", protected_namespaces=())

    schema_: dict[str, Any] = Field(
        alias="schema",
        description='{"tables": {"customers": {"rows": 50, "primary_key": "id", "fields": ...}}}',
    )
    scale: UInt = Field(1, description="Multiplies the rows of every table without a parent.")
    output_format: Format = "json"
    instructions: str = Field("", description="Free-form instructions for every table.")
    seed: Seed | None = None
    model: str = Field("", description="Text model; empty picks the server default.")
    temperature: float | None = None
    top_p: float | None = None


class ImagesRequest(ImageOptions):
    prompts: list[str] = Field(default_factory=list, description="Prompts; images cycle through them.")
    num_images: UInt = Field(0, description="Total images; 0 makes one per prompt.")
    captions: list[dict[str, Any]] = Field(default_factory=list, description='[{"id": 1, "caption": "..."}]')
    expand: str = Field("", description="A topic the LLM writes num_images prompts about.")


class UnifiedRequest(RowOptions, ImageOptions):
    prompts: list[str] = Field(default_factory=list, description="Fixed prompts paired with rows in turn.")
    prompt_template: str = Field("", description='Filled from each row, e.g. "A photo of {product}".')
    images_per_row: UInt = 0
    text_model: str = ""


async def _submit(client: AsyncClient, build: Any, what: str) -> Queued:
    try:
        spec: pb.JobSpec = build()
    except SpecError as exc:
        raise HTTPException(400, str(exc)) from None
    job = await client.submit(spec)
    return Queued(job_id=job.id, message=f"{what} generation job queued")


@router.post("/generate/text", status_code=202, response_model=Queued)
async def generate_text(body: TextRequest, client: Gateway) -> Queued:
    """Rows from a schema, written by the LLM under grammar constraints."""
    if (body.schema_ is None) == (body.like is None):
        raise HTTPException(400, "schema: give a schema or a sample to fit (like), one of the two")
    like = None
    if body.like is not None:
        like = fit_sample(
            body.like.encode(),
            format=body.like_format,
            min_count=body.min_count,
            keep_rare=body.keep_rare,
            fail_under=body.fail_under,
        )
    return await _submit(
        client,
        lambda: text_job(
            body.schema_,
            body.num_samples,
            like=like,
            format=body.output_format,
            instructions=body.instructions,
            model=body.model,
            temperature=body.temperature,
            top_p=body.top_p,
            seed=body.seed,
        ),
        "Text",
    )


@router.post("/generate/images", status_code=202, response_model=Queued)
async def generate_images(body: ImagesRequest, client: Gateway) -> Queued:
    """Images from prompts (with {axis} placeholders), captions, or a topic the LLM expands."""
    return await _submit(
        client,
        lambda: image_job(
            body.prompts,
            body.num_images,
            captions=body.captions,
            expand_topic=body.expand,
            **body.params(),
        ),
        "Image",
    )


@router.post("/generate/unified", status_code=202, response_model=Queued)
async def generate_unified(body: UnifiedRequest, client: Gateway) -> Queued:
    """Rows first, then images rendered from each row."""
    return await _submit(
        client,
        lambda: unified_job(
            body.schema_,
            body.num_samples,
            prompt_template=body.prompt_template,
            prompts=body.prompts,
            images_per_row=body.images_per_row,
            format=body.output_format,
            instructions=body.instructions,
            text_model=body.text_model,
            **body.params(),
        ),
        "Unified",
    )


@router.post("/generate/tables", status_code=202, response_model=Queued)
async def generate_tables(body: TablesRequest, client: Gateway) -> Queued:
    """Several tables whose references always join: one file per table, schema.sql, a report."""
    return await _submit(
        client,
        lambda: tables_job(
            body.schema_,
            scale=body.scale,
            format=body.output_format,
            instructions=body.instructions,
            model=body.model,
            temperature=body.temperature,
            top_p=body.top_p,
            seed=body.seed,
        ),
        "Tables",
    )
