"""The reporting part of the demo province (called by :func:`dualcontrol.demo.builder.build`).

The 205-1 reports of the demo units are made by the builder itself; this step adds the
self-reported statistics of the governments (:mod:`dualcontrol.reporting.demo_statistics`).
"""

from __future__ import annotations

import datetime as dt

from dualcontrol.reporting import demo_statistics

# the filings copy the statistics the targets part of the demo imports
DEMO_AFTER = ("dualcontrol.targets",)


def extend_demo(*, today: dt.date) -> None:
    demo_statistics.extend(today=today)
