"""Tables schemas: dependency order, and every refusal names the path of the bad part."""

from __future__ import annotations

import json

import pytest
from shop import SAMPLED, sampled

from synthmill.common.errors import InvalidArgument
from synthmill.common.tables import parse_tables
from synthmill.common.tables.draws import Draws

T = "tables.tables"


def test_tables_come_in_dependency_order_whatever_the_order_given():
    tables = parse_tables(json.dumps(SAMPLED))
    names = tables.names
    assert names.index("customers") < names.index("orders") < names.index("order_items")
    assert names.index("products") < names.index("order_items")
    orders = tables["orders"]
    assert orders.parent == "customers" and orders.parent_ref.field == "customer_id"
    assert orders.key.kind == "uuid" and orders.field("id").unique
    assert tables["products"].key.kind == "pattern"
    assert tables["customers"].key.kind == "sequence" and tables["customers"].key.start == 1
    assert orders.outer_columns() == ("customers.plan", "customers.signup")
    assert orders.after == (("placed", "customers.signup"),)
    assert all(t.all_sampled for t in tables.tables)


def test_a_ref_column_takes_the_type_of_the_key_it_points_to():
    tables = parse_tables(SAMPLED)
    items = tables["order_items"]
    assert items.field("order_id").type == "uuid"
    assert items.field("product_code").type == "string"
    assert items.field("product_code").pattern == "SKU-[0-9]{4}"
    assert items.field("product_code").nullable and not items.field("order_id").nullable
    schema = tables.json()["tables"]["order_items"]["schema"]["properties"]
    assert schema["order_id"]["x-ref"] == "orders.id"
    assert schema["product_code"]["x-null-probability"] == 0.25


CASES = [
    (
        {"orders.fields.customer_id": {"ref": "clients.id"}},
        f"{T}.orders.fields.customer_id.ref",
        "unknown table",
    ),
    (
        {"orders.fields.customer_id": {"ref": "customers.uid"}},
        f"{T}.orders.fields.customer_id.ref",
        "not a field",
    ),
    (
        {"orders.fields.customer_id": {"ref": "customers.plan"}},
        f"{T}.orders.fields.customer_id.ref",
        "not the primary key",
    ),
    (
        {"orders.fields.customer_id": {"ref": "customers"}},
        f"{T}.orders.fields.customer_id.ref",
        "<table>.<primary key>",
    ),
    (
        {"orders.fields.customer_id": {"ref": "customers.id", "unique": True}},
        f"{T}.orders.fields.customer_id.unique",
        "not an option",
    ),
    (
        {"orders.fields.customer_id": {"ref": "customers.id", "type": "uuid"}},
        f"{T}.orders.fields.customer_id.type",
        "customers.id is int",
    ),
    ({"customers.per_parent": "poisson(2)"}, f"{T}.customers.per_parent", "needs a parent"),
    ({"customers.rows": None}, f"{T}.customers.rows", "is required"),
    ({"orders.rows": 10}, f"{T}.orders.rows", "not both"),
    ({"customers.rows": 0}, f"{T}.customers.rows", "at least 1"),
    ({"orders.per_parent": "bernoulli(0.5)"}, f"{T}.orders.per_parent", "bernoulli applies to bool"),
    ({"orders.per_parent": 'weights({"one": 1})'}, f"{T}.orders.per_parent", "a count is a whole number"),
    ({"orders.per_parent": "poisson(-1)"}, f"{T}.orders.per_parent", "rate must be positive"),
    ({"orders.parent": "nobody"}, f"{T}.orders.parent", "unknown table"),
    ({"order_items.parent": "customers"}, f"{T}.order_items.parent", "no field references the parent"),
    (
        {"order_items.parent": "products"},
        f"{T}.order_items.fields.product_code.nullable",
        "parent cannot be nullable",
    ),
    (
        {"orders.fields.amount.distribution": {"by": "products.price", "cases": {"x": "normal(1, 1)"}}},
        f"{T}.orders.fields.amount.distribution.by",
        "not a column of this table's parent (customers)",
    ),
    (
        {"orders.fields.amount.distribution": {"by": "customers.signup", "cases": {"x": "normal(1, 1)"}}},
        f"{T}.orders.fields.amount.distribution.by",
        "not categorical",
    ),
    (
        {"orders.fields.amount.distribution": {"by": "customers.nope", "cases": {"x": "normal(1, 1)"}}},
        f"{T}.orders.fields.amount.distribution.by",
        "not a field of customers",
    ),
    (
        {"orders.fields.amount.distribution": {"by": "customers.plan", "cases": {"free": "normal(20, 5)"}}},
        f"{T}.orders.fields.amount.distribution.cases",
        "no case for customers.plan = 'pro'",
    ),
    (
        {"orders.fields.amount.distribution": {"by": "customers.plan", "cases": {"gold": "normal(2, 1)"}}},
        f"{T}.orders.fields.amount.distribution.cases.gold",
        "never takes 'gold'",
    ),
    (
        {"customers.fields.referrer_id": {"ref": "customers.id"}},
        f"{T}.customers.fields.referrer_id.nullable",
        "own table must be nullable",
    ),
    (
        {"orders.fields.customer_id": {"ref": "customers.id", "nullable": True}},
        f"{T}.orders.fields.customer_id.nullable",
        "parent cannot be nullable",
    ),
    (
        {"products.fields.code": {"type": "string", "pattern": "SKU-[0-9]+"}},
        f"{T}.products.fields.code.pattern",
        "fixed-length",
    ),
    (
        {"products.fields.code": "string"},
        f"{T}.products.fields.code",
        "int, a uuid or a string with a pattern",
    ),
    (
        {"products.fields.code": {"type": "int", "distribution": "poisson(3)"}},
        f"{T}.products.fields.code",
        "no distribution",
    ),
    ({"products.primary_key": "sku"}, f"{T}.products.primary_key", "not a field"),
    ({"products.colour": "red"}, f"{T}.products.colour", "not a table option"),
    ({"products.fields": {}}, f"{T}.products.fields", "at least one"),
    (
        {"products.fields": {"type": "object", "properties": {"a": {"type": "string"}}}},
        f"{T}.products.fields",
        "simple map",
    ),
    (
        {"orders.fields.customer_id": {"ref": "customers.id", "null_probability": 0.3}},
        f"{T}.orders.fields.customer_id.null_probability",
        "needs nullable",
    ),
    (
        {"orders.fields.placed.after": "products.price"},
        f"{T}.orders.fields.placed.after",
        "a date column of this table's parent (customers)",
    ),
    (
        {"orders.fields.placed.after": "customers.plan"},
        f"{T}.orders.fields.placed.after",
        "not date after enum",
    ),
    (
        {"orders.fields.placed.after": "customers.day"},
        f"{T}.orders.fields.placed.after",
        "not a field of customers",
    ),
    (
        {"orders.fields.placed.distribution": None},
        f"{T}.orders.fields.placed.after",
        "give it a date_between(...) distribution",
    ),
    ({"orders.fields.amount.minimum": "low"}, f"{T}.orders.fields.amount.minimum", "finite number"),
]


