"""Fixtures of the targets tests (the builder is in targets_world.py)."""

from __future__ import annotations

import pytest
from targets_world import build


@pytest.fixture
def tw(world):
    return build(world)
