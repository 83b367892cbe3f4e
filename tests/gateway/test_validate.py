"""Spec validation: every bad field is named in an InvalidArgument, at submit, as the servers would name it."""

import json

import pytest

from synthmill.common.errors import InvalidArgument
from synthmill.gateway.kinds import ServerInfo, validate_spec
from synthmill.gateway.settings import GatewaySettings
from synthmill.v1 import common_pb2, image_pb2, text_pb2
from synthmill.v1 import gateway_pb2 as pb

SETTINGS = GatewaySettings(max_rows=100, max_images=50)
INFO = image_pb2.ImageServerInfo(
    models=[
        common_pb2.ModelInfo(name="tiny-sd", is_default=True, schedulers=["Euler", "DDIM"], size_multiple=8),
        common_pb2.ModelInfo(name="tiny-sd3", family="sd3", schedulers=["Euler"], size_multiple=16),
    ],
    schedulers=["Euler", "DDIM"],
    max_size=512,
    max_steps=50,
)
TEXT_INFO = text_pb2.TextServerInfo(
    models=[common_pb2.ModelInfo(name="tiny-llama", is_default=True)], max_rows=40, max_new_tokens=512
)
SERVERS = ServerInfo(text=TEXT_INFO, image=INFO)
SCHEMA = json.dumps({"product": "string", "price": "float"})


def _images(**kwargs) -> pb.JobSpec:
    kwargs.setdefault("prompts", ["a cat"])
    return pb.JobSpec(images=pb.ImageJobSpec(**kwargs))


def _text(count: int = 3, **kwargs) -> pb.JobSpec:
    return pb.JobSpec(text=pb.TextJobSpec(schema_json=SCHEMA, count=count, **kwargs))


def _sampling(**kwargs) -> pb.JobSpec:
    return _text(sampling=common_pb2.SamplingParams(**kwargs))


NAN, INF = float("nan"), float("inf")


def _unified(**kwargs) -> pb.JobSpec:
    rows = pb.TextJobSpec(schema_json=SCHEMA, count=kwargs.pop("count", 3), model=kwargs.pop("model", ""))
    return pb.JobSpec(unified=pb.UnifiedJobSpec(rows=rows, **kwargs))


