"""Data intake from outside systems (在线监测数据接入).

:mod:`dualcontrol.ingest.hj212_server` is the HJ 212 TCP receiver engine (asyncio, no Django);
database sinks and the ``dualcontrol ingest`` command plug into it.
"""
