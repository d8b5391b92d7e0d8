"""Errors of the targets use cases (shared by services, statistics and warnings)."""

from __future__ import annotations

from collections.abc import Sequence

from dualcontrol.formats.report205 import CellError


class TargetError(Exception):
    """A request that cannot be carried out; the message is meant for the officer."""


class NotAllowed(TargetError):
    """The user's role or region does not allow this."""


class StatisticsRejected(Exception):
    """A statistics file was refused as a whole; ``errors`` lists every bad cell."""

    def __init__(self, errors: Sequence[CellError]):
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors[:5]))
