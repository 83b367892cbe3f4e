"""`Client`: the synchronous Python API over the gateway.

    with Client() as client:                       # --gateway / $SYNTHMILL_GATEWAY / localhost:50051
                                                   # api_key= / $SYNTHMILL_API_KEY, tls_ca= / $SYNTHMILL_TLS_CA
        job = client.submit(text_job({"age": "int"}, 10))
        job = client.wait(job.id, on_event=print)  # JobEvents until the job ends
        client.download(job.id, "out/")

Every failed call raises `SynthmillError` (code, details), never a bare `grpc.RpcError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
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
from synthmill.client.errors import converts_errors, from_rpc_error
from synthmill.common.tls import sync_channel
from synthmill.v1 import gateway_pb2, gateway_pb2_grpc, keys_pb2, keys_pb2_grpc


class Client:
    """A blocking client of the Gateway service. `timeout` (seconds) applies to each unary call."""

    def __init__(
        self,
        target: str | None = None,
        *,
        timeout: float | None = None,
        reconnect_timeout: float = RECONNECT_TIMEOUT,
        api_key: str | None = None,
        tls_ca: str | Path | None = None,
        channel: grpc.Channel | None = None,
    ):
        self.target = resolve_target(target)
        self.access = Access.resolve(api_key, tls_ca)
        self.timeout = timeout
        self.reconnect_timeout = reconnect_timeout
        self._own_channel = channel is None
        self.channel = channel or sync_channel(self.target, self.access.credentials(), CHANNEL_OPTIONS)
        self.stub = self.access.authorize(gateway_pb2_grpc.GatewayStub(self.channel))
        self.keys = self.access.authorize(keys_pb2_grpc.KeysStub(self.channel))

    def close(self) -> None:
        if self._own_channel:
            self.channel.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @converts_errors
    def submit(self, spec: gateway_pb2.JobSpec) -> gateway_pb2.Job:
        """Queues a job; the gateway validates it (INVALID_ARGUMENT names the field)."""
        return self.stub.SubmitJob(gateway_pb2.SubmitJobRequest(spec=spec), timeout=self.timeout)

    @converts_errors
    def get(self, job_id: str) -> gateway_pb2.Job:
        return self.stub.GetJob(gateway_pb2.GetJobRequest(job_id=job_id), timeout=self.timeout)

    @converts_errors
    def list(self, state: int | str | None = None, limit: int = 0) -> list[gateway_pb2.Job]:
        """The newest `limit` jobs (0: the gateway's page, 50), in `state`, a JobState or its name
        ("running"); `iter_jobs` goes through them all."""
        return list(self.page(list_request(state, limit)).jobs)

    @converts_errors
    def page(self, request: gateway_pb2.ListJobsRequest) -> gateway_pb2.ListJobsResponse:
        """One page of jobs (a `list_request`) and the token of the next."""
        return self.stub.ListJobs(request, timeout=self.timeout)

    def iter_jobs(
        self, state: int | str | None = None, page_size: int = 0, **filters: Any
    ) -> Iterator[gateway_pb2.Job]:
        """Every job (in `state`; `kind`, `created_after`, `created_before` as in `list_request`),
        newest first, a page at a time."""
        token = None
        while token != "":
            response = self.page(list_request(state, page_size, token or "", **filters))
            yield from response.jobs
            token = response.next_page_token

    @converts_errors
    def delete(self, job_id: str) -> gateway_pb2.Job:
        """Cancels the job if it runs, then deletes its outputs and records; returns it as it was."""
        return self.stub.DeleteJob(gateway_pb2.DeleteJobRequest(job_id=job_id), timeout=self.timeout)

    @converts_errors
    def cancel(self, job_id: str) -> gateway_pb2.Job:
        return self.stub.CancelJob(gateway_pb2.CancelJobRequest(job_id=job_id), timeout=self.timeout)

    @converts_errors
    def create_key(self, name: str, limits: keys_pb2.KeyLimits | None = None) -> keys_pb2.CreateKeyResponse:
        """Makes an API key (needs the admin key); the response holds its secret, shown only once."""
        return self.keys.CreateKey(keys_pb2.CreateKeyRequest(name=name, limits=limits), timeout=self.timeout)

    @converts_errors
    def list_keys(self) -> list[keys_pb2.ApiKey]:
        return list(self.keys.ListKeys(keys_pb2.ListKeysRequest(), timeout=self.timeout).keys)

    @converts_errors
    def revoke_key(self, name: str) -> keys_pb2.ApiKey:
        return self.keys.RevokeKey(keys_pb2.RevokeKeyRequest(name=name), timeout=self.timeout)

    @converts_errors
    def health(self) -> gateway_pb2.HealthReport:
        return self.stub.GetHealth(gateway_pb2.GetHealthRequest(), timeout=self.timeout)

    @converts_errors
    def caller(self) -> gateway_pb2.Caller:
        """Who this client's key is, as the gateway sees it."""
        return self.stub.GetCaller(gateway_pb2.GetCallerRequest(), timeout=self.timeout)

    @converts_errors
    def styles(self) -> list[gateway_pb2.Style]:
        """The gateway's saved styles, which `styles=[...]` in image params may name."""
        return list(self.stub.ListStyles(gateway_pb2.ListStylesRequest(), timeout=self.timeout).styles)

    def watch(self, job_id: str, after_seq: int = 0) -> Iterator[gateway_pb2.JobEvent]:
        """The job's events after `after_seq`, until the job ends.

        When the gateway is UNAVAILABLE (restarting, network), it reconnects with the last sequence
        number seen, so no event is missed or repeated; it gives up after `reconnect_timeout` seconds
        without a connection.
        """
        resume = Resume(after_seq, self.reconnect_timeout)
        while True:
            call = self.stub.WatchJob(gateway_pb2.WatchJobRequest(job_id=job_id, after_seq=resume.last))
            try:
                for event in call:
                    if resume.fresh(event):
                        yield event
                        if is_terminal_event(event):
                            return
            except grpc.RpcError as exc:
                time.sleep(resume.failed(exc))
                continue
            finally:
                call.cancel()
            # The stream closed without a final state: the job may have ended before `last`.
            if (self.get(job_id)).state in TERMINAL_STATES:
                return
            time.sleep(resume.backoff)

    def wait(
        self, job_id: str, on_event: Callable[[gateway_pb2.JobEvent], None] | None = None
    ) -> gateway_pb2.Job:
        """Follows the job until it ends and returns it; `on_event` sees every event. Never raises on
        a FAILED or CANCELLED job: check `job.state`."""
        for event in self.watch(job_id):
            if on_event is not None:
                on_event(event)
        return self.get(job_id)

    def download(self, job_id: str, dest_dir: str | Path) -> list[Path]:
        """Writes the job's output folder into `dest_dir` (its files directly, not a `<job_id>/` folder).
        Each file appears atomically (temp + rename); returns the paths written."""
        sink = Downloader(dest_dir)
        try:
            for chunk in self.stub.DownloadJob(gateway_pb2.DownloadJobRequest(job_id=job_id)):
                sink.add(chunk)
        except grpc.RpcError as exc:
            sink.abort()
            raise from_rpc_error(exc) from exc
        except BaseException:
            sink.abort()
            raise
        return sink.finish()
