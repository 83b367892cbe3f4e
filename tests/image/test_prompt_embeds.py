"""Prompt embeddings in process: plain prompts encode exactly as diffusers does, long ones are whole."""

from __future__ import annotations

import accelerate
import pytest
import torch

from synthmill.image.generation import loader, prompt_embeds
from synthmill.image.serving.settings import ImageSettings

# Seed 000's floorplan prompt and negative prompt, as its users send them to the WebUI API.
SEED_000_PROMPT = (
    "Simple 2D architectural floorplan with clean, black lines on a white background. The layout should "
    "include walls, rooms, and basic features like doors and windows, all drawn with clear black lines. The "
    "floorplan should be minimalistic and easy to understand, resembling the style of technical drawings or "
    "blueprints. "
)
SEED_000_NEGATIVE = (
    "colors, textures, shading, and any 3D elements. furniture, patterns, or decorative designs. Exclude any "
    "details like landscapes, people, or non-architectural elements. Keep the drawing simple, with just black "
    "lines and a white background. Round shapes"
)


@pytest.fixture(scope="module", params=["tiny-sd", "tiny-sdxl"])
def model(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> loader.LoadedModel:
    torch.set_num_threads(1)  # the CPU is shared with other test processes
    settings = ImageSettings(
        models=(request.param,), device="cpu", cache_dir=tmp_path_factory.mktemp("cache")
    )
    return loader.load(request.param, settings)


def _encoders(model: loader.LoadedModel) -> list[tuple]:
    pipe = model.pipe
    if model.family == "sdxl":
        return [(pipe.tokenizer, pipe.text_encoder), (pipe.tokenizer_2, pipe.text_encoder_2)]
    return [(pipe.tokenizer, pipe.text_encoder)]


def test_a_plain_prompt_encodes_exactly_as_the_pipeline_would(model: loader.LoadedModel) -> None:
    ours = model.prompts.inputs(["a photo of a dog", "a red car"], "blurry")
    with torch.no_grad():
        theirs = model.pipe.encode_prompt(
            prompt=["a photo of a dog", "a red car"],
            negative_prompt=["blurry"] * 2,
            device="cpu",
            num_images_per_prompt=1,
            do_classifier_free_guidance=True,
        )
    names = ["prompt_embeds", "negative_prompt_embeds"]
    if model.family == "sdxl":
        names += ["pooled_prompt_embeds", "negative_pooled_prompt_embeds"]
    for name, expected in zip(names, theirs, strict=True):
        # Ours encodes item by item, diffusers the batch at once: equal up to float noise.
        assert torch.allclose(ours[name], expected, atol=1e-5), name


def test_seed_000_prompt_and_negative_reach_the_text_encoders_untruncated(model: loader.LoadedModel) -> None:
    received: list[list[list[int]]] = [[] for _ in _encoders(model)]
    hooks = [
        encoder.register_forward_pre_hook(lambda _m, args, k=k: received[k].append(args[0][0].tolist()))
        for k, (_, encoder) in enumerate(_encoders(model))
    ]
    try:
        inputs = model.prompts.inputs([SEED_000_PROMPT], SEED_000_NEGATIVE)
    finally:
        for hook in hooks:
            hook.remove()

    for k, (tokenizer, _) in enumerate(_encoders(model)):
        specials = {tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id}
        seen = [token for chunk in received[k] for token in chunk if token not in specials]
        for text in (SEED_000_PROMPT, SEED_000_NEGATIVE):
            ids = tokenizer(text, add_special_tokens=False, truncation=False).input_ids
            assert len(ids) > 75  # longer than one CLIP window: truncation would lose its end
            assert any(seen[i : i + len(ids)] == ids for i in range(len(seen))), f"encoder {k} lost tokens"
        assert all(len(chunk) == 77 for chunk in received[k])  # each chunk fits the encoder
    chunks = model.prompts.chunks(SEED_000_PROMPT, SEED_000_NEGATIVE)
    assert chunks > 1
    assert inputs["prompt_embeds"].shape[1] == inputs["negative_prompt_embeds"].shape[1] == 77 * chunks


def test_weights_change_the_embeddings_and_escapes_are_characters(model: loader.LoadedModel) -> None:
    weighted = model.prompts.inputs(["a (red:1.6) barn, (snow:0.5)"], "")["prompt_embeds"]
    plain = model.prompts.inputs(["a red barn, snow"], "")["prompt_embeds"]
    escaped = model.prompts.inputs([r"a \(red\) barn"], "")["prompt_embeds"]
    literal = model.prompts.inputs(["a (red:1.0) barn"], "")["prompt_embeds"]

    assert weighted.shape == plain.shape
    assert (weighted - plain).abs().max() > 1e-3
    assert not torch.equal(escaped, literal)  # "\(" is the character, "(...:1.0)" is markup


def test_empty_sdxl_negative_is_zeros_as_in_diffusers(model: loader.LoadedModel) -> None:
    inputs = model.prompts.inputs(["a dog"], "")
    is_zero = not inputs["negative_prompt_embeds"].any()
    assert is_zero == bool(model.pipe.config.get("force_zeros_for_empty_prompt", False))


def test_weighted_prompts_encode_the_same_with_the_text_encoders_offloaded(model, tmp_path) -> None:
    """Sequential offload leaves the encoders' weights on the meta device, and hooks bring them onto the
    execution device for each call (model offload: on the CPU between calls). The encoder must make its
    token tensors on the execution device, not where the encoder's weights sit at load time."""
    prompt, negative = "a (red:1.6) barn, (snow:0.5)", "(blurry:1.2)"
    expected = model.prompts.inputs([prompt], negative)
    offloaded = loader.load(model.name, ImageSettings(models=(model.name,), device="cpu", cache_dir=tmp_path))
    for _, encoder in _encoders(offloaded):
        accelerate.cpu_offload(encoder, execution_device=torch.device("cpu"))
        assert encoder.device.type == "meta"  # as after enable_sequential_cpu_offload
    got = prompt_embeds.encoder_for(offloaded.pipe, offloaded.family, offloaded.device).inputs(
        [prompt], negative
    )
    assert got.keys() == expected.keys()
    for name, tensor in got.items():
        assert tensor.device == offloaded.device and torch.allclose(tensor, expected[name], atol=1e-5), name
