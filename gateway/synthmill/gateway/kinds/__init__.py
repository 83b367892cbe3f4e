"""The job kinds, and the one place that tells which kind a spec is.

Adding a kind: its message in `JobSpec`'s `kind` oneof (gateway.proto), one module here with a
`JobKind` subclass, and its entry in `KINDS`. See docs/architecture.md.
"""

from __future__ import annotations

from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import INT64_MAX
from synthmill.gateway.kinds.annotate import Annotate
from synthmill.gateway.kinds.augment import Augment
from synthmill.gateway.kinds.base import JobKind, ServerInfo
from synthmill.gateway.kinds.images import Images
from synthmill.gateway.kinds.tables import TablesKind
from synthmill.gateway.kinds.text import Text
from synthmill.gateway.kinds.unified import Unified
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.styles import Styles
from synthmill.v1 import gateway_pb2 as pb

__all__ = ["KINDS", "JobKind", "ServerInfo", "apply_styles", "kind_of", "validate_spec"]

KINDS: dict[str, JobKind] = {
    kind.name: kind for kind in (Text(), Images(), Unified(), Annotate(), TablesKind(), Augment())
}


def kind_of(spec: pb.JobSpec) -> JobKind:
    """The kind of `spec`; INVALID_ARGUMENT naming `spec.kind` when it has none."""
    name = spec.WhichOneof("kind")
    if name is None:
        raise InvalidArgument("spec.kind", f"one of {', '.join(KINDS)} is required")
    return KINDS[name]


def validate_spec(spec: pb.JobSpec, settings: GatewaySettings, info: ServerInfo) -> None:
    """Everything the gateway checks of a spec at submit: the job's own fields, then its kind's."""
    kind = kind_of(spec)
    if spec.HasField("seed") and spec.seed < -1:
        raise InvalidArgument("spec.seed", f"{spec.seed} is negative (use -1 for a random seed)")
    kind.validate(spec, settings, info)
    counts = kind.totals(spec)
    items = max(counts.rows_total, counts.images_total)
    if spec.HasField("seed") and items and spec.seed + items - 1 > INT64_MAX:
        raise InvalidArgument(
            "spec.seed",
            f"{spec.seed}: item i uses seed + i, and {items} items pass {INT64_MAX}; "
            f"the largest seed for this job is {INT64_MAX - items + 1}",
        )


def apply_styles(spec: pb.JobSpec, styles: Styles) -> None:
    """Rewrites the spec's prompts with the saved styles it names; InvalidArgument for an unknown one."""
    kind_of(spec).apply_styles(spec, styles)
