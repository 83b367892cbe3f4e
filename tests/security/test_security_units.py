"""Security rules without servers: loopback detection, the file-serving guard, per-key limits
with an injected clock, and the store's key table."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from synthmill.common.errors import InvalidArgument, PermissionDenied, Unauthenticated
from synthmill.common.paths import BadPath, plain_name
from synthmill.common.security import ExposedWithoutAuth, ServerSecurity, check_exposure, is_loopback
from synthmill.gateway.access.keyring import ADMIN, OPEN, Keyring, Principal, hash_secret, new_secret
from synthmill.gateway.outputs.folder import JobFolder, OutsideFolder
from synthmill.gateway.store.job_store import JobStore, open_store
from synthmill.gateway.store.paging import JobFilter
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import keys_pb2


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_hosts_may_run_open(host: str) -> None:
    assert is_loopback(host)
    check_exposure("gateway", host, False, ServerSecurity(), "API keys")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "", "10.1.2.3", "gateway.example.com"])
def test_other_hosts_need_auth_or_an_explicit_allow(host: str) -> None:
    with pytest.raises(ExposedWithoutAuth, match="--allow-unauthenticated"):
        check_exposure("gateway", host, False, ServerSecurity(), "API keys")
    check_exposure("gateway", host, True, ServerSecurity(), "API keys")
    check_exposure("gateway", host, False, ServerSecurity(allow_unauthenticated=True), "API keys")


@pytest.fixture
def folder(tmp_path: Path) -> JobFolder:
    job = JobFolder(tmp_path / "out", "job1", "alice")
    (job.path / "images").mkdir(parents=True)
    (job.path / "images" / "00000.png").write_bytes(b"png")
    (job.path / "data.jsonl").write_text("{}\n")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwd").write_text("root")
    os.symlink(secret / "passwd", job.path / "leak.txt")
    os.symlink(secret, job.path / "leakdir")
    return job


def test_tenant_jobs_live_under_the_tenant_and_open_jobs_under_the_root(tmp_path: Path) -> None:
    assert JobFolder(tmp_path, "j", "alice").path == tmp_path / "alice" / "j"
    assert JobFolder(tmp_path, "j").path == tmp_path / "j"


def test_listing_skips_symbolic_links(folder: JobFolder) -> None:
    assert folder.files() == [Path("data.jsonl"), Path("images/00000.png")]


@pytest.mark.parametrize(
    "path",
    ["../job2/data.jsonl", "images/../../x", "/etc/passwd", "leak.txt", "leakdir/passwd", "", "a\\..\\b"],
)
def test_opening_a_path_outside_the_folder_is_refused(folder: JobFolder, path: str) -> None:
    with pytest.raises(OutsideFolder):
        folder.open_file(path)


def test_opening_a_file_inside_the_folder_works(folder: JobFolder) -> None:
    with folder.open_file("images/00000.png") as handle:
        assert handle.read() == b"png"
    with pytest.raises(FileNotFoundError):
        folder.open_file("images")


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "jobs.sqlite3"


async def _store(path: Path) -> JobStore:
    store = open_store(f"sqlite:///{path}", path, retry_s=5.0)
    await store.open()
    return store


async def _key(store: JobStore, name: str, **limits: int) -> tuple[str, Principal]:
    secret = new_secret()
    key = keys_pb2.ApiKey(name=name, limits=keys_pb2.KeyLimits(**limits))
    assert await store.add_key(key, hash_secret(secret))
    return secret, Principal(name, limits=keys_pb2.KeyLimits(**limits))


def test_keyring_identifies_admin_tenants_and_refuses_the_rest(store_path: Path) -> None:
    async def scenario() -> None:
        store = await _store(store_path)
        assert await Keyring(store, None).identify(None) is OPEN  # no admin key, no keys: open, as today
        keyring = Keyring(store, "admin-secret")
        assert await keyring.identify("admin-secret") is ADMIN
        with pytest.raises(Unauthenticated):
            await keyring.identify(None)
        with pytest.raises(PermissionDenied):
            await keyring.identify("admin-secreT")
        secret, _ = await _key(store, "alice")
        assert (await keyring.identify(secret)).name == "alice"
        assert (await Keyring(store, None).identify(secret)).name == "alice"  # a stored key closes it
        key = await store.get_key("alice")
        key.revoked_at.GetCurrentTime()
        await store.update_key(key)
        with pytest.raises(PermissionDenied):
            await keyring.identify(secret)
        assert not await store.add_key(keys_pb2.ApiKey(name="alice"), hash_secret(new_secret()))
        assert secret not in repr(await store.list_keys())
        await store.close()

    asyncio.run(scenario())


def test_a_store_made_before_owners_gains_the_column(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, created REAL NOT NULL, state INTEGER NOT NULL, job BLOB NOT NULL)"
        )
        db.execute("INSERT INTO jobs VALUES ('old', 1.0, 3, ?)", (pb.Job(id="old").SerializeToString(),))

    async def scenario() -> list[str]:
        store = await _store(path)
        jobs = [job.id for job in (await store.list_jobs(JobFilter(owner=""))).jobs]
        await store.close()
        return jobs

    assert asyncio.run(scenario()) == ["old"]


@pytest.mark.parametrize("path", ["a\x00b", "data.jsonl\x00", "images/\x1b[2J.png", "x\x7f", "a" * 256])
def test_control_characters_and_long_names_are_refused_before_any_file_call(
    folder: JobFolder, path: str
) -> None:
    with pytest.raises(OutsideFolder):
        folder.open_file(path)
    with pytest.raises(InvalidArgument, match=r"paths\[1\]"):
        folder.select(["data.jsonl", path])


def test_a_folder_swapped_for_a_link_after_the_listing_is_not_followed(
    folder: JobFolder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check and the open are one walk of descriptors: swapping `images` for a link to a folder
    outside makes the open fail, not read the outside file, even when the swap lands right after a
    check by path (played by a check that saw no link)."""
    monkeypatch.setattr(Path, "is_symlink", lambda self: False)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "00000.png").write_bytes(b"secret")
    os.rename(folder.path / "images", tmp_path / "moved")
    os.symlink(outside, folder.path / "images")
    with pytest.raises(OutsideFolder, match="symbolic link"):
        folder.open_file("images/00000.png")


def test_a_job_folder_that_is_itself_a_link_is_not_followed(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "data.jsonl").write_text("{}\n")
    (tmp_path / "out" / "alice").mkdir(parents=True)
    os.symlink(elsewhere, tmp_path / "out" / "alice" / "job9")
    with pytest.raises(OutsideFolder):
        JobFolder(tmp_path / "out", "job9", "alice").open_file("data.jsonl")


def test_a_planted_fifo_is_not_a_file_and_does_not_block(folder: JobFolder) -> None:
    os.mkfifo(folder.path / "pipe")
    with pytest.raises(FileNotFoundError):
        folder.open_file("pipe")


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("a.png", True),
        ("é" * 127, True),
        ("é" * 128, False),
        ("a/b.png", False),
        ("..", False),
        ("a\nb", False),
    ],
)
def test_plain_names(name: str, ok: bool) -> None:
    if ok:
        assert plain_name(name) == name
    else:
        with pytest.raises(BadPath):
            plain_name(name)
