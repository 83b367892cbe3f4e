"""The one place the gateway reads which kind a job spec is: the name of its `kind` oneof field.
`kinds.kind_of` turns the name into the kind's module; the store keeps the name as a listing column."""

from __future__ import annotations

from synthmill.v1 import gateway_pb2 as pb


def kind_name(spec: pb.JobSpec) -> str:
    """`text`, `images`, ...; empty for a spec with no kind."""
    return spec.WhichOneof("kind") or ""
