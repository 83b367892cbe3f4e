"""`AsyncClient`: the same API as `Client` on `grpc.aio`, for asyncio programs.

async with AsyncClient() as client:
    job = await client.submit(image_job("a red bicycle", 4))
    async for event in client.watch(job.id):
        ...
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import grpc

from synthmill.client._common import (
    CHANNEL_OPTIONS,
    RECONNECT_TIMEOUT,
    TERMINAL_STATES,
    Access,
    Downloader,
    Resume,
    is_terminal_event,
    list_request,
    resolve_target,
)
from synthmill.client.errors import converts_errors_async, from_rpc_error
from synthmill.common.tls import aio_channel
from synthmill.v1 import gateway_pb2, gateway_pb2_grpc

OnEvent = Callable[[gateway_pb2.JobEvent], Awaitable[None] | None]


class AsyncClient:
    """A `grpc.aio` client of the Gateway service. Create it inside a running event loop."""

    def __init__(
        self,
        target: str | None = None,
        *,
        timeout: float | None = None,
        reconnect_timeout: float = RECONNECT_TIMEOUT,
        api_key: str | None = None,
        tls_ca: str | Path | None = None,
        channel: grpc.aio.Channel | None = None,
        access: Access | None = None,
    ):
        """`access`, when given, is taken as it is, with nothing read from the environment: a
        server acting for its callers passes `Access()` so its own `$SYNTHMILL_API_KEY` is never used."""
        self.target = resolve_target(target)
        self.access = access if access is not None else Access.resolve(api_key, tls_ca)
        self.timeout = timeout
        self.reconnect_timeout = reconnect_timeout
        self._own_channel = channel is None
        self.channel = channel or aio_channel(self.target, self.access.credentials(), CHANNEL_OPTIONS)
        self.stub = self.access.authorize(gateway_pb2_grpc.GatewayStub(self.channel))

    async def close(self) -> None:
        if self._own_channel:
            await self.channel.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @converts_errors_async
    async def submit(self, spec: gateway_pb2.JobSpec) -> gateway_pb2.Job:
        return await self.stub.SubmitJob(gateway_pb2.SubmitJobRequest(spec=spec), timeout=self.timeout)

    @converts_errors_async
    async def get(self, job_id: str) -> gateway_pb2.Job:
        return await self.stub.GetJob(gateway_pb2.GetJobRequest(job_id=job_id), timeout=self.timeout)

    @converts_errors_async
    async def list(self, state: int | str | None = None, limit: int = 0) -> list[gateway_pb2.Job]:
        """The newest `limit` jobs (0: the gateway's page, 50); `iter_jobs` goes through them all."""
        return list((await self.page(list_request(state, limit))).jobs)

    @converts_errors_async
    async def page(self, request: gateway_pb2.ListJobsRequest) -> gateway_pb2.ListJobsResponse:
        """One page of jobs (a `list_request`) and the token of the next."""
        return await self.stub.ListJobs(request, timeout=self.timeout)

    async def iter_jobs(
        self, state: int | str | None = None, page_size: int = 0, **filters: Any
    ) -> AsyncIterator[gateway_pb2.Job]:
        """Every job (in `state`; `kind`, `created_after`, `created_before` as in `list_request`),
        newest first, a page at a time."""
        token = None
        while token != "":
            response = await self.page(list_request(state, page_size, token or "", **filters))
            for job in response.jobs:
                yield job
            token = response.next_page_token

    @converts_errors_async
    async def delete(self, job_id: str) -> gateway_pb2.Job:
        """Cancels the job if it runs, then deletes its outputs and records; returns it as it was."""
        return await self.stub.DeleteJob(gateway_pb2.DeleteJobRequest(job_id=job_id), timeout=self.timeout)

    @converts_errors_async
    async def cancel(self, job_id: str) -> gateway_pb2.Job:
        return await self.stub.CancelJob(gateway_pb2.CancelJobRequest(job_id=job_id), timeout=self.timeout)

    @converts_errors_async
    async def health(self) -> gateway_pb2.HealthReport:
        return await self.stub.GetHealth(gateway_pb2.GetHealthRequest(), timeout=self.timeout)

    @converts_errors_async
    async def caller(self) -> gateway_pb2.Caller:
        """Who this client's key is, as the gateway sees it."""
        return await self.stub.GetCaller(gateway_pb2.GetCallerRequest(), timeout=self.timeout)

    @converts_errors_async
    async def styles(self) -> list[gateway_pb2.Style]:
        """The gateway's saved styles, which `styles=[...]` in image params may name."""
        return list(
            (await self.stub.ListStyles(gateway_pb2.ListStylesRequest(), timeout=self.timeout)).styles
        )

    async def watch(self, job_id: str, after_seq: int = 0) -> AsyncIterator[gateway_pb2.JobEvent]:
        """Like `Client.watch`: events until the job ends, reconnecting after UNAVAILABLE."""
        resume = Resume(after_seq, self.reconnect_timeout)
        while True:
            call = self.stub.WatchJob(gateway_pb2.WatchJobRequest(job_id=job_id, after_seq=resume.last))
            try:
                async for event in call:
                    if resume.fresh(event):
                        yield event
                        if is_terminal_event(event):
                            return
            except grpc.RpcError as exc:
                await asyncio.sleep(resume.failed(exc))
                continue
            finally:
                call.cancel()
            # The stream closed without a final state: the job may have ended before `last`.
            if (await self.get(job_id)).state in TERMINAL_STATES:
                return
            await asyncio.sleep(resume.backoff)

    async def wait(self, job_id: str, on_event: OnEvent | None = None) -> gateway_pb2.Job:
        """Follows the job until it ends and returns it; `on_event` may be sync or async."""
        async for event in self.watch(job_id):
            if on_event is not None:
                result = on_event(event)
                if asyncio.iscoroutine(result):
                    await result
        return await self.get(job_id)

    async def chunks(self, job_id: str, paths: Sequence[str] = ()) -> AsyncIterator[gateway_pb2.FileChunk]:
        """The job's files (or only `paths`, relative to its folder) as FileChunks, file after file."""
        call = self.stub.DownloadJob(gateway_pb2.DownloadJobRequest(job_id=job_id, paths=list(paths)))
        try:
            async for chunk in call:
                yield chunk
        except grpc.RpcError as exc:
            raise from_rpc_error(exc) from exc
        finally:
            call.cancel()

    async def download(self, job_id: str, dest_dir: str | Path) -> list[Path]:
        """Like `Client.download`: the job's files into `dest_dir`, each renamed into place when whole."""
        sink = Downloader(dest_dir)
        try:
            async for chunk in self.chunks(job_id):
                sink.add(chunk)
        except BaseException:
            sink.abort()
            raise
        return sink.finish()
