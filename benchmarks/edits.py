"""Images from images: img2img's cost against txt2img, the image server's engine against bare diffusers
loops for img2img, inpainting and ControlNet, and the memory the derived pipelines add.

In one process, with the pipeline exactly as the image server loads it (`loader.load`):
- engine arms: `engine.generate`, the function the server's device worker runs per batch (prompt
  embeddings, per-item generators, progress callback, paste-back), on items prepared as the server
  prepares them (`inpaint.prepare`, `control_images.preprocess`);
- bare arms: what a user would write: `AutoPipelineForImage2Image.from_pipe(pipe)` (or Inpainting, or
  `StableDiffusionControlNetPipeline.from_pipe(pipe, controlnet=...)`) called with the same images,
  seeds, steps and strength.
The arms alternate round by round. Memory: RSS after a txt2img batch, then after building and running
the img2img and inpainting pipelines (`from_pipe`), and the bytes of distinct parameter tensors of the
three pipelines against txt2img's alone.

    python -m benchmarks.edits --device cpu
"""

from __future__ import annotations

import os
from typing import Any

from benchmarks import common
from benchmarks.images import bare_pipeline

NAME = "edits"
TARGETS = {"img2img_vs_txt2img": 0.6, "engine_vs_bare": 1.10, "rss": 1.15}
# --smoke: one round at the smallest sizes
SMOKE = {"images": 1, "size": 64, "steps": 2, "rounds": 1}


def _rss_mib() -> float:
    return common.mib(common.rss(os.getpid()))


