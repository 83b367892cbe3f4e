"""`POST /fit`: a schema fitted to a sample, in the ordinary syntax (`synthmill fit` over HTTP).

The body is the sample itself (csv with a header line, jsonl or parquet); the query names its format
and the fit's options. The fit runs here, off the event loop, with the same code as the CLI and the
gateway (`synthmill.common.fit`); a sample that cannot be read is 400 naming its line and column."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from synthmill.common.errors import InvalidArgument
from synthmill.common.fit.defaults import DEFAULT_MIN_COUNT, HOLDOUT_SHARE

router = APIRouter(tags=["generate"])


def _fit(data: bytes, fmt: str, min_count: int, keep_rare: bool, holdout: float) -> dict[str, Any]:
    from synthmill.common.fit.fitter import FitOptions, fit
    from synthmill.common.fit.sample import read_sample

    fitted = fit(
        read_sample(data, fmt), FitOptions(min_count=min_count, keep_rare=keep_rare, holdout=holdout)
    )
    return fitted.spec


@router.post(
    "/fit",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def fit_sample(
    request: Request,
    format: Literal["csv", "jsonl", "parquet"] = Query("csv", description="The body's format."),
    min_count: int = Query(DEFAULT_MIN_COUNT, ge=1, description="Drop categories seen fewer times."),
    keep_rare: bool = Query(False, description="Keep the rare categories."),
    holdout: float = Query(HOLDOUT_SHARE, ge=0, lt=1, description="Share of rows kept out of the fit."),
) -> dict[str, Any]:
    """`{"schema": ...}`: the fitted schema (simple-map syntax, with `fitted_from`), or 400 naming the
    sample's line and column."""
    data = await request.body()
    try:
        return {"schema": await run_in_threadpool(_fit, data, format, min_count, keep_rare, holdout)}
    except InvalidArgument as exc:
        raise HTTPException(400, str(exc)) from None
