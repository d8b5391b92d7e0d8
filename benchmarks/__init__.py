"""Runnable performance suite (`make bench` or `python -m benchmarks [NAME ...]`).

Each ``bench_<name>.py`` module defines ``main() -> None`` that prints its figures (throughput,
wall time, memory peak).  Figures go in issue notes, never in assertions.
"""
