"""The engine's torch-side parts without a server: decoding patterns, per-row sampling, dedupe, seeds."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import torch

from synthmill.common.schema import InvalidRow, parse_schema
from synthmill.common.seeds import sample_seed
from synthmill.common.uniqueness import RowDeduper
from synthmill.text import grammar, prompting
from synthmill.text.sampling import RowSampler


@pytest.mark.parametrize("year", [1999, 2000, 2023, 2024])
def test_date_pattern_spells_only_real_days(year):
    for month in range(1, 13):
        for day in range(1, 32):
            text = f"{year}-{month:02d}-{day:02d}"
            if re.fullmatch(grammar.DATE_PATTERN, text):
                dt.date.fromisoformat(text)  # every date the grammar allows is a real day
    assert re.fullmatch(grammar.DATE_PATTERN, f"{year}-02-28")
    assert not re.fullmatch(grammar.DATE_PATTERN, f"{year}-02-30")
    assert not re.fullmatch(grammar.DATE_PATTERN, f"{year}-04-31")
    assert re.fullmatch(grammar.DATETIME_PATTERN, f"{year}-12-31T23:59:59Z")
    assert not re.fullmatch(grammar.DATETIME_PATTERN, f"{year}-12-31T24:00:00")


def test_decoding_patterns_are_inside_the_strict_checks():
    schema = parse_schema({"e": "email"})
    for text in ["a@b.co", "john.smith+x@mail-host.example.org", "x1_y2@a1.b2.museum"]:
        assert re.fullmatch(grammar.EMAIL_PATTERN, text)
        schema.validate({"e": text})
    for text in ['"q"@x.com', "a@b", "a..b@x.com", "a@-x.com"]:
        with pytest.raises(InvalidRow):
            schema.validate({"e": text})


def test_decoding_schema_caps_strings_and_swaps_formats():
    schema = parse_schema(
        {"s": "string", "t": {"type": "string", "max_length": 500}, "d": "date", "c": ["x", "y"], "u": "uuid"}
    )
    props = grammar.decoding_schema(schema, max_string_length=50)["properties"]
    assert props["s"]["maxLength"] == 50 and props["t"]["maxLength"] == 500
    assert props["d"] == {"type": "string", "pattern": grammar.DATE_PATTERN}
    assert "maxLength" not in props["c"] and props["u"]["format"] == "uuid"
    assert list(props) == ["s", "t", "d", "c", "u"]


def test_decoding_schema_bounds_numbers_that_have_none():
    schema = parse_schema({"n": "int", "m": {"type": "int", "minimum": 3}, "x": "float"})
    props = grammar.decoding_schema(schema, max_string_length=50)["properties"]
    assert (props["n"]["minimum"], props["n"]["maximum"]) == (-(2**63 - 1), 2**63 - 1)
    assert (props["m"]["minimum"], props["m"]["maximum"]) == (3, 2**63 - 1)
    assert (props["x"]["minimum"], props["x"]["maximum"]) == (-1e15, 1e15)


def test_check_patterns_names_the_field():
    from synthmill.common.errors import InvalidArgument

    grammar.check_patterns(parse_schema({"a": {"type": "string", "pattern": "[A-Z]{2}[0-9]+"}}))
    for bad in [r"\bword", "(?=x)y", "(?P<n>a)"]:
        with pytest.raises(InvalidArgument) as err:
            grammar.check_patterns(parse_schema({"zip": {"type": "string", "pattern": bad}}))
        assert err.value.field == "schema.zip.pattern"


def test_row_sampler_draws_depend_only_on_the_row_seed():
    torch.manual_seed(0)
    logits = torch.randn(3, 1000)
    logits[:, 500:] = float("-inf")  # as the grammar masks them
    batched = RowSampler([11, 12, 13], temperature=1.0, top_p=0.9)
    picks = []
    for _ in range(20):
        picks.append(batched(None, logits).argmax(dim=-1))
    alone = RowSampler([12], temperature=1.0, top_p=0.9)
    alone_picks = [alone(None, logits[1:2]).argmax(dim=-1)[0] for _ in range(20)]
    assert [p[1].item() for p in picks] == [p.item() for p in alone_picks]
    assert all(p.max().item() < 500 for p in picks)  # never a masked token
    assert len({p[0].item() for p in picks}) > 5  # it does sample


def test_row_sampler_greedy_and_seed_high_bits():
    logits = torch.tensor([[0.0, 3.0, 1.0, float("-inf")]])
    out = RowSampler([1], temperature=0.0, top_p=1.0)(None, logits)
    assert out.argmax().item() == 1 and torch.isinf(out).sum().item() == 3
    # attempts of one row differ only above bit 32; their draws must still differ
    flat = torch.zeros(1, 1000)
    draws = {RowSampler([sample_seed(5, 2, a)], 1.0, 1.0)(None, flat).argmax().item() for a in range(8)}
    assert len(draws) > 4


def test_sample_seed_wraps_to_int64():
    assert sample_seed(10, 3, 0) == 13
    assert sample_seed(2**63 - 1, 1, 0) == -(2**63)
    assert sample_seed(0, 0, 1) == 2**32


def test_deduper_checks_unique_fields_then_whole_rows():
    d = RowDeduper(parse_schema({"mail": {"type": "email", "unique": True}, "n": "int"}))
    d.add({"mail": "A@x.com", "n": 1})
    assert "mail" in d.conflict({"mail": "a@X.com", "n": 2})
    assert d.conflict({"mail": "b@x.com", "n": 1}) is None
    d.add({"mail": None, "n": 5})
    assert d.conflict({"mail": None, "n": 6}) is None  # nulls are not values
    assert "whole row" in d.conflict({"mail": None, "n": 5})


def test_row_hints_follow_the_seed_and_spread():
    schema = parse_schema({"age": {"type": "int", "minimum": 18, "maximum": 90}, "tier": ["a", "b", "c"]})
    first = prompting.row_messages(schema, "shop", 0, 1)
    assert first == prompting.row_messages(schema, "shop", 0, 1)
    ages = set()
    for seed in range(40):
        text = prompting.row_messages(schema, "shop", 0, seed)[1]["content"]
        ages.add(int(re.search(r"age = (\d+)", text).group(1)))
        assert "tier = " in text
    assert len(ages) > 25 and min(ages) >= 18 and max(ages) <= 90


@pytest.mark.parametrize("seed", [0, 7, 2**63 - 3, -(2**63)])
def test_a_request_seeded_for_attempt_a_draws_the_rows_later_samples(seed: int):
    # the gateway asks for row i's next samples with seed sample_seed(seed, 0, a): the server's
    # attempt k of row i must then be attempt a + k of row i under the job's seed
    for index, drawn, k in [(0, 1, 0), (5, 3, 2), (2**32 - 1, 7, 1)]:
        assert sample_seed(sample_seed(seed, 0, drawn), index, k) == sample_seed(seed, index, drawn + k)
