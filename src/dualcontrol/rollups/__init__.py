"""Monthly roll-ups of the 205-1 reports per region, sector and unit (issue 18).

Dashboards and drill-downs read these instead of the raw reports: the counts by status and the
sums of every division (each level, all sectors and per sector) and each unit's January…month
sums.  A change to a report or a unit marks its year; the background job ``rollups.refresh``
(every minute, ``jobs_policy.yaml``) recomputes the marked years, and the pages show when.
"""
