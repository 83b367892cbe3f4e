"""Tables schemas the tables tests share: a shop of customers, orders, order items and products."""

from __future__ import annotations

import copy

PLAN = {"type": "enum", "choices": ["free", "pro"], "distribution": 'weights({"free": 0.7, "pro": 0.3})'}
AMOUNT = {
    "type": "float",
    "minimum": 0,
    "distribution": {"by": "customers.plan", "cases": {"free": "normal(20, 5)", "pro": "normal(80, 10)"}},
}

# Everything drawn (no LLM): customers -> orders -> order_items, products referenced by items.
SAMPLED = {
    "tables": {
        "order_items": {
            "parent": "orders",
            "per_parent": "uniform(1, 4)",
            "fields": {
                "order_id": {"ref": "orders.id"},
                "product_code": {"ref": "products.code", "nullable": True, "null_probability": 0.25},
                "quantity": {"type": "int", "minimum": 1, "distribution": "poisson(2)"},
            },
        },
        "customers": {
            "rows": 400,
            "primary_key": "id",
            "fields": {
                "id": "int",
                "plan": PLAN,
                "signup": {"type": "date", "distribution": 'date_between("2020-01-01", "2024-12-31")'},
                "referrer_id": {"ref": "customers.id", "nullable": True, "null_probability": 0.5},
            },
        },
        "orders": {
            "primary_key": "id",
            "parent": "customers",
            "per_parent": "poisson(3)",
            "fields": {
                "id": "uuid",
                "customer_id": {"ref": "customers.id"},
                "amount": AMOUNT,
                "paid": {"type": "bool", "distribution": "bernoulli(0.9)"},
                "placed": {
                    "type": "date",
                    "after": "customers.signup",
                    "distribution": 'date_between("2020-01-01", "2025-12-31")',
                },
            },
        },
        "products": {
            "rows": 60,
            "primary_key": "code",
            "fields": {
                "code": {"type": "string", "pattern": "SKU-[0-9]{4}"},
                "name": {"type": "string", "distribution": "faker(word)"},
                "price": {"type": "float", "minimum": 0.5, "distribution": "lognormal(3, 0.5)"},
            },
        },
    }
}


def two_tables(customers: int, per_parent: str) -> dict:
    """Drawn customers and their orders: the smallest tables schema with a parent."""
    orders = {"customer_id": {"ref": "customers.id"}, "amount": AMOUNT}
    return {
        "tables": {
            "customers": {"rows": customers, "primary_key": "id", "fields": {"id": "int", "plan": PLAN}},
            "orders": {"parent": "customers", "per_parent": per_parent, "fields": orders},
        }
    }


def sampled(**changes) -> dict:
    """A deep copy of SAMPLED with `changes` ({"orders.rows": 5, ...}: a dotted path under tables)."""
    out = copy.deepcopy(SAMPLED)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = out["tables"]
        for part in parents:
            node = node[part]
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    return out
