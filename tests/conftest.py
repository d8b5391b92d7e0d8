"""Shared pytest fixtures (database tests use the builders in tests/factories.py)."""

from __future__ import annotations

import pytest


@pytest.fixture
def world(db):
    from tests.factories import world as build

    return build()
