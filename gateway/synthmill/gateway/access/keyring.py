"""Who is calling: an API key's secret turned into a `Principal` (a tenant, the admin, or anyone
when the gateway runs open).

Secrets are 256 random bits, so one SHA-256 is a safe thing to store and look up; the secret
itself is never stored or logged. Every call looks its key up again, so a revoked key fails at once.
The gateway runs open (as on a laptop) only while no admin key is set and no key exists.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from synthmill.common.errors import InvalidArgument, PermissionDenied, Unauthenticated
from synthmill.gateway.store.job_store import JobStore
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import keys_pb2

SECRET_PREFIX = "smk_"
ADMIN_NAME = "admin"
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


@dataclass(frozen=True)
class Principal:
    """The caller. `name` owns the jobs it submits and names its output folder ("" when open)."""

    name: str
    admin: bool = False
    limits: keys_pb2.KeyLimits | None = None

    def sees(self, job: pb.Job) -> bool:
        return self.admin or job.owner == self.name

    @property
    def owner_filter(self) -> str | None:
        """The owner to list jobs of; None lists everyone's."""
        return None if self.admin else self.name


OPEN = Principal("", admin=True)
# A caller without a key on a keyed gateway, where a method is open to one (GetHealth).
ANONYMOUS = Principal("")
ADMIN = Principal(ADMIN_NAME, admin=True)


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_name(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise InvalidArgument("name", f"{name!r} must match [a-z0-9][a-z0-9_-]* (at most 64 characters)")
    if name == ADMIN_NAME:
        raise InvalidArgument("name", f"{ADMIN_NAME!r} is the admin key's name")
    return name


class Keyring:
    """Identifies callers by their bearer secret against the admin key and the stored keys."""

    def __init__(self, store: JobStore, admin_key: str | None):
        self.store = store
        self.admin_key = admin_key

    async def is_open(self) -> bool:
        return not self.admin_key and not await self.store.has_keys()

    async def identify(self, secret: str | None) -> Principal:
        """The caller's principal; Unauthenticated without a secret, PermissionDenied for a wrong one."""
        if await self.is_open():
            return OPEN
        if not secret:
            raise Unauthenticated("an API key is required: send `authorization: Bearer <key>`")
        if self.admin_key and hmac.compare_digest(secret.encode(), self.admin_key.encode()):
            return ADMIN
        key = await self.store.key_by_hash(hash_secret(secret))
        if key is None or key.HasField("revoked_at"):
            raise PermissionDenied("the API key is not valid (unknown or revoked)")
        return Principal(key.name, limits=key.limits)
