"""JobSpecs from Python values, and the CLI's flag → JobSpec mapping (pure functions, no I/O but files).

    text_job({"age": "int"}, 100, format="csv", seed=7)
    image_job("A floorplan, {lighting}", 8, size="512x512", vary={"lighting": ["day", "night"]})
    unified_job({"product": "string"}, 10, prompt_template="A photo of {product}", images_per_row=2)

Only what is about reading the user's files is checked here (a missing file, text that is not JSON);
every semantic rule (sizes, counts, models, schema types) is the gateway's, so the CLI shows its message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from synthmill.common.rules import IMAGE_SUFFIXES
from synthmill.v1 import common_pb2, gateway_pb2

FORMATS = {
    "jsonl": common_pb2.ROW_FORMAT_JSONL,
    "json": common_pb2.ROW_FORMAT_JSON,
    "csv": common_pb2.ROW_FORMAT_CSV,
    "parquet": common_pb2.ROW_FORMAT_PARQUET,
}

Size = tuple[int, int] | str | None
Axes = Mapping[str, Sequence[str]] | Iterable[tuple[str, Sequence[str]]] | None


class SpecError(ValueError):
    """A flag or a file the user named cannot be read; the message says which."""


# ---------------------------------------------------------------------------------------------- values


def parse_size(text: str) -> tuple[int, int]:
    """`"512x768"` → `(512, 768)`; a single number is square. Multiples of 8 are the server's check."""
    parts = text.lower().replace("×", "x").split("x")
    try:
        if len(parts) == 1:
            return int(parts[0]), int(parts[0])
        if len(parts) == 2:
            return int(parts[0]), int(parts[1])
    except ValueError:
        pass
    raise SpecError(f"--size: expected WIDTHxHEIGHT such as 512x512, got {text!r}")


def parse_axis(text: str) -> tuple[str, list[str]]:
    """`"lighting=day,night,fog"` → `("lighting", ["day", "night", "fog"])`."""
    name, sep, values = text.partition("=")
    if not sep or not name.strip():
        raise SpecError(f"--vary: expected AXIS=v1,v2,..., got {text!r}")
    return name.strip(), [v.strip() for v in values.split(",") if v.strip()]


def _read(path: str | Path, flag: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"{flag}: cannot read {path}: {exc.strerror or exc}") from None


def _json(text: str, flag: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"{flag}: {where} is not JSON: {exc}") from None


def load_schema(value: str | Mapping[str, Any]) -> str:
    """A schema as the JSON text the gateway takes, from a dict, a JSON string or `@path`."""
    if isinstance(value, Mapping):
        return json.dumps(value)
    if value.startswith("@"):
        text = _read(value[1:], "--schema")
        _json(text, "--schema", value[1:])
        return text.strip()
    _json(value, "--schema", "the value")
    return value


def read_prompts_file(path: str | Path) -> list[str]:
    """One prompt per non-blank line."""
    return [line.strip() for line in _read(path, "--prompts-file").splitlines() if line.strip()]


def read_captions(path: str | Path) -> list[gateway_pb2.Caption]:
    """A JSON list of `{"id": ..., "caption": ...}` objects, as in SynthVLM's captions files."""
    data = _json(_read(path, "--captions"), "--captions", str(path))
    if not isinstance(data, list) or not all(isinstance(item, Mapping) for item in data):
        raise SpecError(f'--captions: {path} must be a JSON list of {{"id": ..., "caption": ...}} objects')
    return [make_caption(item) for item in data]


def make_caption(item: Mapping[str, Any] | gateway_pb2.Caption) -> gateway_pb2.Caption:
    if isinstance(item, gateway_pb2.Caption):
        return item
    raw_id = item.get("id", "")
    return gateway_pb2.Caption(
        id="" if raw_id is None else str(raw_id), caption=str(item.get("caption") or "")
    )


def make_axes(axes: Axes) -> list[gateway_pb2.Axis]:
    pairs = axes.items() if isinstance(axes, Mapping) else (axes or [])
    return [gateway_pb2.Axis(name=name, values=list(values)) for name, values in pairs]


# ---------------------------------------------------------------------------------------------- builders


