"""Faker-backed values: provider checks, and one value per seed.

A `Faker` per locale and thread is kept (building one loads the locale's providers); each value is
drawn right after `seed_instance(seed)`, so it depends on the seed alone.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

from faker import Faker
from faker.config import AVAILABLE_LOCALES

from synthmill.common.schema.model import Field

DEFAULT_LOCALE = "en_US"
PROBES = 16  # values drawn at submit to see that a provider suits its field
_local = threading.local()


def _faker(locale: str) -> Faker:
    cache = _local.__dict__.setdefault("fakers", {})
    locale = locale or DEFAULT_LOCALE
    if locale not in cache:
        cache[locale] = Faker(locale)
    return cache[locale]


def check(provider: str, locale: str) -> str | None:
    """Why faker(provider, locale) cannot be used (None when it can)."""
    if locale and locale not in AVAILABLE_LOCALES:
        return f"unknown Faker locale {locale!r} (e.g. en_US, de_DE, fr_FR, ja_JP)"
    fake = _faker(locale)
    if not any(callable(getattr(p, provider, None)) for p in fake.get_providers()):
        return f"unknown Faker provider {provider!r} (e.g. name, first_name, city, email, company, job)"
    try:
        value(provider, locale, 0)
    except TypeError:
        return f"Faker provider {provider!r} needs arguments; use one that takes none"
    return None


def check_fits(provider: str, locale: str, field: Field) -> str | None:
    """Why the provider's values do not suit `field` (None when some of the probe draws do)."""
    problem = ""
    for seed in range(PROBES):
        try:
            field.validate(value(provider, locale, seed))
            return None
        except ValueError as exc:  # InvalidRow
            problem = str(exc)
    return f"faker({provider}) gives no valid {field.type} values for this field (e.g. {problem})"


def value(provider: str, locale: str, seed: int) -> Any:
    """The provider's value for `seed`, as JSON: strings as they are, dates in ISO form."""
    fake = _faker(locale)
    fake.seed_instance(seed)
    out = getattr(fake, provider)()
    if isinstance(out, dt.datetime):
        return out.replace(microsecond=0, tzinfo=None).isoformat()
    if isinstance(out, dt.date):
        return out.isoformat()
    return out if isinstance(out, str) else str(out)
