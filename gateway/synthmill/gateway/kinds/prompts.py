"""The checks of prompts, placeholders and variation axes, shared by the kinds that render prompts,
and how saved styles rewrite those prompts."""

from __future__ import annotations

import re
from collections.abc import Sequence

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.gateway.run.plan import placeholders
from synthmill.gateway.styles import Styles, styled
from synthmill.v1 import common_pb2
from synthmill.v1 import gateway_pb2 as pb

_AXIS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_axes(axes: Sequence[pb.Axis], path: str, model: common_pb2.ModelInfo | None) -> None:
    seen = set()
    for i, axis in enumerate(axes):
        if not _AXIS_NAME.match(axis.name):
            raise InvalidArgument(f"{path}[{i}].name", f"{axis.name!r} is not a valid placeholder name")
        if axis.name in seen:
            raise InvalidArgument(f"{path}[{i}].name", f"axis {axis.name!r} is given twice")
        seen.add(axis.name)
        if not axis.values or any(not value.strip() for value in axis.values):
            raise InvalidArgument(f"{path}[{i}].values", f"axis {axis.name!r} has no values or an empty one")
        for j, value in enumerate(axis.values):
            rules.check_prompt(value, f"{path}[{i}].values[{j}]", model)


def check_prompt(
    prompt: str, path: str, known: set[str], used: set[str], model: common_pb2.ModelInfo | None
) -> None:
    """An image prompt whose placeholders name only `known` fields or axes; adds them to `used`."""
    rules.check_not_empty(prompt, path)
    rules.check_prompt(prompt, path, model)
    for name in placeholders(prompt):
        if name not in known:
            raise InvalidArgument(path, f"placeholder {{{name}}} is neither a schema field nor an axis")
        used.add(name)


def check_axes_used(axes: Sequence[pb.Axis], used: set[str], path: str) -> None:
    for i, axis in enumerate(axes):
        if axis.name not in used:
            raise InvalidArgument(f"{path}[{i}].name", f"no prompt has the placeholder {{{axis.name}}}")


def chosen_styles(part, path: str, styles: Styles) -> list[pb.Style]:
    """The styles `part.params` names, with its negative prompt and fixed prompts rewritten by them."""
    chosen = styles.resolve(part.params.styles, f"{path}.params.styles")
    if chosen:
        part.params.negative_prompt = styled(part.params.negative_prompt, chosen, "negative_prompt")
        part.prompts[:] = [styled(prompt, chosen) for prompt in part.prompts]
    return chosen
