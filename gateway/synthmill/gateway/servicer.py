"""The Gateway gRPC service: protobuf in, a call on `Jobs`, protobuf out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from synthmill.gateway.access.auth import caller
from synthmill.gateway.access.keyring import Keyring, Principal
from synthmill.gateway.jobs import Jobs
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import gateway_pb2_grpc

_CHUNK = 1 << 20


class GatewayServicer(gateway_pb2_grpc.GatewayServicer):
    def __init__(self, jobs: Jobs, keyring: Keyring):
        self.jobs = jobs
        self.keyring = keyring

    async def SubmitJob(self, request: pb.SubmitJobRequest, context) -> pb.Job:
        return shown(await self.jobs.submit(request.spec, caller()), caller())

    async def GetJob(self, request: pb.GetJobRequest, context) -> pb.Job:
        return shown(await self.jobs.get(request.job_id, caller()), caller())

    async def ListJobs(self, request: pb.ListJobsRequest, context) -> pb.ListJobsResponse:
        page = await self.jobs.list(request, caller())
        shown_jobs = [shown(job, caller()) for job in page.jobs]
        return pb.ListJobsResponse(jobs=shown_jobs, next_page_token=page.next_page_token)

    async def CancelJob(self, request: pb.CancelJobRequest, context) -> pb.Job:
        return shown(await self.jobs.cancel(request.job_id, caller()), caller())

    async def DeleteJob(self, request: pb.DeleteJobRequest, context) -> pb.Job:
        return shown(await self.jobs.delete(request.job_id, caller()), caller())

    async def WatchJob(self, request: pb.WatchJobRequest, context) -> AsyncIterator[pb.JobEvent]:
        async for event in self.jobs.watch(request.job_id, request.after_seq, caller()):
            yield event

    async def DownloadJob(self, request: pb.DownloadJobRequest, context) -> AsyncIterator[pb.FileChunk]:
        folder, files = await self.jobs.files(request.job_id, caller(), request.paths)
        for relative in files:
            async for chunk in _chunks(folder, relative):
                yield chunk

    async def GetHealth(self, request: pb.GetHealthRequest, context) -> pb.HealthReport:
        return await self.jobs.health(caller())

    async def GetCaller(self, request: pb.GetCallerRequest, context) -> pb.Caller:
        who = caller()
        return pb.Caller(name=who.name, admin=who.admin, keyed=not await self.keyring.is_open())

    async def ListStyles(self, request: pb.ListStylesRequest, context) -> pb.ListStylesResponse:
        return pb.ListStylesResponse(styles=self.jobs.styles())


def shown(job: pb.Job, who: Principal) -> pb.Job:
    """The job as `who` may see it: a tenant sees its folder relative to its own (the job id), never
    the server's absolute paths; the admin (and everyone on an open gateway) sees them whole."""
    if who.admin:
        return job
    view = pb.Job()
    view.CopyFrom(job)
    view.output_dir = job.id
    return view


async def _chunks(folder: JobFolder, relative: Path) -> AsyncIterator[pb.FileChunk]:
    with folder.open_file(relative) as handle:
        offset = 0
        while True:
            data = await asyncio.to_thread(handle.read, _CHUNK)
            last = len(data) < _CHUNK
            yield pb.FileChunk(path=relative.as_posix(), offset=offset, data=data, last=last)
            offset += len(data)
            if last:
                return