@pytest.mark.parametrize(("changes", "path", "words"), CASES, ids=[c[1] + ":" + c[2] for c in CASES])
def test_refusals_name_the_path(changes, path, words):
    with pytest.raises(InvalidArgument) as caught:
        parse_tables(sampled(**changes))
    assert caught.value.field == path, str(caught.value)
    assert words in str(caught.value)


def test_a_cycle_of_references_is_refused_naming_it():
    schema = {
        "tables": {
            "a": {"rows": 3, "primary_key": "id", "fields": {"id": "int", "b_id": {"ref": "b.id"}}},
            "b": {"rows": 3, "primary_key": "id", "fields": {"id": "int", "c_id": {"ref": "c.id"}}},
            "c": {
                "rows": 3,
                "primary_key": "id",
                "fields": {"id": "int", "a_id": {"ref": "a.id", "nullable": True}},
            },
        }
    }
    with pytest.raises(InvalidArgument) as caught:
        parse_tables(schema)
    assert caught.value.field == f"{T}.c.fields.a_id.ref"
    assert "a cycle of references: a -> b -> c -> a" in str(caught.value)


@pytest.mark.parametrize(
    ("top", "path"),
    [
        ("[]", "tables"),
        ('{"tables": {}}', "tables.tables"),
        ('{"tables": {}, "x": 1}', "tables.x"),
        ("{", "tables"),
    ],
)
def test_the_top_level_is_checked(top, path):
    with pytest.raises(InvalidArgument) as caught:
        parse_tables(top)
    assert caught.value.field == path


def test_an_int_key_range_too_small_for_the_rows_is_refused():
    changes = {"customers.fields.id": {"type": "int", "minimum": 10, "maximum": 409}}
    Draws(parse_tables(sampled(**changes)), seed=1)  # 400 keys for 400 rows: enough
    changes = {"customers.fields.id": {"type": "int", "minimum": 10, "maximum": 408}}
    with pytest.raises(InvalidArgument) as caught:
        Draws(parse_tables(sampled(**changes)), seed=1)
    assert caught.value.field == f"{T}.customers.fields.id.maximum"
    assert "399 distinct keys for 400 rows" in str(caught.value)


def test_a_pattern_key_with_too_few_strings_is_refused():
    changes = {"products.fields.code": {"type": "string", "pattern": "P[0-5]"}}
    with pytest.raises(InvalidArgument) as caught:
        Draws(parse_tables(sampled(**changes)), seed=1)
    assert caught.value.field == f"{T}.products.fields.code.pattern"


def test_per_parent_by_needs_a_sampled_parent_column():
    law = {"by": "customers.plan", "cases": {"free": "poisson(1)", "pro": "poisson(6)"}}
    parse_tables(sampled(**{"orders.per_parent": law}))
    unsampled = {"type": "enum", "choices": ["free", "pro"]}
    with pytest.raises(InvalidArgument) as caught:
        parse_tables(sampled(**{"orders.per_parent": law, "customers.fields.plan": unsampled}))
    assert caught.value.field == f"{T}.orders.per_parent.by"


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"customers.rows": 10**12}, f"{T}.customers.rows"),
        ({"orders.per_parent": "poisson(1000000)"}, f"{T}.orders.per_parent"),
    ],
)
def test_counts_stop_at_the_table_that_passes_the_limit(changes, path):
    """Refused before any child of the table is drawn: a huge parent never costs a huge array."""
    with pytest.raises(InvalidArgument) as caught:
        Draws(parse_tables(sampled(**changes)), seed=1, limit=10**7)
    assert caught.value.field == path
    assert "over the limit of 10000000" in str(caught.value)