def run(args) -> dict[str, Any]:
    import time

    import torch
    from diffusers import (
        AutoPipelineForImage2Image,
        AutoPipelineForInpainting,
        StableDiffusionControlNetPipeline,
    )
    from PIL import Image

    from synthmill.image.domain import Control, GenerationParams, Item
    from synthmill.image.generation import control_images, engine, inpaint, pipelines

    loaded = bare_pipeline(args.model, args.device, args.threads)
    size, n, steps = args.size, args.images, args.steps
    prompts = [f"a photo {i}" for i in range(n)]
    seeds = [args.seed + i for i in range(n)]
    init = Image.effect_mandelbrot((size, size), (-2, -1.5, 1, 1.5), 100).convert("RGB")
    mask = Image.new("L", (size, size), 0)
    mask.paste(255, (size // 4, size // 4, 3 * size // 4, 3 * size // 4))
    prepared = inpaint.prepare(init, mask, size, size, 0, False, False, 0)
    canny = control_images.preprocess(init, "canny", size, size, None, None)
    control = next(iter(loaded.controlnets), None)

    def params(task: str, controls: tuple = ()) -> GenerationParams:
        strength = None if task == "txt2img" else args.strength
        return GenerationParams(
            loaded.name, size, size, steps, 7.5, "Euler", "", task=task, strength=strength, controls=controls
        )

    def items(**extra: Any) -> list[Item]:
        return [Item(i, prompts[i], seeds[i], **extra) for i in range(n)]

    def timed(call) -> float:
        started = time.perf_counter()
        call()
        return time.perf_counter() - started

    def generators() -> list[torch.Generator]:
        return [torch.Generator(device=loaded.device).manual_seed(s) for s in seeds]

    rss_start = _rss_mib()
    engine.generate(loaded, params("txt2img"), items(), lambda _: True)
    rss_txt2img = _rss_mib()
    arms = {
        "txt2img_engine": lambda: timed(
            lambda: engine.generate(loaded, params("txt2img"), items(), lambda _: True)
        ),
        "img2img_engine": lambda: timed(
            lambda: engine.generate(loaded, params("img2img"), items(init=init), lambda _: True)
        ),
        "inpaint_engine": lambda: timed(
            lambda: engine.generate(
                loaded,
                params("inpaint"),
                items(init=prepared.image, mask=prepared.mask, paste=prepared.paste),
                lambda _: True,
            )
        ),
    }
    img2img = AutoPipelineForImage2Image.from_pipe(loaded.pipe)
    inpainting = AutoPipelineForInpainting.from_pipe(loaded.pipe)
    for pipe in (img2img, inpainting):
        pipe.set_progress_bar_config(disable=True)
    arms["img2img_bare"] = lambda: timed(
        lambda: img2img(prompt=prompts, image=[init] * n, strength=args.strength, num_inference_steps=steps,
                        guidance_scale=7.5, generator=generators())
    )  # fmt: skip
    arms["inpaint_bare"] = lambda: timed(
        lambda: inpainting(prompt=prompts, image=[prepared.image] * n, mask_image=[prepared.mask] * n,
                           strength=args.strength, width=size, height=size, num_inference_steps=steps,
                           guidance_scale=7.5, generator=generators())
    )  # fmt: skip
    if control:
        units = (Control("canny", control),)
        arms["controlnet_engine"] = lambda: timed(
            lambda: engine.generate(
                loaded, params("txt2img", units), items(controls=(canny,)), lambda _: True
            )
        )
        cn = StableDiffusionControlNetPipeline.from_pipe(loaded.pipe, controlnet=loaded.controlnets[control])
        cn.set_progress_bar_config(disable=True)
        arms["controlnet_bare"] = lambda: timed(
            lambda: cn(prompt=prompts, image=[canny] * n, width=size, height=size, num_inference_steps=steps,
                       guidance_scale=7.5, generator=generators())
        )  # fmt: skip
    for arm in arms.values():  # warm-up of every shape
        arm()
    rss_all = _rss_mib()
    rounds = common.Rounds()
    common.interleaved(args.rounds, arms, rounds)

    def unique_bytes(pipes) -> int:
        seen = {}
        for pipe in pipes:
            for module in pipe.components.values():
                if isinstance(module, torch.nn.Module):
                    for p in module.parameters():
                        seen[p.data_ptr()] = p.numel() * p.element_size()
        return sum(seen.values())

    derived = [pipelines.for_params(loaded, params(t)) for t in ("img2img", "inpaint")]
    shared = unique_bytes([loaded.pipe, *derived]) / unique_bytes([loaded.pipe])
    ratios = {
        "img2img_vs_txt2img": rounds.ratio("img2img_engine", "txt2img_engine"),
        "img2img_engine_vs_bare": rounds.ratio("img2img_engine", "img2img_bare"),
        "inpaint_engine_vs_bare": rounds.ratio("inpaint_engine", "inpaint_bare"),
    }
    if control:
        ratios["controlnet_engine_vs_bare"] = rounds.ratio("controlnet_engine", "controlnet_bare")
    return {
        "description": "img2img against txt2img at the same steps, the image server's engine against bare "
        "diffusers loops (img2img, inpainting, ControlNet), and the memory the from_pipe pipelines add",
        "machine": common.machine(),
        "params": {
            "model": args.model,
            "device": str(loaded.device),
            "images_per_batch": n,
            "size": f"{size}x{size}",
            "steps": steps,
            "strength": args.strength,
            "rounds": args.rounds,
            "controlnet": control,
        },
        "times": rounds.as_dict(),
        "ratios": ratios,
        "memory": {
            "rss_mib": {"loaded": rss_start, "after_txt2img": rss_txt2img, "after_all_tasks": rss_all},
            "rss_ratio_all_tasks_vs_txt2img": round(rss_all / rss_txt2img, 4),
            "parameter_bytes_ratio_txt2img_img2img_inpaint_vs_txt2img": round(shared, 4),
        },
        "targets": {
            "img2img / txt2img": f"<= {TARGETS['img2img_vs_txt2img']} (steps x strength ran)",
            "engine / bare": f"<= {TARGETS['engine_vs_bare']}",
            "rss all tasks / txt2img": f"<= {TARGETS['rss']}",
        },
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    r, m = result["ratios"], result["memory"]
    rows = [
        common.row(NAME, f"img2img s={result['params']['strength']} / txt2img", f"{r['img2img_vs_txt2img']['ratio_of_medians']:.3f}",
                   f"<= {TARGETS['img2img_vs_txt2img']}", r["img2img_vs_txt2img"]["ratio_of_medians"] <= TARGETS["img2img_vs_txt2img"]),
        common.row(NAME, "RSS all tasks / txt2img", f"{m['rss_ratio_all_tasks_vs_txt2img']:.3f}", f"<= {TARGETS['rss']}",
                   m["rss_ratio_all_tasks_vs_txt2img"] <= TARGETS["rss"]),
        common.row(NAME, "parameter bytes all tasks / txt2img", f"{m['parameter_bytes_ratio_txt2img_img2img_inpaint_vs_txt2img']:.3f}"),
    ]  # fmt: skip
    for key in ("img2img", "inpaint", "controlnet"):
        ratio = r.get(f"{key}_engine_vs_bare")
        if ratio:
            value = ratio["ratio_of_medians"]
            rows.append(common.row(NAME, f"{key}: engine / bare diffusers", f"{value:.3f}",
                                   f"<= {TARGETS['engine_vs_bare']}", value <= TARGETS["engine_vs_bare"]))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.parser(NAME, __doc__, "image")
    p.add_argument("--images", type=int, default=2, help="images per batch (default 2)")
    p.add_argument("--size", type=int, default=128, help="width and height (default 128)")
    p.add_argument("--steps", type=int, default=20, help="denoising steps (default 20)")
    p.add_argument(
        "--strength", type=float, default=0.5, help="img2img and inpainting strength (default 0.5)"
    )
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--seed", type=int, default=1234)
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    return common.finish(args.results_dir, NAME, result, summary(result))


if __name__ == "__main__":
    main()
