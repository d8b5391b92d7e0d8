"""Open data under /api/public/ (no login)."""

from ninja import Router

router = Router(tags=["public"], auth=None)
