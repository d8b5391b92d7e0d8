"""Fixtures of the assessment and publishing tests (builders in tests/assessment/assessment_builders.py)."""

from tests.assessment.assessment_builders import carbon, media, pollutants, regional  # noqa: F401
