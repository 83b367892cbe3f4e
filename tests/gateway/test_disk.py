"""Free disk space, on a real gateway whose output root is a small tmpfs (the tests run as root, as CI
does): a job larger than the free space is refused at submit naming the bytes needed and free; a job
that runs out of space half-way fails with "no space left", keeping the images it wrote."""

from __future__ import annotations

import errno
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from PIL import Image

from synthmill.client import Client, image_job, unified_job
from synthmill.client.errors import SynthmillError
from synthmill.common.errors import ResourceExhausted
from synthmill.gateway.disk import DiskCheck
from synthmill.gateway.kinds import kind_of
from synthmill.v1 import gateway_pb2 as pb


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs, unmounted at the end."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _fill_up(mount: Path) -> None:
    """Writes a file until the disk is full."""
    with open(mount / "filler", "wb", buffering=0) as filler:
        try:
            while True:
                filler.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def _estimate(spec: pb.JobSpec) -> int:
    kind = kind_of(spec)
    return kind.disk_bytes(spec, kind.totals(spec))


def test_the_estimate_counts_pixels_candidates_rows_and_inputs() -> None:
    spec = image_job(["x"], 10, width=64, height=32, best_of=3, keep_candidates=True)
    assert _estimate(spec) == spec.ByteSize() + 10 * (2048 + 3 * 64 * 32 * 3)
    spec = image_job(["x"], 2)  # the server's default size counts as 512x512
    assert _estimate(spec) == spec.ByteSize() + 2 * (2048 + 512 * 512 * 3)
    spec = unified_job({"name": "string"}, 3, prompt_template="{name}", images_per_row=2, width=64, height=64)
    assert _estimate(spec) == spec.ByteSize() + 3 * 1024 + 6 * (2048 + 64 * 64 * 3)
    spec = pb.JobSpec(text=pb.TextJobSpec(count=100))
    assert _estimate(spec) == spec.ByteSize() + 100 * 1024
    given = pb.InputImage(file_name="a.png", data=b"x" * 5000)  # inputs count as the spec that holds them
    spec = pb.JobSpec(annotate=pb.AnnotateJobSpec(images=[given]))
    needed = _estimate(spec)
    assert needed == spec.ByteSize() + 2048 and spec.ByteSize() > 5000
    DiskCheck(Path("/"), free=lambda _: needed).check(needed)  # exactly fits
    with pytest.raises(
        ResourceExhausted,
        match=rf"^disk: the job needs up to {needed:,} bytes under /, and {needed - 1:,} bytes are free$",
    ):
        DiskCheck(Path("/"), free=lambda _: needed - 1).check(needed)


@pytest.mark.e2e
def test_refused_at_submit_or_failed_cleanly_when_the_disk_fills(
    small_disk: Path, gateway_factory, tmp_path: Path
) -> None:
    env = {"SYNTHMILL_GATEWAY_DB_URL": f"sqlite:///{tmp_path / 'jobs.sqlite3'}"}  # the store elsewhere
    gateway = gateway_factory(env, output_dir=small_disk)
    with Client(gateway.target, timeout=60) as client:
        with pytest.raises(SynthmillError) as refused:
            client.submit(image_job(["a room"], 64, width=256, height=256, steps=1))
        assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        said = re.fullmatch(
            rf"disk: the job needs up to ([\d,]+) bytes under {small_disk}, and ([\d,]+) bytes are free",
            refused.value.details,
        )
        needed, free = (int(n.replace(",", "")) for n in said.groups())
        assert 64 * (2048 + 256 * 256 * 3) < needed < 64 * (2048 + 256 * 256 * 3) + 1000  # + the spec
        assert 0 < free <= 4 << 20
        assert client.list() == [] and sorted(p.name for p in small_disk.iterdir()) == []

        job = client.submit(image_job(["a room"], 24, width=64, height=64, steps=12))
        events = client.watch(job.id)
        first = next(e for e in events if e.HasField("image"))
        _fill_up(small_disk)  # another program fills the disk while the job runs
        for _ in events:
            pass
        failed = client.get(job.id)
    assert failed.state == pb.JOB_STATE_FAILED
    assert failed.error.startswith("no space left on device writing "), failed.error
    assert 0 < failed.counts.images_done < 24
    folder = Path(failed.output_dir)
    kept = sorted((folder / "images").glob("*.png"))
    assert folder / "images" / f"{first.image.index:05d}.png" in kept
    for png in kept:  # every image kept is whole
        with Image.open(png) as image:
            image.load()
    assert not list(folder.rglob(".*.tmp"))  # no half-written file is left
