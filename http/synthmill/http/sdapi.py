"""The AUTOMATIC1111 / SD.Next API subset that scripts use: `/sdapi/v1/txt2img`, `progress`,
`sd-models`, `samplers` and `interrupt`, with A1111's request and response shapes (img2img and the
start-up routes are in `sdapi_img2img` and `sdapi_startup`, ControlNet units in `sdapi_controlnet`).

Where A1111 runs one generation at a time behind a global lock, each txt2img call here is a gateway
job: concurrent callers are batched by the image servers and spread over their replicas.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request
from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from synthmill.client import AsyncClient, SynthmillError, image_job
from synthmill.http.deps import Gateway
from synthmill.http.gateway import AUTHORIZATION
from synthmill.http.info import version
from synthmill.http.runs import Run, Runs
from synthmill.http.sdapi_controlnet import units as controlnet_units
from synthmill.v1 import gateway_pb2 as pb

router = APIRouter(prefix="/sdapi/v1", tags=["a1111"])

UInt = Annotated[int, Field(ge=0, le=2**32 - 1)]
Count = Annotated[int, Field(ge=1, le=2**16)]
# A1111 names a checkpoint "name [hash]"; the hash part is dropped.
_TITLE_HASH = re.compile(r"\s*\[[0-9a-fA-F]+\]\s*$")
# Scheduler choices that mean "the model's own".
_AUTOMATIC = {"", "automatic", "default"}


class Txt2ImgRequest(BaseModel):
    """A1111's StableDiffusionProcessingTxt2Img fields that synthmill honours; the others are accepted
    and ignored (hires fix, scripts, restore faces, ...)."""

    model_config = ConfigDict(extra="ignore")

    prompt: str = ""
    negative_prompt: str = ""
    seed: int = Field(
        -1, ge=-(2**63), le=2**63 - 1, description="-1 draws a random seed; image i uses seed + i."
    )
    steps: UInt = 50
    cfg_scale: float = 7.0
    width: UInt = 512
    height: UInt = 512
    batch_size: Count = 1
    n_iter: Count = 1
    sampler_name: str | None = None
    sampler_index: str | None = None
    scheduler: str | None = None
    override_settings: dict[str, Any] = Field(default_factory=dict)
    send_images: bool = True
    alwayson_scripts: dict[str, Any] = Field(default_factory=dict)  # controlnet.args units

    def model(self, chosen: str = "") -> str:
        """override_settings' checkpoint, else the one the caller chose in /options."""
        checkpoint = self.override_settings.get("sd_model_checkpoint") or chosen
        if not isinstance(checkpoint, str):
            raise HTTPException(422, "override_settings.sd_model_checkpoint: expected a string")
        return _TITLE_HASH.sub("", checkpoint)

    def sampler(self) -> str:
        """A1111 splits "DPM++ 2M Karras" into a sampler and a scheduler; synthmill names both at once."""
        name = (self.sampler_name or self.sampler_index or "").strip()
        scheduler = (self.scheduler or "").strip()
        if name.lower() in _AUTOMATIC:
            name = ""
        if scheduler.lower() in _AUTOMATIC or scheduler.lower() == "uniform":
            return name
        return f"{name} {scheduler}" if name else scheduler

    def spec(self, chosen: str = "", init: bytes | None = None, **edit: Any) -> pb.JobSpec:
        """The images job; `init` and `edit` (mask, strength, ...) come from img2img."""
        controls, control_images = controlnet_units(self.alwayson_scripts, init)
        return image_job(
            [self.prompt],
            self.batch_size * self.n_iter,
            seed=self.seed,
            model=self.model(chosen),
            init_image=init,
            controls=controls,
            control_images=control_images,
            **edit,
            size=(self.width, self.height),
            steps=self.steps,
            guidance=self.cfg_scale,
            scheduler=self.sampler(),
            negative=self.negative_prompt,
        )


