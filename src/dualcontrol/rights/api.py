"""REST endpoints of the rights app."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["rights"])
