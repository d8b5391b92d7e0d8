"""REST endpoints of the annual assessment."""

from ninja import Router

router = Router(tags=["assessment"])