class TextToImageResponse(BaseModel):
    images: list[str] = Field(description="The generated images, base64-encoded PNGs.")
    parameters: dict[str, Any]
    info: str = Field(description="JSON text: seed, all_seeds, prompts, size, sampler, infotexts, ...")


class ProgressResponse(BaseModel):
    progress: float = Field(description="0 to 1")
    eta_relative: float
    state: dict[str, Any]
    current_image: str | None = None
    textinfo: str | None = None


def runs(request: Request) -> Runs:
    return request.app.state.runs


async def _follow(client: AsyncClient, run: Run, limit_s: float) -> pb.Job:
    """Waits for the job, feeding its progress; cancels it when the caller goes away or time runs out."""
    try:
        async with asyncio.timeout(limit_s):
            async for event in client.watch(run.job_id):
                run.progress.update(event)
    except (TimeoutError, asyncio.CancelledError):
        await asyncio.shield(client.cancel(run.job_id))
        raise
    return await client.get(run.job_id)


async def _images(client: AsyncClient, job_id: str) -> tuple[list[bytes], list[dict[str, Any]]]:
    """The job's PNGs in index order, and their metadata.jsonl entries."""
    files: dict[str, bytearray] = {}
    async for chunk in client.chunks(job_id):
        files.setdefault(chunk.path, bytearray()).extend(chunk.data)
    meta = [json.loads(line) for line in files.get("metadata.jsonl", b"").decode().splitlines() if line]
    meta.sort(key=lambda entry: entry["file_name"])
    return [bytes(files[entry["file_name"]]) for entry in meta], meta


def _info(body: Txt2ImgRequest, job: pb.Job, pngs: list[bytes], meta: list[dict[str, Any]]) -> str:
    seeds = [entry["seed"] for entry in meta] or [job.spec.seed]
    first = meta[0] if meta else {}
    return json.dumps(
        {
            "prompt": body.prompt,
            "all_prompts": [entry["prompt"] for entry in meta],
            "negative_prompt": body.negative_prompt,
            "all_negative_prompts": [entry["negative_prompt"] for entry in meta],
            "seed": seeds[0],
            "all_seeds": seeds,
            "subseed": -1,
            "all_subseeds": [-1] * len(seeds),
            "subseed_strength": 0,
            "width": first.get("width", body.width),
            "height": first.get("height", body.height),
            "sampler_name": first.get("scheduler", body.sampler()),
            "cfg_scale": first.get("cfg", body.cfg_scale),
            "steps": first.get("steps", body.steps),
            "batch_size": body.batch_size,
            "n_iter": body.n_iter,
            "restore_faces": False,
            "sd_model_name": first.get("model", body.model()),
            "sd_model_hash": None,
            "extra_generation_params": {},
            "index_of_first_image": 0,
            "infotexts": [_parameters_text(png) for png in pngs],
            "styles": [],
            "job_timestamp": job.created_at.ToDatetime().strftime("%Y%m%d%H%M%S"),
            "clip_skip": 1,
            "version": f"synthmill {version()}",
            "job_id": job.id,
        }
    )


@router.post("/txt2img", response_model=TextToImageResponse)
async def txt2img(body: Txt2ImgRequest, request: Request, client: Gateway) -> TextToImageResponse:
    """batch_size x n_iter images of one prompt, as one gateway job; returns when they are made.
    An interrupted call returns the images made so far."""
    spec = body.spec(caller_checkpoint(request))
    pngs, info = await run_job(body, spec, request, client)
    return TextToImageResponse(
        images=[base64.b64encode(png).decode() for png in pngs] if body.send_images else [],
        parameters=body.model_dump(),
        info=info,
    )


