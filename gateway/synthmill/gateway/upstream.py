"""Channels to the inference servers, balanced and retried by gRPC itself.

A target is `host:port`, a comma-separated list of replicas, or any gRPC URI such as
`dns:///image:50053` (a Kubernetes headless Service). gRPC's `round_robin` policy spreads
calls over the replicas, client-side health checking skips replicas that are not
SERVING, and the retry policy moves a call that failed before any response arrived to
another replica. Calls that fail mid-stream are retried by the job runner, which knows
which items are still missing.

`waitForReady` is off on purpose: with it, a call queued while every replica is down
waits for its whole deadline (an hour for a long batch). The job runner instead waits
for the channel to be ready for at most `upstream_wait_s` before each try.
"""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from synthmill.common.errors import Unavailable
from synthmill.common.server import server_options
from synthmill.common.tls import aio_channel
from synthmill.v1 import common_pb2, image_pb2_grpc, text_pb2_grpc
from synthmill.v1 import gateway_pb2 as pb

_INFO_DEADLINE_S = 30.0
_INFO_TTL_S = 10.0
REQUEST_TIMEOUT_S = 3600.0  # deadline of one generation request (a long batch)


def service_config(service: str) -> str:
    return json.dumps(
        {
            "loadBalancingConfig": [{"round_robin": {}}],
            "healthCheckConfig": {"serviceName": ""},
            "methodConfig": [
                {
                    "name": [{"service": service}],
                    "waitForReady": False,
                    "retryPolicy": {
                        "maxAttempts": 5,
                        "initialBackoff": "0.2s",
                        "maxBackoff": "5s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ],
        }
    )


def channel_target(target: str) -> str:
    """Turns a comma-separated replica list into an `ipv4:`/`ipv6:` URI gRPC balances over."""
    if "," not in target:
        return target
    addresses = []
    for replica in (part.strip() for part in target.split(",") if part.strip()):
        host, _, port = replica.rpartition(":")
        info = socket.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_STREAM)[0]
        ip = info[4][0]
        addresses.append(f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}")
    scheme = "ipv6" if any(a.startswith("[") for a in addresses) else "ipv4"
    return f"{scheme}:{','.join(addresses)}"


@dataclass
class Upstream:
    """One inference service (all its replicas) behind one balanced channel."""

    name: str
    target: str
    service: str
    stub_class: type
    max_message_bytes: int
    # TLS (mutual, with the gateway's client certificate) to the servers; None is clear text.
    credentials: grpc.ChannelCredentials | None = None
    channel: grpc.aio.Channel = field(init=False)
    stub: object = field(init=False)
    _info: tuple[float, object] | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        options = [
            *server_options(self.max_message_bytes),
            ("grpc.service_config", service_config(self.service)),
            ("grpc.enable_retries", 1),
        ]
        self.channel = aio_channel(channel_target(self.target), self.credentials, options)
        self.stub = self.stub_class(self.channel)

    async def info(self):
        """The server's GetInfo, cached briefly. An unreachable or still-loading server is
        UNAVAILABLE naming this upstream ("text server unavailable: ..."), never its own status."""
        if self._info and time.monotonic() - self._info[0] < _INFO_TTL_S:
            return self._info[1]
        try:
            # No wait_for_ready: a replica that is down fails at once. The deadline is only for a
            # live server whose loop is slow to answer (a busy host), so it is generous.
            reply = await self.stub.GetInfo(
                common_pb2.GetInfoRequest(), timeout=_INFO_DEADLINE_S, wait_for_ready=False
            )
        except grpc.aio.AioRpcError as exc:
            raise Unavailable(f"{self.name} server unavailable: {exc.code().name}: {exc.details()}") from None
        self._info = (time.monotonic(), reply)
        return reply

    async def health(self) -> pb.ServiceHealth:
        report = pb.ServiceHealth(name=self.name, target=self.target)
        try:
            reply = await health_pb2_grpc.HealthStub(self.channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=3, wait_for_ready=False
            )
            report.serving = reply.status == health_pb2.HealthCheckResponse.SERVING
            if report.serving:
                report.models.extend((await self.info()).models)
            else:
                report.error = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        except grpc.aio.AioRpcError as exc:
            report.error = f"{exc.code().name}: {exc.details()}"
        except Unavailable as exc:
            report.serving = False
            report.error = str(exc)
        return report

    async def close(self) -> None:
        await self.channel.close()


def text_upstream(target: str, max_message_bytes: int, credentials=None) -> Upstream:
    return Upstream(
        "text",
        target,
        "synthmill.v1.TextService",
        text_pb2_grpc.TextServiceStub,
        max_message_bytes,
        credentials,
    )


def image_upstream(target: str, max_message_bytes: int, credentials=None) -> Upstream:
    return Upstream(
        "image",
        target,
        "synthmill.v1.ImageService",
        image_pb2_grpc.ImageServiceStub,
        max_message_bytes,
        credentials,
    )
