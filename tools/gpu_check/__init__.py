"""`make gpu-check`: the acceptance run on a GPU host. It exits non-zero when anything is wrong:

1. `environment`: torch must be a CUDA build and CUDA must answer ("CPU-only torch", "driver too old",
   "no NVIDIA driver", "CUDA unusable" otherwise: nothing else runs);
2. `families`: every image family (`--models`) under OFFLOAD=none|model|sequential with a weighted
   prompt, the OOM path through the real batcher (an injected OOM splits the batch), dtypes restored,
   and the deterministic mode (`determinism`: the same bits twice, in a child process);
3. `servers`: `synthmill up` on cuda, then a text, an image, a best-of-with-masks and a unified job,
   with each result's device and dtype checked;
4. `figures`: images/s (SD 1.5 at 512², 20 steps) and rows/s and tokens/s of a text model, written as
   JSON beside the benchmarks with the card, driver, torch and CUDA versions;
5. the `gpu`-marked tests under SYNTHMILL_REQUIRE_GPU=1, where a skip is a failure.

    python -m tools.gpu_check [--models tiny-sd,tiny-sdxl,tiny-sd3] [--skip servers,figures] ...
"""
