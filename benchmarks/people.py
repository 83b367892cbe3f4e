"""The fit acceptance sample of issue 24, from a seeded generator: age ~ normal clipped to 18..90,
income lognormal and rank-correlated with age at about 0.6, plan in {free, pro, team} by weights,
churned depending on plan, and a name drawn from 50 names."""

from __future__ import annotations

import csv
import io

import numpy as np

PLANS = {"free": 0.6, "pro": 0.3, "team": 0.1}
CHURN = {"free": 0.35, "pro": 0.15, "team": 0.05}
NAMES = [f"{first} {last}" for first in ("Ada", "Ben", "Cleo", "Dev", "Eli") for last in (
    "Moss", "Reyes", "Tan", "Okafor", "Berg", "Silva", "Novak", "Ito", "Haas", "Quinn")]  # fmt: skip


def people(n: int, seed: int = 24) -> list[dict]:
    rng = np.random.default_rng(seed)
    z = rng.multivariate_normal([0, 0], [[1, 0.62], [0.62, 1]], size=n)
    age = np.clip(np.round(41 + 13 * z[:, 0]), 18, 90).astype(int)
    income = np.round(np.exp(10.6 + 0.45 * z[:, 1]), 2)
    plan = rng.choice(list(PLANS), size=n, p=list(PLANS.values()))
    churned = rng.random(n) < np.array([CHURN[p] for p in plan])
    name = rng.choice(NAMES, size=n)
    return [
        {"age": int(a), "income": float(i), "plan": str(p), "churned": bool(c), "name": str(m)}
        for a, i, p, c, m in zip(age, income, plan, churned, name, strict=True)
    ]


def as_csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(
        {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in row.items()} for row in rows
    )
    return out.getvalue().encode()
