"""``dualcontrol exchange``: signed packages between the national, provincial and city platforms.

* ``exchange identity`` — this platform's code, level and public key (give it to the peers);
* ``exchange peers add CODE --level national|province|city --name NAME --public-key B64`` and
  ``exchange peers list``;
* ``exchange export --to national|CODE --year Y [--out FILE]`` — build, sign and log a package;
* ``exchange import FILE`` — verify (schema, recipient, sender, key, signature, replay) and apply;
  a refused package prints the reason and exits 1; a duplicate changes nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from dualcontrol.cli import CommandError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "exchange",
        help="signed data packages between national, provincial and city platforms",
        description="Export and import Ed25519-signed, versioned JSON packages (docs/exchange.md).",
    )
    sub = parser.add_subparsers(dest="exchange_command", metavar="ACTION", required=True)
    ident = sub.add_parser("identity", help="this platform's code, level and public key")
    ident.set_defaults(func=run_identity)
    peers = sub.add_parser("peers", help="the platforms this one exchanges with")
    psub = peers.add_subparsers(dest="peers_command", metavar="ACTION", required=True)
    add = psub.add_parser("add", help="register (or update) a peer and its public key")
    add.add_argument("code", help="division code; 000000 for the national platform")
    add.add_argument("--level", required=True, choices=("national", "province", "city"))
    add.add_argument("--name", required=True)
    add.add_argument("--public-key", required=True, help="Ed25519 public key, base64 (32 bytes)")
    add.add_argument("--url", default="", help="the peer's API base URL (online exchange)")
    add.set_defaults(func=run_peers_add)
    lst = psub.add_parser("list", help="registered peers")
    lst.set_defaults(func=run_peers_list)
    exp = sub.add_parser("export", help="build, sign and log a package for a peer")
    exp.add_argument("--to", required=True, help="national, or the peer's division code")
    exp.add_argument("--year", required=True, type=int)
    exp.add_argument("--out", help="file to write (default: stdout)")
    exp.set_defaults(func=run_export)
    imp = sub.add_parser("import", help="verify and apply a package")
    imp.add_argument("file")
    imp.set_defaults(func=run_import)


def _django() -> None:
    from dualcontrol.cli import setup_django

    setup_django()


def _errors(exc: Any) -> CommandError:
    return CommandError("; ".join(getattr(exc, "messages", [str(exc)])))


def run_identity(args: argparse.Namespace) -> int:
    _django()
    from django.core.exceptions import ValidationError

    from dualcontrol.exchange import services

    try:
        me = services.identity()
    except ValidationError as exc:
        raise _errors(exc) from exc
    keys = services.ensure_key()
    print(
        json.dumps(
            {**me, "key_id": keys.key_id, "public_key": keys.public_b64},
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


def run_peers_add(args: argparse.Namespace) -> int:
    _django()
    from django.core.exceptions import ValidationError

    from dualcontrol.exchange import services

    try:
        peer = services.add_peer(
            code=args.code,
            name=args.name,
            level=args.level,
            public_key=args.public_key,
            url=args.url,
        )
    except ValidationError as exc:
        raise _errors(exc) from exc
    print(f"peer {peer.code} {peer.name} ({peer.level}) key {peer.key_id}")
    return 0


def run_peers_list(args: argparse.Namespace) -> int:
    _django()
    from dualcontrol.exchange.models import Peer

    for p in Peer.objects.all():
        print(f"{p.code}\t{p.level}\t{p.key_id}\t{'active' if p.active else 'inactive'}\t{p.name}")
    return 0


def run_export(args: argparse.Namespace) -> int:
    _django()
    from django.core.exceptions import ValidationError

    from dualcontrol.exchange import services

    try:
        data, rec = services.export_package(to=args.to, year=args.year)
    except ValidationError as exc:
        raise _errors(exc) from exc
    if args.out:
        Path(args.out).write_bytes(data)
        print(
            f"package {rec.package_id} #{rec.sequence} to {rec.recipient_code}: "
            + ", ".join(f"{k} {v}" for k, v in rec.counts.items())
            + f" → {args.out}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(data.decode("utf-8") + "\n")
    return 0


def run_import(args: argparse.Namespace) -> int:
    _django()
    from dualcontrol.exchange import services

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    rec = services.import_package(data=data)
    print(
        json.dumps(
            {
                "package_id": rec.package_id,
                "sender": rec.sender_code,
                "sequence": rec.sequence,
                "outcome": rec.outcome,
                "reason": rec.reason,
                "applied": rec.applied,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 1 if rec.outcome == "refused" else 0
