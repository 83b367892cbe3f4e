"""Pages of job listings: what to list (`JobFilter`), how many (`page_size`), and where the next page
starts (`Cursor`, sent to clients as an opaque `page_token`).

A page is a keyset on (created, id), newest first: the next page holds the jobs that sort after the
last one shown, so jobs submitted meanwhile (which sort first) never shift a page or repeat a job,
and any page costs one index range scan however deep it is.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from synthmill.common.errors import InvalidArgument
from synthmill.common.pages import DEFAULT_PAGE, MAX_PAGE
from synthmill.v1 import gateway_pb2 as pb

KINDS = tuple(field.name for field in pb.JobSpec.DESCRIPTOR.oneofs_by_name["kind"].fields)


@dataclass(frozen=True)
class JobFilter:
    """Which jobs: `state` 0 is any; `owner` None is every tenant's; `kind` "" is every kind;
    `created_after` (inclusive) and `created_before` (exclusive) in epoch seconds."""

    state: int = 0
    owner: str | None = None
    kind: str = ""
    created_after: float | None = None
    created_before: float | None = None


EVERY_JOB = JobFilter()


@dataclass(frozen=True)
class Cursor:
    """The (created, id) of the last job of a page: the next page starts after it."""

    created: float
    id: str

    def token(self) -> str:
        text = json.dumps([self.created, self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def parse(cls, token: str, field: str = "page_token") -> Cursor:
        try:
            created, job_id = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if not isinstance(job_id, str) or isinstance(created, bool):
                raise TypeError(job_id)
            return cls(float(created), job_id)
        except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
            raise InvalidArgument(field, "is not a token from a previous page") from None


@dataclass(frozen=True)
class Page:
    jobs: list[pb.Job]
    next: Cursor | None  # None on the last page


def page_size(size: int, field: str = "page_size") -> int:
    """`size` jobs, DEFAULT_PAGE for 0; INVALID_ARGUMENT over MAX_PAGE."""
    if size > MAX_PAGE:
        raise InvalidArgument(field, f"{size} is more than {MAX_PAGE} jobs a page")
    return size or DEFAULT_PAGE


def from_request(request: pb.ListJobsRequest, owner: str | None) -> tuple[JobFilter, int, Cursor | None]:
    """The filter, page size and cursor a ListJobs request asks for (`limit` is the old name of
    `page_size`), refusing a bad field by name."""
    if request.kind and request.kind not in KINDS:
        raise InvalidArgument("kind", f"{request.kind!r} is not one of {', '.join(KINDS)}")
    size = page_size(request.page_size) if request.page_size else page_size(request.limit, "limit")
    where = JobFilter(
        state=request.state,
        owner=owner,
        kind=request.kind,
        created_after=_seconds(request, "created_after"),
        created_before=_seconds(request, "created_before"),
    )
    return where, size, Cursor.parse(request.page_token) if request.page_token else None


def _seconds(request: pb.ListJobsRequest, field: str) -> float | None:
    return getattr(request, field).ToNanoseconds() / 1e9 if request.HasField(field) else None
