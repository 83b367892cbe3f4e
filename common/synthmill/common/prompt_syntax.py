"""The A1111 prompt emphasis syntax: the one parser the gateway and the image server share.

`(word)` multiplies the attention to `word` by 1.1, `((word))` by 1.1², `(word:1.5)` by 1.5 and
`[word]` divides it by 1.1; groups nest and their weights multiply. `\\(`, `\\)`, `\\[`, `\\]` and
`\\\\` are the literal characters. This follows `parse_prompt_attention` of AUTOMATIC1111's WebUI
(`modules/prompt_parser.py`), with one difference: where the WebUI silently guesses (an unclosed or
unopened bracket, a weight like `(red:1.5x)`), this parser refuses the prompt and names the position.
A colon not followed directly by a weight and `)` is ordinary text, as in the WebUI: `(style: ink)`.
`BREAK` is not special here; it reaches the model as a word.

Torch-free: the gateway refuses bad prompts at submit with it, and the image server turns prompts
into weighted fragments with it before building their embeddings.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from synthmill.common.errors import InvalidArgument

# Model families whose pipelines take plain prompt strings only: weights there are refused.
UNWEIGHTED_FAMILIES = frozenset({"sd3"})
ROUND_MULTIPLIER = 1.1
SQUARE_MULTIPLIER = 1 / 1.1
_ESCAPABLE = "()[]\\"
# What follows a colon inside round brackets when it is meant as a weight: no space, up to `)`.
_WEIGHT = re.compile(r":([^\s()\[\]:]*)\)")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)")
_SPECIAL = re.compile(r"[\\()\[\]:]")


@dataclass(frozen=True)
class Fragment:
    """A run of prompt text (markup removed, escapes resolved) and the weight it carries."""

    text: str
    weight: float


class PromptSyntaxError(ValueError):
    """A prompt the parser refuses; `position` is the 0-based character offset of the problem."""

    def __init__(self, position: int, message: str):
        super().__init__(f"{message} at position {position}")
        self.position = position


def parse(prompt: str) -> list[Fragment]:
    """The prompt's fragments with their weights; neighbours of equal weight are merged."""
    texts: list[str] = []
    weights: list[float] = []
    round_open: list[tuple[int, int]] = []  # (first fragment inside, position of the bracket)
    square_open: list[tuple[int, int]] = []

    def multiply(start: int, factor: float) -> None:
        for k in range(start, len(weights)):
            weights[k] *= factor

    i = 0
    while i < len(prompt):
        char = prompt[i]
        if char == "\\":
            following = prompt[i + 1 : i + 2]
            escaped = bool(following) and following in _ESCAPABLE
            texts.append(following if escaped else char)
            weights.append(1.0)
            i += 2 if escaped else 1
        elif char in "([":
            (round_open if char == "(" else square_open).append((len(texts), i))
            i += 1
        elif char == ":" and round_open and (match := _WEIGHT.match(prompt, i)):
            multiply(round_open.pop()[0], _weight(match.group(1), i + 1))
            i = match.end()
        elif char in ")]":
            stack = round_open if char == ")" else square_open
            if not stack:
                opening = "(" if char == ")" else "["
                raise PromptSyntaxError(i, f"'{char}' closes no '{opening}'")
            multiply(stack.pop()[0], ROUND_MULTIPLIER if char == ")" else SQUARE_MULTIPLIER)
            i += 1
        else:
            end = i + 1 if char == ":" else _end_of_text(prompt, i)
            texts.append(prompt[i:end])
            weights.append(1.0)
            i = end
    unclosed = sorted(round_open + square_open, key=lambda opened: opened[1])
    if unclosed:
        position = unclosed[0][1]
        closing = ")" if prompt[position] == "(" else "]"
        raise PromptSyntaxError(position, f"'{prompt[position]}' is never closed by '{closing}'")
    return _merged(texts, weights)


def _end_of_text(prompt: str, start: int) -> int:
    match = _SPECIAL.search(prompt, start)
    return match.start() if match else len(prompt)


def _weight(text: str, position: int) -> float:
    if not _NUMBER.fullmatch(text):
        raise PromptSyntaxError(position, f"weight {text!r} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise PromptSyntaxError(position, f"weight {text!r} is not a finite number")
    return value


def _merged(texts: list[str], weights: list[float]) -> list[Fragment]:
    fragments: list[Fragment] = []
    for text, weight in zip(texts, weights, strict=True):
        if fragments and fragments[-1].weight == weight:
            fragments[-1] = Fragment(fragments[-1].text + text, weight)
        else:
            fragments.append(Fragment(text, weight))
    return fragments or [Fragment("", 1.0)]


def is_weighted(fragments: list[Fragment]) -> bool:
    return any(fragment.weight != 1.0 for fragment in fragments)


def plain(fragments: list[Fragment]) -> str:
    """The text the model reads, markup removed."""
    return "".join(fragment.text for fragment in fragments)


def escape(text: str) -> str:
    """`text` as a prompt that means exactly these characters, with no emphasis."""
    return re.sub(r"([\\()\[\]])", r"\\\1", text)


def check(prompt: str, field: str, model: str = "", family: str = "") -> list[Fragment]:
    """The prompt's fragments; an InvalidArgument naming `field`, the prompt and the position if it
    does not parse, or if it carries weights for a model `family` that cannot take them."""
    try:
        fragments = parse(prompt)
    except PromptSyntaxError as exc:
        raise InvalidArgument(field, f"{exc} of prompt {_quote(prompt)}") from None
    if family in UNWEIGHTED_FAMILIES and is_weighted(fragments):
        raise InvalidArgument(
            field,
            f"{model} is {family}, which does not support emphasis weights: write the prompt without "
            f"(word:1.5), (word) or [word], or escape the brackets as \\( \\): {_quote(prompt)}",
        )
    return fragments


def _quote(prompt: str, limit: int = 120) -> str:
    return repr(prompt if len(prompt) <= limit else prompt[: limit - 1] + "…")
