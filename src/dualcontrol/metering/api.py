"""REST endpoints of energy online monitoring."""

from ninja import Router

router = Router(tags=["metering"])
