"""CLI command groups.

Every module in this package that defines ``register(subparsers)`` adds its sub-commands to
``dualcontrol``.  ``register`` receives the ``argparse`` sub-parsers object; each sub-command
sets ``func`` (a callable taking the parsed ``argparse.Namespace`` and returning an exit code)
with ``parser.set_defaults(func=...)``.  Commands that need the database call
:func:`dualcontrol.cli.setup_django` first; pure commands never import Django.
"""
