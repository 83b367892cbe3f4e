"""The `synthmill` command line: argparse only, so the CLI adds no dependency.

The parser lives here; what each command does is in `commands.py` (gateway calls) and `local.py`
(`serve`, `up`); the flag → JobSpec mapping is in `specs.py`.
"""

from __future__ import annotations

import argparse
import json
import sys

from synthmill.client import fitting
from synthmill.client._common import DEFAULT_HTTP_PORT
from synthmill.client.specs import FORMATS

EPILOG = (
    "The gateway is --gateway, else $SYNTHMILL_GATEWAY, else localhost:50051. The API key is --api-key, "
    "else $SYNTHMILL_API_KEY; --tls-ca (or $SYNTHMILL_TLS_CA) dials the gateway over TLS."
)


def _common() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--gateway", metavar="HOST:PORT", help="gateway address")
    p.add_argument("--json", action="store_true", help="print one JSON object at the end")
    p.add_argument("--api-key", metavar="KEY", help="API key (default $SYNTHMILL_API_KEY)")
    p.add_argument(
        "--tls-ca", metavar="PEM", help="CA of the gateway's TLS certificate (default $SYNTHMILL_TLS_CA)"
    )
    return p


def _keys(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("keys", help="create, list or revoke API keys (with the admin key)", epilog=EPILOG)
    keys = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    p = keys.add_parser("create", parents=[common], help="make a key; its secret is printed once")
    p.add_argument("--name", required=True, help="the key's name, also its tenant folder")
    for limit, text in (
        ("max-running-jobs", "refuse submits while this many of its jobs run"),
        ("max-queued-jobs", "refuse submits while this many of its jobs wait"),
        ("rows-per-day", "rows its jobs may ask for per UTC day"),
        ("images-per-day", "images its jobs may ask for per UTC day"),
    ):
        p.add_argument(f"--{limit}", type=int, default=0, metavar="N", help=f"{text} (0: no limit)")
    keys.add_parser("list", parents=[common], help="list keys (never their secrets)")
    p = keys.add_parser("revoke", parents=[common], help="revoke a key at once")
    p.add_argument("name", metavar="NAME")


def _exposure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        default=None,
        help="listen on a non-loopback address without API keys or mutual TLS",
    )
    p.add_argument(
        "--allow-cleartext",
        action="store_true",
        default=None,
        help="listen on a non-loopback address with API keys but without TLS",
    )


def _waiting() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--no-wait", action="store_true", help="print the job id and return at once")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    return p


def _image_options() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("image options")
    g.add_argument("--negative", metavar="P", help="negative prompt")
    g.add_argument(
        "--style",
        action="append",
        metavar="NAME",
        help="apply a saved style (repeatable; see `synthmill styles`)",
    )
    g.add_argument("--size", metavar="WxH", help="image size, multiples of 8 (default: the model's)")
    g.add_argument("--steps", type=int, metavar="S", help="denoising steps")
    g.add_argument("--cfg", type=float, metavar="F", help="classifier-free guidance scale")
    g.add_argument("--scheduler", metavar="X", help='sampler, e.g. "Euler a", "DPM++ 2M"')
    g.add_argument("--seed", type=int, metavar="S", help="base seed; item i uses seed + i")
    g.add_argument("--model", metavar="M", help="image model (default: the server's)")
    g.add_argument(
        "--vary",
        action="extend",
        nargs="+",
        metavar="AXIS=v1,v2",
        default=[],
        help="values for a {AXIS} placeholder, balanced over the images",
    )
    j = p.add_argument_group("scores and labels")
    j.add_argument(
        "--best-of", type=int, metavar="N", help="render N candidates per image, keep the best CLIPScore"
    )
    j.add_argument(
        "--keep-candidates", action="store_true", help="also keep the losing candidates, in candidates/"
    )
    j.add_argument(
        "--min-score",
        type=float,
        metavar="S",
        help="re-render images scoring below S (0-100) with the next seeds",
    )
    _labelling(j)
    return p


def _labelling(group) -> None:
    group.add_argument(
        "--annotate",
        action="append",
        metavar="KIND",
        help="annotate every image: bbox (COCO boxes), mask (SAM instance masks in their boxes); "
        "comma-separated or repeated, e.g. bbox,mask",
    )
    group.add_argument(
        "--labels",
        metavar="A,B,C",
        help="class names for the open-vocabulary detector, e.g. wall,door,window",
    )


