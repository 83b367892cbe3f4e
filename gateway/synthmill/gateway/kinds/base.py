"""What a job kind is: everything the gateway does that depends on what a job makes.

The servicer, the jobs, the runner, the store, the events and the outputs know no kind by name: they
ask the job's `JobKind` (from `kinds.kind_of`). A kind owns, for its part of `JobSpec`:
- which inference servers it needs, and its checks at submit against their GetInfo;
- how saved styles rewrite it, and what it stores at submit besides the spec (inputs);
- its totals, its plan and its run (items recorded through `JobRun`, upstream calls through its
  retries);
- its result files, written from the recorded items by the pieces of `outputs.results`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from synthmill.gateway.disk import estimate_bytes
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.outputs.results import Recorded
from synthmill.gateway.run.job_run import JobRun
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.styles import Styles
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import image_pb2, text_pb2


@dataclass(frozen=True)
class ServerInfo:
    """The GetInfo of each inference server a job needs; None for one it does not use (or, at submit,
    one that cannot answer: then only the checks that need no server run)."""

    text: text_pb2.TextServerInfo | None = None
    image: image_pb2.ImageServerInfo | None = None


class JobKind:
    """One kind of job: the `JobSpec.kind` field named `name`."""

    name: ClassVar[str]

    def part(self, spec: pb.JobSpec):
        """This kind's message in `spec`."""
        return getattr(spec, self.name)

    def uses_text(self, spec: pb.JobSpec) -> bool:
        return False

    def uses_images(self, spec: pb.JobSpec) -> bool:
        return False

    def rows(self, spec: pb.JobSpec) -> pb.TextJobSpec | None:
        """The rows the job makes, if it makes any."""
        return None

    def prepare(self, spec: pb.JobSpec, settings: GatewaySettings) -> None:
        """At submit, before the checks and off the event loop: derives what the spec leaves to the
        gateway (a text job's schema, fitted from its sample). InvalidArgument refuses the job."""

    def apply_styles(self, spec: pb.JobSpec, styles: Styles) -> None:
        """Rewrites the spec's prompts with the saved styles it names (before any check)."""

    def validate(self, spec: pb.JobSpec, settings: GatewaySettings, info: ServerInfo) -> None:
        """Raises InvalidArgument naming the field of anything the servers would refuse later."""
        raise NotImplementedError

    def totals(self, spec: pb.JobSpec) -> pb.JobCounts:
        raise NotImplementedError

    def disk_bytes(self, spec: pb.JobSpec, counts: pb.JobCounts) -> int:
        """At most how many bytes the job's outputs take, the inputs it was given (still in the spec,
        which bounds them) included; checked against the free space at submit."""
        return estimate_bytes(counts, inputs=spec.ByteSize())

    def store_inputs(self, folder: JobFolder, spec: pb.JobSpec) -> None:
        """At submit, once the spec passed its checks: keeps what the job was given in its folder and
        out of the stored spec (runs off the event loop)."""

    async def run(self, run: JobRun) -> None:
        """Makes the job's missing items, recording each through `run`."""
        raise NotImplementedError

    async def finalize(self, run: JobRun) -> None:
        """Writes the job's files when it ends: by default `write_results` from the recorded rows and
        images, then job.json. A kind that records other items reads them itself."""
        await run.finalize(self.write_results, self.rows(run.job.spec) is not None)

    def write_results(self, job: pb.Job, folder: JobFolder, recorded: Recorded) -> None:
        """Writes the job's files (all but job.json) from what it recorded (runs off the event loop)."""
        raise NotImplementedError
