"""The captioner (an image-to-text model through transformers' auto classes) and the image embeddings
of the scorer, on real photographs that ship in packages.

The embedded captioner is a random-weight BLIP and the embedded scorer a random-weight CLIP (no real
weights reach these machines): these tests check the plumbing, the batching and the formats, not what
the captions say.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from photos import camera, grace_hopper, motorcycle

from synthmill.image.judging import captioner, owl, sam, scorer
from synthmill.image.judging.models import JudgingModels

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


def test_tiny_blip_captions_a_batch_like_one_image_at_a_time(cache: Path) -> None:
    model = captioner.load("tiny-blip", cache, "cpu", torch.float32, max_tokens=12)
    images = [grace_hopper(), camera(), motorcycle()]
    batch = model.caption(images)
    assert len(batch) == 3 and all(caption.strip() for caption in batch)
    assert [model.caption([image])[0] for image in images] == batch
    assert all(len(model.processor.tokenizer(c, add_special_tokens=False)["input_ids"]) <= 12 for c in batch)
    # Reloaded from its saved folder through AutoModelForImageTextToText, it says the same.
    again = captioner.load(str(cache / "models" / "tiny-blip"), cache, "cpu", torch.float32, max_tokens=12)
    assert type(again.model).__name__ == "BlipForConditionalGeneration"
    assert again.caption(images) == batch


def test_label_gives_boxes_masks_and_captions_with_either_open_detector(cache: Path) -> None:
    judges = JudgingModels(
        scorer=None,
        detector=None,
        open_detector=owl.load("tiny-grounding-dino", cache, "cpu", torch.float32, 0.0, 0.0),
        segmenter=sam.load("tiny-sam", cache, "cpu", torch.float32),
        max_best_of=1,
        max_rounds=1,
        captioner=captioner.load("tiny-blip", cache, "cpu", torch.float32, max_tokens=8),
    )
    assert judges.capabilities().annotation_kinds == ("bbox", "mask", "caption")
    assert judges.describe()["captioner"] == "tiny-blip"
    image = grace_hopper()
    [(boxes, caption)] = judges.label([image], ("tie",), ("bbox", "mask", "caption"))
    assert boxes and all(box.mask is not None and box.label == "tie" for box in boxes)
    assert caption == judges.caption([image])[0] != ""
    [(none, only_caption)] = judges.label([image], (), ("caption",))
    assert none == [] and only_caption == caption  # no detector runs for a caption alone
    [(boxes_only, no_caption)] = judges.label([image], ("tie",), ("bbox",))
    assert boxes_only and no_caption == ""


def test_embeddings_are_unit_vectors_that_find_a_copied_photo(cache: Path) -> None:
    """A copy (re-encoded as JPEG) is near 1.0 from its original; distinct photographs are further."""
    import io

    from PIL import Image

    judge = scorer.load("tiny-clip", cache, "cpu", torch.float32)
    original = grace_hopper().convert("RGB")
    buffer = io.BytesIO()
    original.save(buffer, "JPEG", quality=85)
    copy = Image.open(buffer)
    vectors = np.array(judge.embed([original, copy, camera(), motorcycle()]))
    assert vectors.shape == (4, judge.model.config.projection_dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = vectors @ vectors.T
    assert cosine[0, 1] > 0.999
    assert max(cosine[0, 2], cosine[0, 3], cosine[2, 3]) < cosine[0, 1] - 0.01


def test_the_gateways_near_duplicates_find_a_copied_photo_among_distinct_ones(cache: Path) -> None:
    """The gateway's walk (numpy) over the scorer's embeddings of real photographs and a copy."""
    import io

    from PIL import Image
    from skimage import data

    from synthmill.gateway.outputs import diversity

    judge = scorer.load("tiny-clip", cache, "cpu", torch.float32)
    original = grace_hopper().convert("RGB")
    buffer = io.BytesIO()
    original.resize((300, 351)).save(buffer, "JPEG", quality=80)  # resized and re-encoded
    photos = [camera(), original, motorcycle(), Image.open(buffer), Image.fromarray(data.astronaut())]
    embeddings = dict(enumerate(judge.embed(photos)))
    assert diversity.near_duplicates(embeddings, 0.99) == {3: 1}
    _, vectors = diversity.matrix(embeddings)
    assert 1.0 < diversity.vendi_score(vectors) < 5.0
    assert diversity.vendi_score(vectors[[1, 1, 1]]) == pytest.approx(1.0, abs=1e-6)
    assert diversity.vendi_score(np.eye(4)) == pytest.approx(4.0)
    assert diversity.mean_pairwise_distance(np.eye(3)) == pytest.approx(1.0)


def test_judges_load_on_first_use_and_only_the_ones_used() -> None:
    """On the defaults nothing but checks runs at start; each judge loads when a request needs it."""
    from synthmill.common.settings import default_cache_dir
    from synthmill.image.judging import models
    from synthmill.image.judging.lazy import Lazy
    from synthmill.image.serving.settings import ImageSettings

    judges = models.load(ImageSettings(cache_dir=default_cache_dir(), device="cpu"))
    lazy = {name: getattr(judges, name) for name in ("scorer", "detector", "segmenter", "captioner")}
    assert all(isinstance(judge, Lazy) and not judge.loaded for judge in lazy.values())
    assert judges.describe()["detector_labels"][:2] == ("person", "bicycle")  # known before it loads
    assert judges.capabilities().annotation_kinds == ("bbox", "mask", "caption")
    [(boxes, caption)] = judges.label([grace_hopper()], (), ("bbox", "caption"))
    assert caption and any(box.label == "tie" for box in boxes)
    assert [name for name, judge in lazy.items() if judge.loaded] == ["detector", "captioner"]
    again = judges.caption([grace_hopper()])
    assert again == [caption] and judges.captioner.get() is judges.captioner.get()  # loaded once, shared


def test_a_missing_lazy_judge_still_stops_the_server_at_start(tmp_path: Path) -> None:
    from synthmill.image.judging import models
    from synthmill.image.serving.settings import ImageSettings
    from synthmill.runtime.hub import ModelUnavailable

    settings = ImageSettings(
        cache_dir=tmp_path, device="cpu", detector="none", captioner=str(tmp_path / "no-such-captioner")
    )
    with pytest.raises(ModelUnavailable, match=r"SYNTHMILL_IMAGE_CAPTIONER: model .*no-such-captioner"):
        models.load(settings)  # a folder that is not there, at start, not at the first caption
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
        patch.setenv("HF_HOME", str(tmp_path / "hf"))
        offline = ImageSettings(cache_dir=tmp_path, device="cpu", detector="none", captioner="nobody/none")
        with pytest.raises(ModelUnavailable, match="SYNTHMILL_IMAGE_CAPTIONER"):
            models.load(offline)
