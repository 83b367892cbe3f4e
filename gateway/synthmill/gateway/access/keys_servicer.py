"""The Keys gRPC service: make, list and revoke API keys. The interceptor admits only the admin key."""

from __future__ import annotations

from synthmill.common.errors import AlreadyExists, NotFound
from synthmill.gateway.access.audit import audit
from synthmill.gateway.access.auth import caller
from synthmill.gateway.access.keyring import check_name, hash_secret, new_secret
from synthmill.gateway.store.job_store import JobStore
from synthmill.v1 import keys_pb2 as pb
from synthmill.v1 import keys_pb2_grpc


class KeysServicer(keys_pb2_grpc.KeysServicer):
    def __init__(self, store: JobStore):
        self.store = store

    async def CreateKey(self, request: pb.CreateKeyRequest, context) -> pb.CreateKeyResponse:
        key = pb.ApiKey(name=check_name(request.name), limits=request.limits)
        key.created_at.GetCurrentTime()
        secret = new_secret()
        if not await self.store.add_key(key, hash_secret(secret)):
            raise AlreadyExists(f"name: a key named {key.name!r} exists")
        audit("key_created", who=caller().name, key=key.name)
        return pb.CreateKeyResponse(key=key, secret=secret)

    async def ListKeys(self, request: pb.ListKeysRequest, context) -> pb.ListKeysResponse:
        return pb.ListKeysResponse(keys=await self.store.list_keys())

    async def RevokeKey(self, request: pb.RevokeKeyRequest, context) -> pb.ApiKey:
        key = await self.store.get_key(request.name)
        if key is None:
            raise NotFound(f"name: no key {request.name!r}")
        if not key.HasField("revoked_at"):
            key.revoked_at.GetCurrentTime()
            await self.store.update_key(key)
            audit("key_revoked", who=caller().name, key=key.name)
        return key