def image_params(
    *,
    model: str = "",
    size: Size = None,
    width: int = 0,
    height: int = 0,
    steps: int = 0,
    guidance: float | None = None,
    scheduler: str = "",
    negative: str = "",
    best_of: int | None = None,
    keep_candidates: bool = False,
    min_score: float = 0.0,
    annotations: Sequence[str] = (),
    labels: Sequence[str] = (),
    styles: Sequence[str] = (),
    strength: float | None = None,
    mask_blur: int = 0,
    inpaint_full_res: bool = False,
    inpaint_full_res_padding: int = 0,
    mask_invert: bool = False,
    mask_labels: Sequence[str] = (),
    controls: Sequence[common_pb2.ControlUnit | Mapping[str, Any]] = (),
) -> common_pb2.ImageParams:
    """ImageParams; zero/empty values leave the server's defaults. `best_of` keeps the best of N
    candidates by CLIPScore; `annotations=["bbox"]` labels every kept image (`["bbox", "mask"]` adds
    instance masks; `labels` for an open-vocabulary detector); `styles` name saved styles. From an
    init image: `strength` in (0, 1], and for inpainting `mask_blur`, `inpaint_full_res` (with its
    padding) and `mask_invert`, or `mask_labels` (Edit Anything: the objects to repaint);
    `controls` are ControlNet units (`{"kind": "canny", "scale": 0.8}`)."""
    if size is not None:
        width, height = parse_size(size) if isinstance(size, str) else size
    params = common_pb2.ImageParams(
        model=model or "",
        width=width or 0,
        height=height or 0,
        steps=steps or 0,
        scheduler=scheduler or "",
        negative_prompt=negative or "",
        keep_candidates=keep_candidates,
        min_score=min_score or 0.0,
        annotations=list(annotations),
        labels=list(labels),
        styles=list(styles),
    )
    if guidance is not None:
        params.guidance = guidance
    if best_of is not None:
        params.best_of = best_of
    if strength is not None:
        params.strength = strength
    params.mask_blur, params.inpaint_full_res = mask_blur or 0, inpaint_full_res
    params.inpaint_full_res_padding, params.mask_invert = inpaint_full_res_padding or 0, mask_invert
    params.mask_labels.extend(mask_labels)
    params.controls.extend(
        unit if isinstance(unit, common_pb2.ControlUnit) else common_pb2.ControlUnit(**unit)
        for unit in controls
    )
    return params


def row_format(name: str) -> int:
    """The RowFormat of `--format` NAME."""
    if name not in FORMATS:
        raise SpecError(f"--format: expected one of {', '.join(FORMATS)}, got {name!r}")
    return FORMATS[name]


def sampling_params(
    temperature: float | None = None, top_p: float | None = None, max_new_tokens: int = 0
) -> common_pb2.SamplingParams:
    params = common_pb2.SamplingParams(max_new_tokens=max_new_tokens or 0)
    if temperature is not None:
        params.temperature = temperature
    if top_p is not None:
        params.top_p = top_p
    return params


def fit_sample(
    source: str | Path | bytes,
    *,
    format: str = "",
    min_count: int = 0,
    keep_rare: bool = False,
    holdout: float | None = None,
    fail_under: str | Mapping[str, float] = "",
) -> gateway_pb2.FitSample:
    """A sample for the gateway to fit (`--like`): a file (its format from its name: csv, jsonl,
    parquet) or the bytes themselves (csv unless `format` says otherwise), the fit's options, and the
    report's thresholds ("quality=0.85,dcr=0.6")."""
    from synthmill.common.fit import thresholds
    from synthmill.common.fit.sample import format_of

    if isinstance(source, bytes):
        data = source
    else:
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise SpecError(f"--like: cannot read {source}: {exc.strerror or exc}") from None
        format = format or format_of(str(source))
    minimums = thresholds.parse(fail_under, "--fail-under") if isinstance(fail_under, str) else fail_under
    sample = gateway_pb2.FitSample(
        data=data, format=format, min_count=min_count, keep_rare=keep_rare, fail_under=minimums
    )
    if holdout is not None:
        sample.holdout = holdout
    return sample


def text_spec(
    schema: str | Mapping[str, Any] | None,
    n: int,
    *,
    like: gateway_pb2.FitSample | None = None,
    format: str = "jsonl",
    instructions: str = "",
    model: str = "",
    temperature: float | None = None,
    top_p: float | None = None,
    max_new_tokens: int = 0,
) -> gateway_pb2.TextJobSpec:
    return gateway_pb2.TextJobSpec(
        schema_json=load_schema(schema) if schema is not None else "",
        like=like,
        count=n,
        instructions=instructions or "",
        format=row_format(format),
        model=model or "",
        sampling=sampling_params(temperature, top_p, max_new_tokens),
    )


