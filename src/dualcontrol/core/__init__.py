"""Pure domain core: plain Python + pandas/numpy/pint. No Django, no I/O.

Every function takes plain values (or dataclasses / frames) and returns plain values.
Rules and coefficients are passed in as data loaded by :mod:`dualcontrol.reference`.
"""