def _rows_options(p: argparse.ArgumentParser, like: bool = False) -> None:
    source = p.add_mutually_exclusive_group(required=True) if like else p
    source.add_argument(
        "--schema",
        required=not like,
        metavar="JSON|@file",
        help='{"age": "int"} or a JSON Schema, inline or @path',
    )
    if like:
        source.add_argument(
            "--like",
            metavar="SAMPLE",
            help="fit the schema to this sample (csv, jsonl, parquet) at the gateway; adds quality.json",
        )
        p.add_argument(
            "--fail-under", default="", metavar="quality=0.85,dcr=0.6", help="with --like: fail below"
        )
        p.add_argument(
            "--min-count", type=int, default=0, metavar="N", help="with --like: see 'synthmill fit'"
        )
        p.add_argument("--keep-rare", action="store_true", help="with --like: see 'synthmill fit'")
    p.add_argument("-n", type=int, required=True, metavar="N", help="number of rows")
    p.add_argument(
        "--format", choices=list(FORMATS), default="jsonl", help="data file format (default jsonl)"
    )
    p.add_argument("--instructions", metavar="T", help="free-form instructions for the whole table")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="synthmill", description="Synthetic rows and images.", epilog=EPILOG
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common, waiting, image = _common(), _waiting(), _image_options()

    p = sub.add_parser("up", help="start text, image and gateway servers here; Ctrl-C stops them")
    p.add_argument("--text-model", metavar="M")
    p.add_argument("--image-model", action="append", metavar="M", help="repeatable")
    p.add_argument("--device", metavar="D", help='torch device, e.g. "cpu", "cuda"')
    p.add_argument("--output-dir", metavar="DIR", help="dataset root (default ./generated_data)")
    p.add_argument("--host", default="127.0.0.1", help="address the servers bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=50051, help="gateway port (default 50051)")
    p.add_argument("--text-port", type=int, default=50052, help="text server port (default 50052)")
    p.add_argument("--image-port", type=int, default=50053, help="image server port (default 50053)")
    p.add_argument(
        "--http-port",
        type=int,
        default=DEFAULT_HTTP_PORT,
        help=f"HTTP API and /ui port (default {DEFAULT_HTTP_PORT}; 0: none)",
    )
    _exposure(p)

    p = sub.add_parser("serve", help="run one server in the foreground")
    p.add_argument("kind", choices=["text", "image", "gateway", "http"])
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--model", action="append", metavar="M", help="model to load (repeatable for image)")
    p.add_argument("--device", metavar="D")
    p.add_argument("--cache-dir", metavar="DIR")
    p.add_argument("--output-dir", metavar="DIR", help="gateway: dataset root")
    p.add_argument("--text-target", metavar="T", help="gateway: text server address")
    p.add_argument("--image-target", metavar="T", help="gateway: image server address")
    p.add_argument("--gateway", metavar="T", help="http: the gateway's address")
    _exposure(p)

    p = sub.add_parser(
        "images", parents=[common, waiting, image], help="make images from prompts", epilog=EPILOG
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompt", action="extend", nargs="+", metavar="P", help="prompt(s), may hold {axis}")
    src.add_argument("--prompts-file", metavar="F", help="one prompt per line")
    src.add_argument("--captions", metavar="F", help='JSON list of {"id": ..., "caption": ...}')
    src.add_argument("--expand", metavar="TOPIC", help="let the LLM write N prompts on a topic")
    p.add_argument("-n", type=int, default=0, metavar="N", help="number of images (default one per prompt)")
    e = p.add_argument_group("images from images")
    e.add_argument("--init-image", metavar="PATH", help="img2img: start every image from this one")
    e.add_argument("--strength", type=float, metavar="S", help="how far the init image is noised, (0, 1]")
    e.add_argument("--mask", metavar="PATH", help="inpainting: white is repainted (the init image's size)")
    e.add_argument("--mask-blur", type=int, metavar="N", help="blur the mask's edge by N pixels (default 0)")
    e.add_argument("--only-masked", action="store_true", help="repaint only the mask's region, at full size")
    e.add_argument(
        "--mask-labels", metavar="A,B", help="Edit Anything: repaint the objects found with these labels"
    )
    e.add_argument(
        "--control",
        action="append",
        metavar="KIND:PATH[:SCALE]",
        help="a ControlNet unit: canny, scribble, lineart or none, with its image (repeatable)",
    )

    p = sub.add_parser("text", parents=[common, waiting], help="make rows from a schema", epilog=EPILOG)
    _rows_options(p, like=True)
    p.add_argument("--seed", type=int, metavar="S", help="base seed; the same seed gives the same rows")
    p.add_argument("--model", metavar="M", help="text model (default: the server's)")

    p = sub.add_parser(
        "tables", parents=[common, waiting], help="several tables whose references join", epilog=EPILOG
    )
    p.add_argument("--schema", required=True, metavar="JSON|@file", help='{"tables": {...}}, inline or @path')
    p.add_argument(
        "-n-scale",
        "--n-scale",
        dest="n_scale",
        type=int,
        default=1,
        metavar="K",
        help="multiply root tables' rows",
    )
    p.add_argument(
        "--format", choices=list(FORMATS), default="jsonl", help="table file format (default jsonl)"
    )
    p.add_argument("--instructions", metavar="T", help="free-form instructions for every table")
    p.add_argument("--seed", type=int, metavar="S", help="the same seed gives the same tables")
    p.add_argument("--model", metavar="M", help="text model (default: the server's)")

    p = sub.add_parser(
        "unified", parents=[common, waiting, image], help="rows, then images from each row", epilog=EPILOG
    )
    _rows_options(p)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--prompt-template", metavar="T", help='e.g. "A photo of {product} on white"')
    src.add_argument(
        "--prompt", action="extend", nargs="+", metavar="P", help="fixed prompts paired with rows"
    )
    p.add_argument("--images-per-row", type=int, default=0, metavar="K")
    p.add_argument("--text-model", metavar="M", help="text model (default: the server's)")

    p = sub.add_parser(
        "annotate",
        parents=[common, waiting],
        help="boxes (and masks) for the images in DIR; writes DIR/annotations/instances.json (COCO)",
        epilog=EPILOG,
    )
    p.add_argument("dir", metavar="DIR", help="a folder of .png/.jpg images")
    _labelling(p)

    p = sub.add_parser(
        "augment",
        parents=[common, waiting],
        help="variations of a labelled dataset's images, its boxes carried over and checked again",
        epilog=EPILOG,
    )
    p.add_argument("dir", metavar="DIR", help="images, with annotations/instances.json (COCO) if labelled")
    p.add_argument("-n", type=int, required=True, metavar="K", help="variations per image")
    p.add_argument(
        "--prompt", action="extend", nargs="+", required=True, metavar="P", help="prompt(s), in turn"
    )
    p.add_argument("--strength", type=float, default=0.5, metavar="S", help="how far each image is noised")
    p.add_argument(
        "--control", action="append", metavar="KIND", help="a ControlNet on the source: canny, ..."
    )
    p.add_argument("--drop-unverified", action="store_true", help="leave out boxes the detector did not find")
    p.add_argument("--steps", type=int, metavar="S", help="denoising steps")
    p.add_argument("--seed", type=int, metavar="S", help="base seed; output i uses seed + i")
    p.add_argument("--model", metavar="M", help="image model (default: the server's)")

    p = sub.add_parser("jobs", parents=[common], help="list jobs, newest first")
    p.add_argument("--state", metavar="S", help="queued, running, completed, failed or cancelled")
    p.add_argument("--kind", metavar="K", default="", help="text, images, unified or annotate")
    p.add_argument(
        "--limit", type=int, default=0, metavar="N", help="the newest N (default 50, at most 1000)"
    )
    p.add_argument("--all", action="store_true", help="every job, fetched a page at a time")
    for name, text in (
        ("status", "show a job"),
        ("watch", "follow a job's progress"),
        ("cancel", "cancel a job"),
        ("delete", "cancel a job if it runs, then delete its outputs and records"),
    ):
        p = sub.add_parser(name, parents=[common, waiting] if name == "watch" else [common], help=text)
        p.add_argument("job", metavar="JOB")
    p = sub.add_parser("download", parents=[common], help="copy a job's output folder into DIR")
    p.add_argument("job", metavar="JOB")
    p.add_argument("dir", metavar="DIR")
    sub.add_parser("health", parents=[common], help="exit 0 only when every service is SERVING")
    sub.add_parser("styles", parents=[common], help="list the gateway's saved styles")
    _keys(sub, common)
    fitting.add_parsers(sub)
    return parser


def _fail(args: argparse.Namespace, message: str, code: str | None = None) -> None:
    print(f"error: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"error": message, "code": code}), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "serve":
        from synthmill.client.local import check_serve_flags, cmd_serve

        if problem := check_serve_flags(args):
            parser.error(problem)
        return cmd_serve(args)
    if args.command == "up":
        from synthmill.client.local import cmd_up

        return cmd_up(args)
    if args.command in ("fit", "quality"):
        return fitting.run(args)

    from synthmill.client.client import Client
    from synthmill.client.commands import CLIENT_COMMANDS
    from synthmill.client.errors import SynthmillError

    try:
        with Client(args.gateway, api_key=args.api_key, tls_ca=args.tls_ca) as client:
            return CLIENT_COMMANDS[args.command](args, client)
    except ValueError as exc:  # SpecError (a file or flag we cannot read), an unknown --state name
        _fail(args, str(exc), "LOCAL")
        return 2
    except SynthmillError as exc:
        _fail(args, str(exc), exc.code.name)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
