"""``dualcontrol exchange``: signed packages between the national, provincial and city platforms.

* ``exchange identity`` — this platform's code, level and public key (give it to the peers);
* ``exchange peers add CODE --level national|province|city --name NAME --public-key B64`` and
  ``exchange peers list``;
* ``exchange export --to national|CODE --year Y [--out FILE] [--push [URL] --token T]`` — build,
  sign and log a package; ``--push`` sends it to the peer's ``POST /api/exchange/packages`` (URL:
  the peer's base URL or that endpoint; without one, the URL registered with the peer) with the
  bearer token of an account of the peer (``--token`` or ``DUALCONTROL_EXCHANGE_TOKEN``), prints
  the peer's answer and exits 1 with the reason when the peer refused the package;
* ``exchange import FILE`` — verify (schema, recipient, sender, key, signature, replay) and apply;
  a refused package prints the reason and exits 1; a duplicate changes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dualcontrol.cli import CommandError

ENDPOINT = "/api/exchange/packages"
TOKEN_ENV = "DUALCONTROL_EXCHANGE_TOKEN"


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
    exp.add_argument("--out", help="file to write (default: stdout, unless --push)")
    exp.add_argument(
        "--push",
        nargs="?",
        const="",
        default=None,
        metavar="URL",
        help=(
            "send the package to the peer's POST /api/exchange/packages and print its answer "
            "(URL: the peer's base URL; default: the URL registered with the peer)"
        ),
    )
    exp.add_argument(
        "--token",
        default=None,
        help=f"the peer's API bearer token (default: ${TOKEN_ENV})",
    )
    exp.add_argument(
        "--timeout", type=float, default=60.0, metavar="SECONDS", help="push timeout (60)"
    )
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
    from dualcontrol.exchange.models import Peer

    push = getattr(args, "push", None)
    url = token = ""
    if push is not None:  # checked before anything is signed and logged
        token = (getattr(args, "token", None) or os.environ.get(TOKEN_ENV, "")).strip()
        if not token:
            raise CommandError(f"--push needs the peer's API token (--token or ${TOKEN_ENV})")
        code = services.NATIONAL if args.to == "national" else args.to
        peer = Peer.objects.filter(code=code, active=True).first()
        url = push or (peer.url if peer is not None else "")
        if not url:
            raise CommandError(
                f"no URL for peer {args.to}: --push URL, or register it (exchange peers add --url)"
            )
        url = endpoint_of(url)
    try:
        data, rec = services.export_package(to=args.to, year=args.year)
    except ValidationError as exc:
        raise _errors(exc) from exc
    if push is not None:
        if args.out:
            Path(args.out).write_bytes(data)
        return _push(data, rec, url=url, token=token, timeout=getattr(args, "timeout", 60.0))
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


# ----------------------------------------------------------------------------- push to a peer


def endpoint_of(url: str) -> str:
    """The peer's package endpoint: ``url`` itself when it names it, else ``url`` + ENDPOINT."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CommandError(f"--push {url!r}: an http(s) URL, e.g. https://platform.example.cn")
    base = url.strip().rstrip("/")
    return base if parts.path.rstrip("/").endswith(ENDPOINT) else base + ENDPOINT


def post_package(data: bytes, *, url: str, token: str, timeout: float) -> tuple[int, Any]:
    """POST the package; (HTTP status, the answer's JSON or text).  The standard library's client
    (one request, no session): nothing here needs more."""
    request = urllib.request.Request(
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Authorization": f"Bearer {token}",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CommandError(f"cannot reach {url}: {reason}") from exc
    try:
        return status, json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return status, body.decode("utf-8", "replace")[:2000]


def _push(data: bytes, rec: Any, *, url: str, token: str, timeout: float) -> int:
    """Send, print the peer's answer, log the outcome; 1 when the peer refused the package."""
    from dualcontrol.audit.services import record

    status, answer = post_package(data, url=url, token=token, timeout=timeout)
    outcome = answer.get("outcome", "") if isinstance(answer, dict) else ""
    refused = status == 422 or outcome == "refused"
    accepted = status == 200 and outcome in ("imported", "duplicate")
    reason = ""
    if isinstance(answer, dict):
        reason = str(answer.get("reason") or answer.get("detail") or "")
    record(
        actor=None,
        action="exchange.push",
        obj=rec,
        after={"url": url, "status": status, "outcome": outcome, "reason": reason[:1000]},
    )
    print(json.dumps({"status": status, "answer": answer}, ensure_ascii=False, indent=2))
    if refused:
        print(
            f"dualcontrol exchange: package {rec.package_id} refused by {url}: "
            f"{reason or 'no reason given'}",
            file=sys.stderr,
        )
        return 1
    if not accepted:
        raise CommandError(f"{url} answered {status}: {reason or answer}")
    print(
        f"package {rec.package_id} #{rec.sequence} to {rec.recipient_code}: {outcome} by {url}",
        file=sys.stderr,
    )
    return 0
