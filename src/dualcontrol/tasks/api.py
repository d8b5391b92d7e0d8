"""REST endpoints of plan tasks."""

from ninja import Router

router = Router(tags=["tasks"])
