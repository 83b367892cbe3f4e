"""Emphasis and long prompts on the real server: weights reach the pixels, lengths never mix."""

from __future__ import annotations

import numpy as np
import pytest
from image_helpers import generate, pixels, request

WEIGHTED = "a (red:1.6) barn, (snow:0.5)"
UNWEIGHTED = "a red barn, snow"
LONG = ", ".join(["a red barn in the snow at night with fog"] * 12)  # well over 77 tokens


@pytest.mark.parametrize("model", ["tiny-sd", "sdxl"])
def test_weights_reach_the_pixels(stub, tiny_sdxl_dir, model: str) -> None:
    name = str(tiny_sdxl_dir) if model == "sdxl" else model
    req = request([WEIGHTED, UNWEIGHTED, WEIGHTED], seeds=[5, 5, 5], steps=3, guidance=15.0, model=name)
    images = generate(stub, req).images

    weighted, unweighted, again = (pixels(images[i].png) for i in range(3))
    # Had the weights been dropped, the two would be the same embeddings, seed and batch: equal pixels,
    # as `again` shows. The random-weight models react weakly to text: 17 (tiny-sd), 9 (SDXL) measured.
    assert np.array_equal(weighted, again)
    assert np.abs(weighted - unweighted).max() > 4
    assert images[0].parameters_text.startswith(WEIGHTED + "\n")  # the prompt as written


def test_long_and_short_prompts_run_in_separate_batches_that_match_their_solo_images(stub, image_server):
    alone = generate(stub, request(["a red barn"], seeds=[9], steps=2)).images[0]

    mark = image_server.log_mark()
    images = generate(stub, request(["a red barn", LONG], seeds=[9, 10], steps=2)).images
    log = image_server.log_since(mark)

    assert (
        log.count("batch done: items=1 requests=1 model=tiny-sd") == 2
    )  # padding would change the short one
    assert np.abs(pixels(images[0].png) - pixels(alone.png)).max() <= 2
    assert images[1].parameters_text.startswith(LONG + "\n")
