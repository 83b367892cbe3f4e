"""`GET /` (what this service offers) and seed 003's `GET /health`."""

from __future__ import annotations

from importlib import metadata
from typing import Any

import grpc
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from synthmill.client import SynthmillError
from synthmill.http.deps import Gateway
from synthmill.v1 import gateway_pb2 as pb

router = APIRouter(tags=["info"])

ENDPOINTS = [
    "POST /generate/text",
    "POST /generate/images",
    "POST /generate/unified",
    "POST /generate/tables",
    "POST /schema",
    "GET /status/{job_id}",
    "GET /jobs",
    "GET /jobs/{job_id}",
    "POST /jobs/{job_id}/cancel",
    "DELETE /jobs/{job_id}",
    "GET /jobs/{job_id}/events",
    "GET /jobs/{job_id}/files/{path}",
    "GET /jobs/{job_id}/download",
    "GET /health",
    "POST /sdapi/v1/txt2img",
    "GET /sdapi/v1/progress",
    "GET /sdapi/v1/sd-models",
    "GET /sdapi/v1/samplers",
    "POST /sdapi/v1/interrupt",
]


def version() -> str:
    try:
        return metadata.version("synthmill")
    except metadata.PackageNotFoundError:
        return "unknown"


@router.get("/")
async def api_info() -> dict[str, Any]:
    return {
        "name": "synthmill",
        "version": version(),
        "description": "Synthetic rows and images: seed 003's REST API and the A1111 /sdapi/v1 subset.",
        "docs": "/docs",
        "ui": "/ui",
        "endpoints": ENDPOINTS,
    }


def _model(service: pb.ServiceHealth | None) -> str:
    if service is None:
        return "unknown"
    names = ", ".join(model.name for model in service.models) or "no model"
    return f"{names} (loaded)" if service.serving else f"{names} (not serving: {service.error or 'down'})"


@router.get("/health")
async def health(client: Gateway) -> JSONResponse:
    """`{status, text_model, image_model, jobs_in_progress}`: 200 when healthy, 503 when degraded."""
    try:
        report = await client.health()
    except SynthmillError as exc:
        if exc.code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise
        body = {
            "status": "degraded",
            "text_model": "unknown",
            "image_model": "unknown",
            "jobs_in_progress": 0,
            "detail": f"gateway unreachable: {exc}",
        }
        return JSONResponse(body, status_code=503)
    services = {service.name: service for service in report.services}
    body = {
        "status": "healthy" if report.serving else "degraded",
        "text_model": _model(services.get("text")),
        "image_model": _model(services.get("image")),
        "jobs_in_progress": report.jobs_running + report.jobs_queued,
        "jobs_running": report.jobs_running,
        "jobs_queued": report.jobs_queued,
    }
    return JSONResponse(body, status_code=200 if report.serving else 503)
