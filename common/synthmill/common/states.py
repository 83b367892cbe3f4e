"""Job states that every part (gateway, client, HTTP face) reads the same way."""

from __future__ import annotations

from synthmill.v1 import gateway_pb2 as pb

# A job in one of these states never changes again.
TERMINAL_STATES = frozenset({pb.JOB_STATE_COMPLETED, pb.JOB_STATE_FAILED, pb.JOB_STATE_CANCELLED})
