"""REST endpoints of targets and warnings."""

from ninja import Router

router = Router(tags=["targets"])
