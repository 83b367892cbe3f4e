"""The A1111 emphasis parser: weights, nesting, escapes, and the prompts it refuses."""

import pytest

from synthmill.common.errors import InvalidArgument
from synthmill.common.prompt_syntax import Fragment, PromptSyntaxError, check, escape, parse, plain


def _pairs(prompt: str) -> list[tuple[str, float]]:
    return [(f.text, round(f.weight, 6)) for f in parse(prompt)]


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("normal text", [("normal text", 1.0)]),
        ("an (important) word", [("an ", 1.0), ("important", 1.1), (" word", 1.0)]),
        ("((word))", [("word", 1.21)]),
        ("[word]", [("word", round(1 / 1.1, 6))]),
        ("[[word]]", [("word", round(1 / 1.21, 6))]),
        ("(word:1.5)", [("word", 1.5)]),
        ("a (red:1.6) barn, (snow:0.5)", [("a ", 1.0), ("red", 1.6), (" barn, ", 1.0), ("snow", 0.5)]),
        ("(unnecessary)(parens)", [("unnecessaryparens", 1.1)]),
        (
            "((house:1.3)) [on] (hill:.5)",
            [("house", 1.43), (" ", 1.0), ("on", 0.909091), (" ", 1.0), ("hill", 0.5)],
        ),
        ("(a (b:2) c)", [("a ", 1.1), ("b", 2.2), (" c", 1.1)]),
        ("(neg:-1)", [("neg", -1.0)]),
        ("(style: ink)", [("style: ink", 1.1)]),  # a colon not directly followed by a weight is text
        ("ratio 16:9", [("ratio 16:9", 1.0)]),
        ("", [("", 1.0)]),
    ],
)
def test_weights_follow_the_webui(prompt: str, expected: list[tuple[str, float]]) -> None:
    assert _pairs(prompt) == expected


@pytest.mark.parametrize(
    ("prompt", "text"),
    [
        (r"\(literal\]", "(literal]"),
        (r"a \(b\) \[c\]", "a (b) [c]"),
        (r"back\\slash", "back\\slash"),
        (r"lone \ backslash", "lone \\ backslash"),
        ("trailing \\", "trailing \\"),
    ],
)
def test_escapes_are_literal_characters(prompt: str, text: str) -> None:
    assert parse(prompt) == [Fragment(text, 1.0)]


@pytest.mark.parametrize(
    ("prompt", "position", "words"),
    [
        ("a (red barn", 2, "'(' is never closed"),
        ("a [red barn", 2, "'[' is never closed"),
        ("a red) barn", 5, "')' closes no '('"),
        ("a red] barn", 5, "']' closes no '['"),
        ("(red:abc) barn", 5, "weight 'abc' is not a number"),
        ("(red:1.5x)", 5, "weight '1.5x' is not a number"),
        ("(red:1.2.3)", 5, "weight '1.2.3' is not a number"),
        ("(red:)", 5, "weight '' is not a number"),
        ("ok (fine) ((nested)", 10, "'(' is never closed"),
    ],
)
def test_bad_prompts_name_the_position(prompt: str, position: int, words: str) -> None:
    with pytest.raises(PromptSyntaxError) as err:
        parse(prompt)
    assert err.value.position == position
    assert words in str(err.value)


def test_check_names_the_field_the_prompt_and_the_position() -> None:
    with pytest.raises(InvalidArgument) as err:
        check("a (red barn", "images.prompts[2]")
    message = str(err.value)
    assert message.startswith("images.prompts[2]: '(' is never closed by ')' at position 2")
    assert "'a (red barn'" in message


def test_check_refuses_weights_for_sd3_only() -> None:
    assert check("a (red:1.5) barn", "p", "tiny-sd", "sd15")[1] == Fragment("red", 1.5)
    assert check(r"a \(red\) barn", "p", "tiny-sd3", "sd3") == [Fragment("a (red) barn", 1.0)]
    with pytest.raises(InvalidArgument, match=r"^p: tiny-sd3 is sd3, which does not support emphasis"):
        check("a (red:1.5) barn", "p", "tiny-sd3", "sd3")


@pytest.mark.parametrize("text", ["plain", "a (b) [c] d\\e", "((x:1.5))", "\\(", "]["])
def test_escape_round_trips_to_the_literal_text(text: str) -> None:
    assert plain(parse(escape(text))) == text
    assert all(f.weight == 1.0 for f in parse(escape(text)))
