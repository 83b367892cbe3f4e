"""The synthmill client: `Client` / `AsyncClient` over the gateway, JobSpec builders, and the CLI.

    from synthmill.client import Client, text_job
    with Client() as client:
        job = client.wait(client.submit(text_job({"name": "string", "age": "int"}, 20)).id)

Torch-free by design: nothing here imports torch, transformers or diffusers.
"""

from synthmill.client._common import DEFAULT_TARGET, TERMINAL_STATES, list_request, resolve_target, state_name
from synthmill.client.aio import AsyncClient
from synthmill.client.client import Client
from synthmill.client.errors import SynthmillError
from synthmill.client.specs import (
    SpecError,
    fit_sample,
    image_job,
    image_params,
    tables_job,
    text_job,
    unified_job,
)
from synthmill.v1.gateway_pb2 import HealthReport, Job, JobEvent, JobSpec, JobState

__all__ = [
    "DEFAULT_TARGET",
    "TERMINAL_STATES",
    "AsyncClient",
    "Client",
    "HealthReport",
    "Job",
    "JobEvent",
    "JobSpec",
    "JobState",
    "SpecError",
    "SynthmillError",
    "fit_sample",
    "image_job",
    "image_params",
    "list_request",
    "resolve_target",
    "state_name",
    "tables_job",
    "text_job",
    "unified_job",
]
