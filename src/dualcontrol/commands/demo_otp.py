"""``demo-otp USER``: the current second-factor code of a demo account (demo accounts only).

The demo enrols every demo account whose role must use the second factor with a fixed secret
(:func:`dualcontrol.accounts.second_factor.demo_key_hex`); ``dualcontrol demo`` prints those
secrets, and this command prints the code an authenticator app would show now.  It refuses
every account that is not a demo account: real secrets are never printed.
"""

from __future__ import annotations

import argparse

from dualcontrol.cli import CommandError, setup_django

HINT = (
    "second factor: add the secret to any TOTP app (FreeOTP, Microsoft/Google Authenticator …) "
    "or run `dualcontrol demo-otp USER` for the current code (each code works once)"
)


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "demo-otp",
        help="print the current second-factor code of a demo account (demo accounts only)",
    )
    p.add_argument("username", metavar="USER")
    p.set_defaults(func=demo_otp)


def demo_lines(usernames: tuple[str, ...] | list[str]) -> list[str]:
    """One line per demo account with a second factor: secret and current code (for ``demo``)."""
    from dualcontrol.accounts import second_factor
    from dualcontrol.accounts.models import User

    lines = []
    found = {u.username: u for u in User.objects.filter(username__in=usernames, is_demo=True)}
    for user in (found[name] for name in usernames if name in found):
        device = second_factor.confirmed_device(user)
        if device is None:
            if second_factor.required_for(user):
                lines.append(f"  {user.username:<16} no device yet: the first login sets one up")
            continue
        lines.append(
            f"  {user.username:<16} secret {second_factor.base32_secret(device)}  "
            f"code now {second_factor.current_code(device)} "
            f"({second_factor.seconds_left(device)} s left)"
        )
    return lines


def demo_otp(args: argparse.Namespace) -> int:
    setup_django()
    from django.conf import settings

    from dualcontrol.accounts import second_factor
    from dualcontrol.accounts.models import User

    if not settings.DEMO_MODE:
        raise CommandError("demo-otp only runs in demo mode (DUALCONTROL_ENV=demo)")
    user = User.objects.filter(username=args.username).first()
    if user is None:
        raise CommandError(f"no account {args.username!r}")
    if not user.is_demo:
        raise CommandError(f"{args.username!r} is not a demo account: its codes are never printed")
    device = second_factor.confirmed_device(user)
    if device is None:
        raise CommandError(
            f"{args.username!r} has no second factor (its role does not need one, or it was reset)"
        )
    print(
        f"{second_factor.current_code(device)}  "
        f"(valid {second_factor.seconds_left(device)} s more; each code works once)"
    )
    return 0
