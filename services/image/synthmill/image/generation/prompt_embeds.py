"""Weighted, unabridged prompt embeddings for SD 1.5/2.x and SDXL, built with compel. Torch only.

A prompt is parsed by the shared A1111 parser (`synthmill.common.prompt_syntax`) into fragments
with weights, and compel turns those into the text encoder's embeddings with each token scaled by
its weight (weights below 1 blend towards the prompt without the fragment). Prompts longer than
the encoder's 75 tokens are not truncated: as in the A1111 WebUI they are cut into chunks of 75
(at a comma or full stop where one is near the end), each chunk is encoded on its own between
start and end tokens, and the chunks' embeddings are joined. The prompts and the negative prompt
of a batch are then padded with the empty prompt's embedding to one length, as the WebUI does.

SDXL runs both encoders this way (their penultimate hidden states, joined per token) and takes
its pooled embedding from the second encoder over the first 77 tokens of the plain text. SD3
pipelines get plain strings: weights are refused for them at the door, and the pipeline itself
reads 77 tokens with its CLIP encoders and `max_sequence_length` (256) with T5.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from compel import Compel, ReturnedEmbeddingsType
from compel.embeddings_provider import SplitLongTextMode
from compel.prompt_parser import FlattenedPrompt
from diffusers import DiffusionPipeline

from synthmill.common import prompt_syntax

# A1111 cuts long prompts at the last comma of a chunk; compel's PHRASES mode cuts at , . ; or :
_SPLIT = SplitLongTextMode.PHRASES


class _RunsOn:
    """A text encoder as compel should see it: on the device where it runs. compel (2.x) makes its token
    tensors on `text_encoder.device` and moves its result there (embeddings_provider.py lines 82 and
    273), and under offload that is where the weights wait between calls: the CPU under model offload,
    `meta` under sequential offload. Everything else is the encoder's own."""

    def __init__(self, encoder: torch.nn.Module, device: torch.device):
        self._encoder = encoder
        self.device = device

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._encoder(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._encoder, name)


class _Encoder:
    """One text encoder behind compel, without truncation; `device` is where the encoder runs."""

    def __init__(
        self,
        tokenizer: Any,
        text_encoder: Any,
        kind: ReturnedEmbeddingsType,
        device: torch.device,
        pooled: bool = False,
    ):
        self.compel = Compel(
            tokenizer=tokenizer,
            text_encoder=_RunsOn(text_encoder, device),
            truncate_long_prompts=False,
            returned_embeddings_type=kind,
            requires_pooled=pooled,
            split_long_text_mode=_SPLIT,
            dtype_for_device_getter=lambda _device: text_encoder.dtype,
        )
        self.provider = self.compel.conditioning_provider

    def chunks(self, fragments: list[prompt_syntax.Fragment]) -> int:
        ids, _, _ = self.provider.get_token_ids_and_expand_weights(
            [f.text for f in fragments], [f.weight for f in fragments], device="cpu"
        )
        return len(ids) // self.provider.max_token_count

    def embeds(self, fragments: list[prompt_syntax.Fragment]) -> torch.Tensor:
        """(1, chunks * 77, width)."""
        prompt = FlattenedPrompt([(f.text, f.weight) for f in fragments])
        (embeds, _tokens), _ = self.compel.build_conditioning_tensor_for_prompt_object(prompt)
        return embeds

    def padded(self, embeds: torch.Tensor, tokens: int) -> torch.Tensor:
        """`embeds` followed by empty-prompt chunks up to `tokens` tokens."""
        empty = self.provider.empty_z.to(embeds.device, embeds.dtype)
        repeats = (tokens - embeds.shape[1]) // empty.shape[1]
        return torch.cat([embeds, *[empty] * repeats], dim=1)

    def pooled(self, text: str) -> torch.Tensor:
        return self.provider.get_pooled_embeddings([text])


class PromptEncoder:
    """Pipeline inputs (`prompt_embeds`, `negative_prompt_embeds`, pooled for SDXL) for a batch."""

    def __init__(self, pipe: DiffusionPipeline, family: str, device: torch.device):
        self.family = family
        self.force_zeros = family == "sdxl" and bool(
            getattr(pipe.config, "force_zeros_for_empty_prompt", False)
        )
        if family == "sdxl":
            hidden = ReturnedEmbeddingsType.PENULTIMATE_HIDDEN_STATES_NON_NORMALIZED
            self.encoders = [
                _Encoder(pipe.tokenizer, pipe.text_encoder, hidden, device),
                _Encoder(pipe.tokenizer_2, pipe.text_encoder_2, hidden, device, pooled=True),
            ]
        else:
            self.encoders = [
                _Encoder(
                    pipe.tokenizer,
                    pipe.text_encoder,
                    ReturnedEmbeddingsType.LAST_HIDDEN_STATES_NORMALIZED,
                    device,
                )
            ]

    def chunks(self, prompt: str, negative: str) -> int:
        """How many 77-token chunks an image with this prompt and negative is conditioned on.

        Only images with equal counts share a batch, so padding never changes an image."""
        return max(
            encoder.chunks(prompt_syntax.parse(text))
            for encoder in self.encoders
            for text in (prompt, negative)
        )

    @torch.no_grad()
    def inputs(self, prompts: Sequence[str], negative: str) -> dict[str, torch.Tensor]:
        parsed = [prompt_syntax.parse(prompt) for prompt in prompts]
        negative_parsed = prompt_syntax.parse(negative)
        per_encoder = [
            [encoder.embeds(fragments) for fragments in [*parsed, negative_parsed]]
            for encoder in self.encoders
        ]
        tokens = max(embeds.shape[1] for embeds_list in per_encoder for embeds in embeds_list)
        joined = torch.cat(
            [
                torch.cat([encoder.padded(embeds, tokens) for embeds in embeds_list])
                for encoder, embeds_list in zip(self.encoders, per_encoder, strict=True)
            ],
            dim=-1,
        )  # (len(prompts) + 1, tokens, width of all encoders)
        positive, negative_embeds = joined[:-1], joined[-1:].expand(len(prompts), -1, -1)
        zero_negative = self.force_zeros and not negative
        inputs = {
            "prompt_embeds": positive,
            "negative_prompt_embeds": torch.zeros_like(negative_embeds) if zero_negative else negative_embeds,
        }
        if self.family == "sdxl":
            pooled = self.encoders[1].pooled
            negative_pooled = pooled(prompt_syntax.plain(negative_parsed)).expand(len(prompts), -1)
            inputs["pooled_prompt_embeds"] = torch.cat([pooled(prompt_syntax.plain(p)) for p in parsed])
            inputs["negative_pooled_prompt_embeds"] = (
                torch.zeros_like(negative_pooled) if zero_negative else negative_pooled
            )
        return inputs


def encoder_for(pipe: DiffusionPipeline, family: str, device: torch.device) -> PromptEncoder | None:
    """The weighted encoder of a pipeline that runs on `device` (under offload too); None for SD3,
    which takes plain prompt strings."""
    return None if family in prompt_syntax.UNWEIGHTED_FAMILIES else PromptEncoder(pipe, family, device)


def plain_inputs(prompts: Sequence[str], negative: str) -> dict[str, Any]:
    """Prompt strings with escapes resolved, for pipelines that encode their prompts themselves."""
    return {
        "prompt": [prompt_syntax.plain(prompt_syntax.parse(prompt)) for prompt in prompts],
        "negative_prompt": [prompt_syntax.plain(prompt_syntax.parse(negative))] * len(prompts)
        if negative
        else None,
    }
