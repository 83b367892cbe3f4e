"""Jobs through a real gateway over real text and image servers (tiny models)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import grpc
import pytest
from PIL import Image

from synthmill.common.prompt_syntax import escape
from synthmill.common.schema import parse_schema
from synthmill.v1 import common_pb2, gateway_pb2_grpc
from synthmill.v1 import gateway_pb2 as pb

SMALL = common_pb2.ImageParams(width=64, height=64, steps=4)


@pytest.fixture
def gateway(gateway_factory):
    server = gateway_factory()
    with grpc.insecure_channel(server.target) as channel:
        yield gateway_pb2_grpc.GatewayStub(channel)


def run_job(stub, spec: pb.JobSpec) -> tuple[pb.Job, list[pb.JobEvent]]:
    job = stub.SubmitJob(pb.SubmitJobRequest(spec=spec), timeout=30)
    events = list(stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=300))
    return stub.GetJob(pb.GetJobRequest(job_id=job.id)), events


def test_image_job_streams_every_step_and_writes_a_dataset(gateway) -> None:
    spec = pb.JobSpec(seed=5, images=pb.ImageJobSpec(prompts=["a floorplan"], count=4, params=SMALL))
    job, events = run_job(gateway, spec)
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    stored = [e for e in events if not e.HasField("step")]
    assert [e.seq for e in stored] == list(range(1, len(stored) + 1))
    denoising = [e for e in events if e.HasField("step") and e.step.phase == common_pb2.PHASE_DENOISING]
    kinds = Counter(e.WhichOneof("event") for e in events)
    assert kinds["image"] == 4 and len(denoising) <= 16
    last_stored = 0
    for event in events:  # a step is live only: it carries the number of the stored event before it
        if event.HasField("step"):
            assert event.seq == last_stored
        last_stored = event.seq
    # Steps seen live run in order up to the last (the watcher may join late, and a watcher that lags
    # is sent only the newest step of an item).
    for index in range(4):
        mine = [
            e
            for e in events
            if e.WhichOneof("event") != "state" and getattr(e, e.WhichOneof("event")).index == index
        ]
        steps = [e.step.step for e in mine if e in denoising]
        assert steps == sorted(set(steps)) and steps[-1:] == [4]
        assert mine[-1].HasField("image")
    # Steps are never stored: a watcher that comes later gets only rows, images and states.
    replay = list(gateway.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=60))
    assert replay == stored
    assert events[-1].state.state == pb.JOB_STATE_COMPLETED
    folder = Path(job.output_dir)
    meta = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    assert [m["file_name"] for m in meta] == [f"images/{i:05d}.png" for i in range(4)]
    assert [m["seed"] for m in meta] == [5, 6, 7, 8]
    assert {m["steps"] for m in meta} == {4} and {m["model"] for m in meta} == {"tiny-sd"}
    assert {(m["device"], m["dtype"]) for m in meta} == {("cpu", "float32")}  # what made them
    image = Image.open(folder / meta[0]["file_name"])
    assert image.size == (64, 64)
    assert "Seed: 5" in image.text["parameters"]
    info = json.loads((folder / "job.json").read_text())
    assert info["state"] == "completed" and info["models"]["image"] == ["tiny-sd"]


def test_text_job_writes_valid_rows_and_the_schema(gateway) -> None:
    schema = {"customer_name": "string", "age": {"type": "int", "minimum": 18, "maximum": 90}}
    spec = pb.JobSpec(seed=1, text=pb.TextJobSpec(schema_json=json.dumps(schema), count=5))
    job, events = run_job(gateway, spec)
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    assert job.counts.rows_done == 5
    assert [e.row.index for e in events if e.HasField("row")] == [0, 1, 2, 3, 4]
    folder = Path(job.output_dir)
    normalized = parse_schema(json.loads((folder / "schema.json").read_text()))
    rows = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    assert len(rows) == 5
    for row in rows:
        normalized.validate(row)
        assert 18 <= row["age"] <= 90


@pytest.mark.parametrize(
    ("fmt", "name"),
    [(common_pb2.ROW_FORMAT_CSV, "data.csv"), (common_pb2.ROW_FORMAT_PARQUET, "data.parquet")],
)
def test_row_formats(gateway, fmt: int, name: str) -> None:
    spec = pb.JobSpec(
        seed=2, text=pb.TextJobSpec(schema_json='{"id": "int", "ok": "bool"}', count=3, format=fmt)
    )
    job, _ = run_job(gateway, spec)
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    path = Path(job.output_dir) / name
    if name.endswith(".csv"):
        assert path.read_text().splitlines()[0] == "id,ok"
        assert len(path.read_text().splitlines()) == 4
    else:
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        assert table.column_names == ["id", "ok"] and table.num_rows == 3
        assert str(table.schema.field("id").type) == "int64"


def test_unified_job_links_rows_and_images_both_ways(gateway) -> None:
    spec = pb.JobSpec(
        seed=3,
        unified=pb.UnifiedJobSpec(
            rows=pb.TextJobSpec(
                schema_json='{"product": {"type": "string", "max_length": 12}, "price": "float"}', count=3
            ),
            prompt_template="A studio photo of {product} by {light}",
            images_per_row=2,
            axes=[pb.Axis(name="light", values=["day", "night"])],
            params=SMALL,
        ),
    )
    job, _ = run_job(gateway, spec)
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    assert (job.counts.rows_done, job.counts.images_done) == (3, 6)
    folder = Path(job.output_dir)
    rows = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    meta = {m["file_name"]: m for m in map(json.loads, (folder / "metadata.jsonl").read_text().splitlines())}
    for index, row in enumerate(rows):
        assert len(row["images"]) == 2
        for name in row["images"]:
            assert (folder / name).is_file()
            assert meta[name]["row_index"] == index
            assert meta[name]["product"] == row["product"]
            # Row values are literal text: their brackets are escaped, so a stray ")" cannot break the prompt.
            product = escape(row["product"])
            assert meta[name]["prompt"] == f"A studio photo of {product} by {meta[name]['light']}"
    assert Counter(m["light"] for m in meta.values()) == {"day": 3, "night": 3}


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (
            pb.JobSpec(images=pb.ImageJobSpec(prompts=["x"], params=common_pb2.ImageParams(width=100))),
            "images.params.width",
        ),
        (
            pb.JobSpec(images=pb.ImageJobSpec(prompts=["x"], params=common_pb2.ImageParams(model="nope"))),
            "images.params.model",
        ),
        (
            pb.JobSpec(
                images=pb.ImageJobSpec(prompts=["x"], params=common_pb2.ImageParams(scheduler="nope"))
            ),
            "images.params.scheduler",
        ),
        (pb.JobSpec(text=pb.TextJobSpec(schema_json='{"a": "int"}', count=0)), "text.count"),
        (pb.JobSpec(text=pb.TextJobSpec(schema_json='{"a": "int"}', count=1, model="nope")), "text.model"),
    ],
)
def test_bad_jobs_are_rejected_with_the_field(gateway, spec: pb.JobSpec, field: str) -> None:
    with pytest.raises(grpc.RpcError) as err:
        gateway.SubmitJob(pb.SubmitJobRequest(spec=spec), timeout=30)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith(field), err.value.details()


def test_unknown_job_is_not_found(gateway) -> None:
    for call in (gateway.GetJob, gateway.CancelJob):
        with pytest.raises(grpc.RpcError) as err:
            call(
                pb.GetJobRequest(job_id="nope")
                if call is gateway.GetJob
                else pb.CancelJobRequest(job_id="nope")
            )
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        list(gateway.WatchJob(pb.WatchJobRequest(job_id="nope")))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_cancel_ends_the_job_and_keeps_finished_images(gateway) -> None:
    params = common_pb2.ImageParams(width=64, height=64, steps=50)
    spec = pb.JobSpec(seed=9, images=pb.ImageJobSpec(prompts=["a hall"], count=8, params=params))
    job = gateway.SubmitJob(pb.SubmitJobRequest(spec=spec))
    events = []
    for event in gateway.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=300):
        events.append(event)
        if event.HasField("step") and event.step.step >= 25:
            cancelled = gateway.CancelJob(pb.CancelJobRequest(job_id=job.id), timeout=60)
            break
    else:
        raise AssertionError(f"the job ended before its step 25: {events[-1]}")
    assert cancelled.state == pb.JOB_STATE_CANCELLED
    whole = list(gateway.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=60))
    # Once the cancel took effect (the CANCELLED event), nothing more happened to the job: it is the last
    # event, and the counts CancelJob returned are final. (The image server stopping its batch within a
    # step is the image tests' business: test_image_cancel.py, test_batcher.py.)
    assert [e.seq for e in whole] == list(range(1, len(whole) + 1))
    assert [e.state.state for e in whole if e.HasField("state")][-1] == pb.JOB_STATE_CANCELLED
    assert whole[-1].HasField("state")
    assert gateway.GetJob(pb.GetJobRequest(job_id=job.id)).counts == cancelled.counts
    done = cancelled.counts.images_done
    assert done < 8
    folder = Path(cancelled.output_dir)
    assert len(list((folder / "images").glob("*.png"))) == done
    assert json.loads((folder / "job.json").read_text())["state"] == "cancelled"


def test_cancel_right_after_submit_is_not_lost(gateway) -> None:
    params = common_pb2.ImageParams(width=64, height=64, steps=150)
    spec = pb.JobSpec(seed=9, images=pb.ImageJobSpec(prompts=["slow"], count=64, params=params))
    for _ in range(3):
        job = gateway.SubmitJob(pb.SubmitJobRequest(spec=spec))
        cancelled = gateway.CancelJob(pb.CancelJobRequest(job_id=job.id), timeout=60)
        assert cancelled.state == pb.JOB_STATE_CANCELLED
        assert cancelled.counts.images_done < 8


def test_watchers_resume_from_their_last_sequence_number(gateway) -> None:
    spec = pb.JobSpec(seed=4, images=pb.ImageJobSpec(prompts=["a lobby"], count=3, params=SMALL))
    job = gateway.SubmitJob(pb.SubmitJobRequest(spec=spec))
    first = []
    for event in gateway.WatchJob(pb.WatchJobRequest(job_id=job.id)):
        if not event.HasField("step"):  # live steps are not replayed
            first.append(event.seq)
        if len(first) == 3:
            break
    after = pb.WatchJobRequest(job_id=job.id, after_seq=first[-1])
    rest = [e.seq for e in gateway.WatchJob(after, timeout=300) if not e.HasField("step")]
    whole = [e.seq for e in gateway.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=60)]
    assert first + rest == whole == list(range(1, len(whole) + 1))


def test_jobs_list_and_health(gateway) -> None:
    spec = pb.JobSpec(text=pb.TextJobSpec(schema_json='{"a": "int"}', count=1))
    job, _ = run_job(gateway, spec)
    listed = gateway.ListJobs(pb.ListJobsRequest(state=pb.JOB_STATE_COMPLETED)).jobs
    assert job.id in [j.id for j in listed]
    assert job.spec.HasField("seed")
    report = gateway.GetHealth(pb.GetHealthRequest(), timeout=30)
    assert report.serving
    assert {s.name: [m.name for m in s.models] for s in report.services} == {
        "text": ["tiny-llama"],
        "image": ["tiny-sd"],
    }


def test_expanded_prompts_are_distinct_saved_and_rendered(gateway) -> None:
    spec = pb.JobSpec(
        seed=6, images=pb.ImageJobSpec(expand_topic="floorplans of small apartments", count=3, params=SMALL)
    )
    job, _ = run_job(gateway, spec)
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    folder = Path(job.output_dir)
    saved = json.loads((folder / "prompts.json").read_text())
    assert saved["topic"] == "floorplans of small apartments"
    assert len(saved["prompts"]) == len(set(saved["prompts"])) == 3
    meta = [json.loads(line) for line in (folder / "metadata.jsonl").read_text().splitlines()]
    assert [m["prompt"] for m in meta] == saved["prompts"]


def test_captions_give_one_image_each_and_keep_their_ids(gateway) -> None:
    captions = [
        pb.Caption(id="1", caption="The bus is white and red."),
        pb.Caption(id="2", caption="A brown dog."),
    ]
    spec = pb.JobSpec(seed=8, images=pb.ImageJobSpec(captions=captions, params=SMALL))
    job, _ = run_job(gateway, spec)
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    meta = [json.loads(line) for line in (Path(job.output_dir) / "metadata.jsonl").read_text().splitlines()]
    assert [(m["caption_id"], m["prompt"]) for m in meta] == [(c.id, c.caption) for c in captions]


def test_variation_axes_are_balanced_and_recorded(gateway) -> None:
    axes = [pb.Axis(name="lighting", values=["day", "night", "fog", "rain"])]
    spec = pb.JobSpec(
        seed=1, images=pb.ImageJobSpec(prompts=["a street at {lighting}"], axes=axes, count=6, params=SMALL)
    )
    job, _ = run_job(gateway, spec)
    assert job.state == pb.JOB_STATE_COMPLETED, job.error
    meta = [json.loads(line) for line in (Path(job.output_dir) / "metadata.jsonl").read_text().splitlines()]
    counts = Counter(m["lighting"] for m in meta)
    assert sorted(counts.values()) == [1, 1, 2, 2]
    assert all(m["prompt"] == f"a street at {m['lighting']}" for m in meta)


def test_a_job_folder_loads_as_a_hugging_face_imagefolder(gateway) -> None:
    import datasets

    spec = pb.JobSpec(seed=2, images=pb.ImageJobSpec(prompts=["a kitchen"], count=2, params=SMALL))
    job, _ = run_job(gateway, spec)
    loaded = datasets.load_dataset("imagefolder", data_dir=job.output_dir, split="train")
    assert loaded.num_rows == 2
    assert {"image", "prompt", "seed", "steps", "model"} <= set(loaded.column_names)
    assert sorted(loaded["seed"]) == [2, 3]
    assert loaded[0]["image"].size == (64, 64)
