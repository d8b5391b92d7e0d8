"""Access rules, in one place: who may open which page, call which API operation, export what.

- :mod:`.rules` — the role groups and the named rules (page and operation gates) every view, API
  endpoint, export, job and the navigation go through (``rule_required``, ``require``, ``allows``);
- :mod:`.scope` — scoped querysets and object predicates for divisions, units and reports;
- :mod:`.duties` — which province departments review, score and publish (``duties.yaml``);
- :mod:`.tasks`, :mod:`.assessment` — the scoped querysets and object predicates of plans and
  assessment rounds.

No other module compares roles: ``tests/platform/test_access_matrix.py`` walks every URL and API
operation as every role, with objects inside and outside the role's scope, against these rules.
"""
