"""REST endpoints of pollution-source online monitoring."""

from ninja import Router

router = Router(tags=["monitoring"])
