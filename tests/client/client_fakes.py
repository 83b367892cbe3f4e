"""An in-process fake Gateway for client tests: scripted jobs, events, files and failures."""

from __future__ import annotations

import threading
from concurrent import futures
from dataclasses import dataclass, field

import grpc

from synthmill.v1 import common_pb2, gateway_pb2, gateway_pb2_grpc

FILES = {
    "job.json": b'{"state": "COMPLETED"}\n',
    "data.jsonl": b"".join(b'{"age": %d}\n' % i for i in range(40)),
    "images/00000.png": bytes(range(256)) * 3,
}


@dataclass
class FakeJob:
    job: gateway_pb2.Job
    events: list[gateway_pb2.JobEvent] = field(default_factory=list)


def _event(job_id: str, seq: int, counts: gateway_pb2.JobCounts, **kind) -> gateway_pb2.JobEvent:
    event = gateway_pb2.JobEvent(job_id=job_id, seq=seq, **kind)
    event.counts.CopyFrom(counts)
    return event


def script_events(job: gateway_pb2.Job) -> list[gateway_pb2.JobEvent]:
    """RUNNING, the rows or the images (2 steps each), COMPLETED; counts after each event."""
    counts = gateway_pb2.JobCounts(rows_total=job.counts.rows_total, images_total=job.counts.images_total)
    events = [_event(job.id, 1, counts, state=gateway_pb2.StateChanged(state=gateway_pb2.JOB_STATE_RUNNING))]
    for i in range(counts.rows_total):
        counts.rows_done += 1
        events.append(_event(job.id, len(events) + 1, counts, row=gateway_pb2.RowWritten(index=i)))
    for i in range(counts.images_total):
        for step in (1, 2):
            step_pb = gateway_pb2.ImageStep(index=i, step=step, total_steps=2)
            events.append(_event(job.id, len(events) + 1, counts, step=step_pb))
        counts.images_done += 1
        image = gateway_pb2.ImageWritten(index=i, file_name=f"images/{i:05d}.png")
        events.append(_event(job.id, len(events) + 1, counts, image=image))
    done = gateway_pb2.StateChanged(state=gateway_pb2.JOB_STATE_COMPLETED)
    events.append(_event(job.id, len(events) + 1, counts, state=done))
    return events


class FakeGateway(gateway_pb2_grpc.GatewayServicer):
    def __init__(self) -> None:
        self.jobs: dict[str, FakeJob] = {}
        self.watch_requests: list[gateway_pb2.WatchJobRequest] = []
        # The first N WatchJob calls fail with UNAVAILABLE after sending this many events.
        self.drop_after: list[int] = []
        self.fail_job = False
        self.chunk_size = 100
        self.break_download = False
        self.lock = threading.Lock()

    def SubmitJob(self, request, context):
        spec = request.spec
        kind = spec.WhichOneof("kind")
        if kind is None:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT, "spec.kind: one of text, images, unified is required"
            )
        params = getattr(spec, kind).params if kind != "text" else None
        if params is not None and params.width % 8:
            context.abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"{kind}.params.width: {params.width} is not a multiple of 8",
            )
        with self.lock:
            job_id = f"job{len(self.jobs) + 1:04d}"
            counts = gateway_pb2.JobCounts()
            if kind == "text":
                counts.rows_total = spec.text.count
            elif kind == "images":
                counts.images_total = spec.images.count or max(1, len(spec.images.prompts))
            else:
                counts.rows_total = spec.unified.rows.count
                counts.images_total = spec.unified.rows.count * max(1, spec.unified.images_per_row)
            job = gateway_pb2.Job(
                id=job_id,
                spec=spec,
                state=gateway_pb2.JOB_STATE_QUEUED,
                counts=counts,
                output_dir=f"/out/{job_id}",
            )
            job.created_at.GetCurrentTime()
            fake = FakeJob(job, script_events(job))
            if self.fail_job:
                fake.events[-1].state.state = gateway_pb2.JOB_STATE_FAILED
                fake.events[-1].state.error = "image server: boom"
            self.jobs[job_id] = fake
            return job

    def _get(self, job_id, context) -> FakeJob:
        if job_id not in self.jobs:
            context.abort(grpc.StatusCode.NOT_FOUND, f"job {job_id} not found")
        return self.jobs[job_id]

    def _final(self, fake: FakeJob) -> gateway_pb2.Job:
        """The job as it stands once its scripted events have all happened."""
        job = gateway_pb2.Job()
        job.CopyFrom(fake.job)
        if job.state not in (gateway_pb2.JOB_STATE_CANCELLED,):
            last = fake.events[-1]
            job.state = last.state.state
            job.error = last.state.error
            job.counts.CopyFrom(last.counts)
        return job

    def GetJob(self, request, context):
        return self._final(self._get(request.job_id, context))

    def ListJobs(self, request, context):
        jobs = [self._final(f) for f in reversed(self.jobs.values())]
        if request.state:
            jobs = [j for j in jobs if j.state == request.state]
        return gateway_pb2.ListJobsResponse(jobs=jobs[: request.limit or None])

    def CancelJob(self, request, context):
        fake = self._get(request.job_id, context)
        fake.job.state = gateway_pb2.JOB_STATE_CANCELLED
        return fake.job

    def WatchJob(self, request, context):
        fake = self._get(request.job_id, context)
        with self.lock:
            self.watch_requests.append(request)
            drop = self.drop_after.pop(0) if self.drop_after else None
        sent = 0
        for event in fake.events:
            if event.seq <= request.after_seq:
                continue
            if drop is not None and sent == drop:
                context.abort(grpc.StatusCode.UNAVAILABLE, "gateway restarting")
            sent += 1
            yield event

    def DownloadJob(self, request, context):
        self._get(request.job_id, context)
        for path, data in FILES.items():
            for offset in range(0, len(data), self.chunk_size):
                piece = data[offset : offset + self.chunk_size]
                last = offset + self.chunk_size >= len(data)
                if self.break_download and path.startswith("images/") and last:
                    context.abort(grpc.StatusCode.INTERNAL, "disk error")
                yield gateway_pb2.FileChunk(path=path, offset=offset, data=piece, last=last)

    def GetHealth(self, request, context):
        return gateway_pb2.HealthReport(
            serving=True,
            services=[
                gateway_pb2.ServiceHealth(
                    name="text",
                    target="127.0.0.1:1",
                    serving=True,
                    models=[common_pb2.ModelInfo(name="tiny-llama", family="causal-lm", device="cpu")],
                ),
                gateway_pb2.ServiceHealth(name="image", target="127.0.0.1:2", serving=True),
            ],
        )


def start_fake(port: int = 0) -> tuple[grpc.Server, FakeGateway, int]:
    fake = FakeGateway()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    gateway_pb2_grpc.add_GatewayServicer_to_server(fake, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, fake, bound
