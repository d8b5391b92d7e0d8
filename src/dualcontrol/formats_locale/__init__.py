"""Locale format overrides (``FORMAT_MODULE_PATH``); Django's own formats fill in the rest.

Not to be confused with :mod:`dualcontrol.formats` (file formats: 205-1 workbooks, plan documents).
"""