async def run_job(body: Txt2ImgRequest, spec: pb.JobSpec, request: Request, client: AsyncClient):
    """Submits `spec`, follows it as one of the caller's runs, and returns its PNGs and A1111 info."""
    job = await client.submit(spec)
    tracked = runs(request)
    run = tracked.add(job.id, AUTHORIZATION.get())
    try:
        job = await _follow(client, run, request.app.state.settings.txt2img_timeout_s)
    except TimeoutError:
        raise HTTPException(504, f"job {job.id} did not finish in time and was cancelled") from None
    finally:
        tracked.remove(job.id)
    if job.state == pb.JOB_STATE_FAILED:
        raise HTTPException(502, f"job {job.id} failed: {job.error}")
    pngs, meta = await _images(client, job.id)
    return pngs, _info(body, job, pngs, meta)


def caller_checkpoint(request: Request) -> str:
    """The checkpoint this caller chose with POST /sdapi/v1/options; empty: the server's default."""
    return request.app.state.checkpoints.get(AUTHORIZATION.get(), "")


@router.get("/progress", response_model=ProgressResponse)
async def progress(request: Request, skip_current_image: bool = False) -> ProgressResponse:
    """The caller's txt2img calls under way, as one A1111 progress: 0-1, ETA and the state snapshot."""
    mine = runs(request).of(AUTHORIZATION.get())
    if not mine:
        state = {"skipped": False, "interrupted": False, "job": "", "job_count": 0, "job_timestamp": "0"}
        state |= {"job_no": 0, "sampling_step": 0, "sampling_steps": 0}
        return ProgressResponse(progress=0, eta_relative=0, state=state)
    fraction = sum(run.progress.percent for run in mine) / (100 * len(mine))
    elapsed = time.monotonic() - mine[0].started
    eta = elapsed / fraction - elapsed if fraction > 0 else 0.0
    current = mine[0].progress
    step, steps = current.current_step
    state = {
        "skipped": False,
        "interrupted": any(run.interrupted for run in mine),
        "job": mine[0].job_id,
        "job_count": current.counts.images_total,
        "job_timestamp": mine[0].job_id,
        "job_no": current.counts.images_done,
        "sampling_step": step,
        "sampling_steps": steps,
    }
    textinfo = f"{len(mine)} txt2img job(s) under way"
    return ProgressResponse(progress=round(fraction, 4), eta_relative=eta, state=state, textinfo=textinfo)


@router.post("/interrupt")
async def interrupt(request: Request, client: Gateway) -> dict[str, Any]:
    """Stops the caller's txt2img calls; each returns the images it has made."""
    for run in runs(request).of(AUTHORIZATION.get()):
        run.interrupted = True
        try:
            await client.cancel(run.job_id)
        except SynthmillError as exc:  # it ended meanwhile
            if exc.code.name != "NOT_FOUND":
                raise
    return {}


async def _image_models(client: AsyncClient) -> list[Any]:
    report = await client.health()
    return [model for service in report.services if service.name == "image" for model in service.models]


@router.get("/sd-models")
async def sd_models(client: Gateway) -> list[dict[str, Any]]:
    """The image models the servers have loaded; `title` goes in override_settings.sd_model_checkpoint."""
    return [
        {
            "title": model.name,
            "model_name": model.name,
            "hash": None,
            "sha256": None,
            "filename": model.source,
            "config": None,
            "family": model.family,
            "default": model.is_default,
        }
        for model in await _image_models(client)
    ]


@router.get("/samplers")
async def samplers(client: Gateway) -> list[dict[str, Any]]:
    """Sampler (scheduler) names any loaded model accepts, as A1111's SamplerItem."""
    names: dict[str, list[str]] = {}
    for model in await _image_models(client):
        for name in model.schedulers:
            names.setdefault(name, []).append(model.name)
    return [{"name": name, "aliases": [], "options": {"models": models}} for name, models in names.items()]


def _parameters_text(png: bytes) -> str:
    """The A1111 "parameters" text chunk the image server wrote into the PNG."""
    with Image.open(io.BytesIO(png)) as image:
        return image.text.get("parameters", "")