def _job(seed: int | None, **kind: Any) -> gateway_pb2.JobSpec:
    spec = gateway_pb2.JobSpec(**kind)
    if seed is not None:
        spec.seed = seed
    return spec


def text_job(
    schema: str | Mapping[str, Any] | None, n: int, *, seed: int | None = None, **options: Any
) -> gateway_pb2.JobSpec:
    """Rows: `schema` is a dict, JSON text or `@path` (None with `like=fit_sample(path)`: the gateway
    fits the sample); options are `text_spec`'s."""
    return _job(seed, text=text_spec(schema, n, **options))


def tables_job(
    schema: str | Mapping[str, Any],
    *,
    scale: int = 1,
    format: str = "jsonl",
    instructions: str = "",
    model: str = "",
    seed: int | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    max_new_tokens: int = 0,
) -> gateway_pb2.JobSpec:
    """Several tables: `schema` is `{"tables": {...}}` as a dict, JSON text or `@path`; `scale`
    multiplies the rows of every table without a parent."""
    tables = gateway_pb2.TablesJobSpec(
        schema_json=load_schema(schema),
        scale=scale,
        instructions=instructions or "",
        format=row_format(format),
        model=model or "",
        sampling=sampling_params(temperature, top_p, max_new_tokens),
    )
    return _job(seed, tables=tables)


def image_job(
    prompts: str | Sequence[str] = (),
    n: int = 0,
    *,
    captions: Iterable[Mapping[str, Any] | gateway_pb2.Caption] = (),
    expand_topic: str = "",
    vary: Axes = None,
    seed: int | None = None,
    init_image: Any = None,
    mask: Any = None,
    control_images: Sequence[Any] = (),
    **params: Any,
) -> gateway_pb2.JobSpec:
    """Images from prompts, captions or a topic; `n=0` makes one per prompt. Params are `image_params`'.
    `init_image`, `mask` and `control_images` (one per unit of `controls`) are paths or PNG/JPEG bytes."""
    images = gateway_pb2.ImageJobSpec(
        prompts=[prompts] if isinstance(prompts, str) else list(prompts),
        captions=[make_caption(c) for c in captions],
        expand_topic=expand_topic or "",
        count=n,
        params=image_params(**params),
        axes=make_axes(vary),
    )
    add_inputs(images, init_image, mask, list(control_images))
    return _job(seed, images=images)


def unified_job(
    schema: str | Mapping[str, Any],
    n: int,
    *,
    prompt_template: str = "",
    prompts: str | Sequence[str] = (),
    images_per_row: int = 0,
    format: str = "jsonl",
    instructions: str = "",
    text_model: str = "",
    vary: Axes = None,
    seed: int | None = None,
    **params: Any,
) -> gateway_pb2.JobSpec:
    """Rows first, then images per row from `prompt_template` (or fixed `prompts`)."""
    return _job(
        seed,
        unified=gateway_pb2.UnifiedJobSpec(
            rows=text_spec(schema, n, format=format, instructions=instructions, model=text_model),
            prompt_template=prompt_template or "",
            prompts=[prompts] if isinstance(prompts, str) else list(prompts),
            images_per_row=images_per_row or 0,
            params=image_params(**params),
            axes=make_axes(vary),
        ),
    )


# ------------------------------------------------------------------------------ images from images

ImageSource = str | Path | bytes | gateway_pb2.InputImage | None


def input_image(source: ImageSource, name: str) -> gateway_pb2.InputImage | None:
    """A path (its file name is kept), raw bytes (named `name`.png) or an InputImage as it is."""
    if source is None or isinstance(source, gateway_pb2.InputImage):
        return source
    if isinstance(source, bytes):
        return gateway_pb2.InputImage(file_name=f"{name}.png", data=source)
    path = Path(source).expanduser()
    if not path.is_file():
        raise SpecError(f"--{name.replace('_', '-')}: {source} is not a file")
    return gateway_pb2.InputImage(file_name=path.name, data=path.read_bytes())


def parse_control(text: str) -> tuple[common_pb2.ControlUnit, str]:
    """`canny:in.png` or `scribble:plan.png:0.8` → (the unit, the image's path)."""
    kind, _, rest = text.partition(":")
    path, _, scale = rest.partition(":")
    if not kind or not path:
        raise SpecError(f"--control: expected KIND:PATH[:SCALE] such as canny:in.png, got {text!r}")
    unit = common_pb2.ControlUnit(kind=kind)
    if scale:
        try:
            unit.scale = float(scale)
        except ValueError:
            raise SpecError(f"--control: scale {scale!r} is not a number") from None
    return unit, path


