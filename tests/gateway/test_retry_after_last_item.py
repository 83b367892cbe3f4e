"""A stream that breaks after its last item: the gateway must not ask again for nothing.

A fake image server (real gRPC on loopback, in this process) sends every image of the
request, then aborts with UNAVAILABLE, as a replica killed at that moment does. Before the
fix the gateway retried with an empty request and the job failed with the server's
"items: at least one item is required".
"""

from __future__ import annotations

import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from servers import free_port

from synthmill.v1 import common_pb2, gateway_pb2_grpc, image_pb2, image_pb2_grpc
from synthmill.v1 import gateway_pb2 as pb

_PNG = bytes.fromhex("89504e470d0a1a0a")


class BreaksAfterLastItem(image_pb2_grpc.ImageServiceServicer):
    def __init__(self) -> None:
        self.requests: list[int] = []
        self.lock = threading.Lock()

    def GetInfo(self, request, context):
        model = common_pb2.ModelInfo(
            name="tiny-sd", family="sd15", is_default=True, schedulers=["euler"], size_multiple=8
        )
        return image_pb2.ImageServerInfo(
            models=[model], schedulers=["euler"], max_size=512, max_steps=50, max_items=64, max_batch=8
        )

    def Generate(self, request, context):
        with self.lock:
            self.requests.append(len(request.items))
        if not request.items:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "items: at least one item is required")
        for item in request.items:
            yield image_pb2.GenerateImagesResponse(
                image=image_pb2.GeneratedImage(
                    index=item.index, png=_PNG, seed=item.seed, params=request.params
                )
            )
        context.abort(grpc.StatusCode.UNAVAILABLE, "replica went away after its last image")


def test_a_stream_broken_after_its_last_item_is_not_asked_again(server_factory, tmp_path) -> None:
    fake = BreaksAfterLastItem()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    image_pb2_grpc.add_ImageServiceServicer_to_server(fake, server)
    status = health.HealthServicer()
    status.set("", health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(status, server)
    target = f"127.0.0.1:{free_port()}"
    server.add_insecure_port(target)
    server.start()
    try:
        gateway = server_factory(
            "gateway",
            {
                "SYNTHMILL_GATEWAY_IMAGE_TARGET": target,
                "SYNTHMILL_GATEWAY_TEXT_TARGET": target,
                "SYNTHMILL_GATEWAY_OUTPUT_DIR": str(tmp_path / "out"),
                "SYNTHMILL_GATEWAY_RETRY_BACKOFF_S": "0.05",
            },
        )
        params = common_pb2.ImageParams(width=64, height=64, steps=2, scheduler="euler")
        spec = pb.JobSpec(seed=1, images=pb.ImageJobSpec(prompts=["a hall"], count=3, params=params))
        with grpc.insecure_channel(gateway.target) as channel:
            stub = gateway_pb2_grpc.GatewayStub(channel)
            job = stub.SubmitJob(pb.SubmitJobRequest(spec=spec))
            for _ in stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=120):
                pass
            final = stub.GetJob(pb.GetJobRequest(job_id=job.id))
    finally:
        server.stop(0)
    assert final.state == pb.JOB_STATE_COMPLETED, final.error
    assert final.counts.images_done == 3
    assert 0 not in fake.requests
