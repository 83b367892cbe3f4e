"""The customer schema of issue 17, shared by the distribution tests: ages, plan weights, spend by
plan and Faker names."""

from __future__ import annotations

import json

PLANS = {"free": 0.5, "pro": 0.3, "team": 0.15, "enterprise": 0.05}
SPEND = {
    "free": "uniform(0, 0)",
    "pro": "normal(49, 8)",
    "team": "normal(199, 30)",
    "enterprise": "lognormal(7, 0.3)",
}
CUSTOMERS = {
    "name": {"type": "string", "distribution": "faker(name)"},
    "age": {"type": "int", "minimum": 18, "maximum": 90, "distribution": "normal(41, 13)"},
    "plan": {"type": "enum", "choices": list(PLANS), "distribution": f"weights({json.dumps(PLANS)})"},
    "spend": {"type": "float", "minimum": 0, "distribution": {"by": "plan", "cases": SPEND}},
}