CASES = [
    (pb.JobSpec(), "spec.kind"),
    (pb.JobSpec(text=pb.TextJobSpec(schema_json=SCHEMA, count=0)), "text.count"),
    (pb.JobSpec(text=pb.TextJobSpec(schema_json=SCHEMA, count=101)), "text.count"),
    (pb.JobSpec(text=pb.TextJobSpec(schema_json="{}", count=1)), "text.schema"),
    (pb.JobSpec(text=pb.TextJobSpec(schema_json='{"a": "colour"}', count=1)), "text.schema"),
    (_images(prompts=[]), "images.prompts"),
    (_images(prompts=["ok", " "]), "images.prompts[1]"),
    (_images(count=51), "images.count"),
    (_images(params=common_pb2.ImageParams(width=100)), "images.params.width"),
    (_images(params=common_pb2.ImageParams(height=1024)), "images.params.height"),
    (_images(params=common_pb2.ImageParams(steps=51)), "images.params.steps"),
    (_images(params=common_pb2.ImageParams(scheduler="Nope")), "images.params.scheduler"),
    (_images(params=common_pb2.ImageParams(model="sdxl")), "images.params.model"),
    (_images(params=common_pb2.ImageParams(model="tiny-sd3", width=72)), "images.params.width"),
    (_images(params=common_pb2.ImageParams(model="tiny-sd3", scheduler="DDIM")), "images.params.scheduler"),
    (_images(prompts=["a {mood} cat"]), "images.prompts[0]"),
    (_images(prompts=["a {mood} cat"], axes=[pb.Axis(name="mood", values=[])]), "images.axes[0].values"),
    (_images(axes=[pb.Axis(name="mood", values=["calm"])]), "images.axes[0].name"),
    (_images(captions=[pb.Caption(id="1", caption="x")]), "images.prompts"),
    (_images(prompts=[], captions=[pb.Caption(id="1", caption="")]), "images.captions[0].caption"),
    (_images(prompts=[], expand_topic="floorplans"), "images.count"),
    (_unified(prompt_template="A {colour} {product}"), "unified.prompt_template"),
    (_unified(), "unified.prompt_template"),
    (_unified(prompt_template="A {product}", images_per_row=17), "unified.images_per_row"),
    (_unified(prompt_template="A {product}", images_per_row=16, count=4), "unified.images_per_row"),
    (pb.JobSpec(seed=-5, text=pb.TextJobSpec(schema_json=SCHEMA, count=1)), "spec.seed"),
    (_images(prompts=["ok", "a (red barn"]), "images.prompts[1]: '(' is never closed by ')' at position 2"),
    (_images(prompts=["a (red:x) barn"]), "images.prompts[0]: weight 'x' is not a number at position 7"),
    (_images(params=common_pb2.ImageParams(negative_prompt="blur]")), "images.params.negative_prompt"),
    (_images(prompts=[], captions=[pb.Caption(id="1", caption="[x")]), "images.captions[0].caption"),
    (
        _images(prompts=["a {mood} cat"], axes=[pb.Axis(name="mood", values=["calm", "(angry"])]),
        "images.axes[0].values[1]",
    ),
    (_unified(prompt_template="A ({product}"), "unified.prompt_template"),
    (
        _images(prompts=["a (red:1.6) barn"], params=common_pb2.ImageParams(model="tiny-sd3")),
        "images.prompts[0]: tiny-sd3 is sd3, which does not support emphasis weights",
    ),
    # What only the servers know, from their GetInfo: refused at submit, not by a failed job later.
    (_images(params=common_pb2.ImageParams(guidance=NAN)), "images.params.guidance"),
    (_images(params=common_pb2.ImageParams(guidance=INF)), "images.params.guidance"),
    (_images(params=common_pb2.ImageParams(guidance=-1)), "images.params.guidance"),
    (_unified(prompt_template="A {product}", params=common_pb2.ImageParams(guidance=NAN)), "unified.params"),
    (_sampling(temperature=NAN), "text.sampling.temperature"),
    (_sampling(temperature=INF), "text.sampling.temperature"),
    (_sampling(temperature=-0.5), "text.sampling.temperature"),
    (_sampling(temperature=6), "text.sampling.temperature"),
    (_sampling(top_p=NAN), "text.sampling.top_p"),
    (_sampling(top_p=-INF), "text.sampling.top_p"),
    (_sampling(top_p=-0.1), "text.sampling.top_p"),
    (_sampling(top_p=0), "text.sampling.top_p"),
    (_sampling(top_p=1.5), "text.sampling.top_p"),
    (_sampling(max_new_tokens=513), "text.sampling.max_new_tokens"),
    (_text(model="gpt-17"), "text.model"),
    (_unified(prompt_template="A {product}", model="gpt-17"), "unified.rows.model"),
    (_images(prompts=[], expand_topic="floorplans", count=41), "images.count"),
]


@pytest.mark.parametrize(("spec", "field"), CASES)
def test_bad_spec_names_the_field(spec: pb.JobSpec, field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_spec(spec, SETTINGS, SERVERS)
    assert str(err.value).startswith(field), str(err.value)


@pytest.mark.parametrize(
    "spec",
    [
        pb.JobSpec(text=pb.TextJobSpec(schema_json=SCHEMA, count=100)),
        _images(prompts=["a {mood} cat"], axes=[pb.Axis(name="mood", values=["calm", "angry"])], count=50),
        _images(prompts=[], expand_topic="floorplans", count=5),
        _images(
            params=common_pb2.ImageParams(width=512, height=256, steps=50, scheduler="DDIM", model="tiny-sd")
        ),
        _unified(prompt_template="A {product} at {time}", axes=[pb.Axis(name="time", values=["day"])]),
        _unified(prompts=["A product on white background"], images_per_row=2),
        _images(
            prompts=["a (red:1.6) barn, (snow:0.5)"], params=common_pb2.ImageParams(negative_prompt="[blur]")
        ),
        _images(prompts=[r"a \(red\) barn"], params=common_pb2.ImageParams(model="tiny-sd3")),
        _sampling(temperature=0, top_p=1, max_new_tokens=512),  # 0 is greedy decoding
        _text(model="tiny-llama"),
    ],
)
def test_good_specs_pass(spec: pb.JobSpec) -> None:
    validate_spec(spec, SETTINGS, SERVERS)


def test_without_server_info_only_the_shape_is_checked() -> None:
    """What needs no server is still refused (NaN, a size not a multiple of 8); limits are not."""
    with pytest.raises(InvalidArgument, match=r"images\.params\.guidance"):
        validate_spec(_images(params=common_pb2.ImageParams(guidance=NAN)), SETTINGS, ServerInfo())
    with pytest.raises(InvalidArgument, match=r"text\.sampling\.top_p"):
        validate_spec(_sampling(top_p=0), SETTINGS, ServerInfo())
    validate_spec(_images(params=common_pb2.ImageParams(steps=500, model="any")), SETTINGS, ServerInfo())
