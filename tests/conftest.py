"""Shared pytest fixtures (database tests use the builders in tests/factories.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def world(db):
    from tests.factories import world as build

    return build()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    """Uploads and generated files of a test go to its own temporary folder, never ./var."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_FILE_PATH = tmp_path / "outbox"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """API rate-limit counters (Ninja throttling, in the cache) start empty in every test.

    Login locks (django-axes) live in the database, which each test rolls back: axes stays on.
    """
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the platform's default language (a request may have switched it)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)