def add_inputs(
    spec: gateway_pb2.ImageJobSpec,
    init_image: ImageSource = None,
    mask: ImageSource = None,
    control_images: list[ImageSource] | tuple = (),
) -> None:
    """Puts the input images into an images job's spec."""
    for field, source in (("init_image", init_image), ("mask", mask)):
        image = input_image(source, field)
        if image is not None:
            getattr(spec, field).CopyFrom(image)
    for n, source in enumerate(control_images):
        spec.control_images.append(input_image(source, f"control_{n}"))


# ---------------------------------------------------------------------------------------------- CLI flags


def _image_flags(args: Any) -> dict[str, Any]:
    return {
        "model": args.model or "",
        "size": args.size,
        "steps": args.steps or 0,
        "guidance": args.cfg,
        "scheduler": args.scheduler or "",
        "negative": args.negative or "",
        "styles": args.style or [],
        "vary": [parse_axis(v) for v in args.vary or []],
        "seed": args.seed,
        "best_of": args.best_of,
        "keep_candidates": args.keep_candidates,
        "min_score": args.min_score or 0.0,
        "annotations": parse_kinds(args.annotate),
        "labels": parse_labels(args.labels),
    }


def parse_labels(text: str | None) -> list[str]:
    """`"wall,door,window"` → `["wall", "door", "window"]`."""
    return [label.strip() for label in (text or "").split(",") if label.strip()]


def parse_kinds(values: Sequence[str] | None) -> list[str]:
    """Repeated `--annotate` values, each comma-separated: `["bbox,mask"]` → `["bbox", "mask"]`."""
    return [kind for value in values or [] for kind in parse_labels(value)]


def annotate_job(
    folder: str | Path, *, annotations: Sequence[str] = ("bbox",), labels: Sequence[str] = ()
) -> gateway_pb2.JobSpec:
    """Boxes for the .png/.jpg/.jpeg images directly in `folder` (sorted by name)."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise SpecError(f"annotate: {folder} is not a folder")
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SpecError(f"annotate: no .png, .jpg or .jpeg images in {folder}")
    images = [gateway_pb2.InputImage(file_name=p.name, data=p.read_bytes()) for p in files]
    return gateway_pb2.JobSpec(
        annotate=gateway_pb2.AnnotateJobSpec(
            images=images, annotations=list(annotations), labels=list(labels)
        )
    )


def spec_from_args(args: Any) -> gateway_pb2.JobSpec:
    """The JobSpec of an `images`, `text` or `unified` command line (an argparse Namespace)."""
    if args.command == "text":
        like = None
        if args.like:
            like = fit_sample(
                args.like, min_count=args.min_count, keep_rare=args.keep_rare, fail_under=args.fail_under
            )
        return text_job(
            args.schema,
            args.n,
            like=like,
            format=args.format,
            instructions=args.instructions or "",
            model=args.model or "",
            seed=args.seed,
        )
    if args.command == "tables":
        return tables_job(
            args.schema,
            scale=args.n_scale,
            format=args.format,
            instructions=args.instructions or "",
            model=args.model or "",
            seed=args.seed,
        )
    if args.command == "images":
        prompts = list(args.prompt or [])
        if args.prompts_file:
            prompts += read_prompts_file(args.prompts_file)
        captions = read_captions(args.captions) if args.captions else []
        controls = [parse_control(text) for text in args.control or []]
        return image_job(
            prompts,
            args.n or 0,
            captions=captions,
            expand_topic=args.expand or "",
            init_image=args.init_image,
            mask=args.mask,
            control_images=[path for _, path in controls],
            strength=args.strength,
            mask_blur=args.mask_blur or 0,
            inpaint_full_res=args.only_masked,
            mask_labels=parse_labels(args.mask_labels),
            controls=[unit for unit, _ in controls],
            **_image_flags(args),
        )
    if args.command == "unified":
        return unified_job(
            args.schema,
            args.n,
            prompt_template=args.prompt_template or "",
            prompts=args.prompt or [],
            images_per_row=args.images_per_row or 0,
            format=args.format,
            instructions=args.instructions or "",
            text_model=args.text_model or "",
            **_image_flags(args),
        )
    if args.command == "annotate":
        return annotate_job(
            args.dir, annotations=parse_kinds(args.annotate) or ["bbox"], labels=parse_labels(args.labels)
        )
    raise SpecError(f"{args.command} makes no job")
