"""Packages exchanged between platform levels (national ↔ province ↔ city): signed, versioned JSON.

A package is one JSON object (schema: ``reference/data/exchange_package_v1.schema.json``)::

    {"format": "dualcontrol-exchange", "version": 1, "package_id": "<uuid>",
     "sender": {"code": "530000", "level": "province", "name": "…"},
     "recipient": {"code": "000000", "level": "national"},
     "direction": "up" | "down", "sequence": 7, "created_at": "2026-12-05T20:00:00+08:00",
     "period": {"year": 2025}, "contents": {…}, "counts": {…},
     "signature": {"alg": "Ed25519", "key_id": "…", "value": "<base64>"}}

The signature is Ed25519 (RFC 8032, ``cryptography``) over the canonical JSON of the package without
its ``signature`` member (keys sorted, no whitespace, UTF-8).  The receiver checks, in order: the
format and version, the recipient (itself), the sender (a known peer) and its key, the signature,
then whether it has seen the package: the same ``package_id`` with the same digest is a duplicate
(importing it again changes nothing), the same id with another digest or a ``sequence`` not above
the last one imported from that sender is refused as tampered or replayed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

FORMAT = "dualcontrol-exchange"
VERSION = 1
ALG = "Ed25519"
LEVELS = ("national", "province", "city")


class PackageRefused(ValueError):
    """A package the receiver refuses whole; ``code`` names the check that failed."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.code = code


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )


def unsigned(package: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in package.items() if k != "signature"}


def digest(package: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical unsigned package (what the signature covers)."""
    return hashlib.sha256(canonical(unsigned(package))).hexdigest()


def key_id(public_key_raw: bytes) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(public_key_raw).hexdigest()[:16]


@dataclass(frozen=True)
class KeyPair:
    private_pem: bytes
    public_raw: bytes

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode("ascii")

    @property
    def key_id(self) -> str:
        return key_id(self.public_raw)


def new_keypair() -> KeyPair:
    private = Ed25519PrivateKey.generate()
    return KeyPair(
        private_pem=private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        public_raw=private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ),
    )


def load_private(pem: bytes) -> KeyPair:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the signing key is not an Ed25519 key")
    return KeyPair(
        private_pem=pem,
        public_raw=key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        ),
    )


def public_key_from_b64(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the public key is not base64") from exc
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return raw


def sign(package: Mapping[str, Any], keys: KeyPair) -> dict[str, Any]:
    """The package with its ``signature`` member."""
    key = serialization.load_pem_private_key(keys.private_pem, password=None)
    assert isinstance(key, Ed25519PrivateKey)
    body = unsigned(package)
    signature = key.sign(canonical(body))
    return {
        **body,
        "signature": {
            "alg": ALG,
            "key_id": keys.key_id,
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }


@dataclass(frozen=True)
class Peer:
    """A platform the receiver knows: its division code, level and public key."""

    code: str
    level: str
    public_raw: bytes

    @property
    def key_id(self) -> str:
        return key_id(self.public_raw)


def verify(
    package: Mapping[str, Any],
    *,
    own_code: str,
    peers: Mapping[str, Peer],
) -> Peer:
    """Check the envelope and the signature; returns the sending peer or raises."""
    if package.get("format") != FORMAT or package.get("version") != VERSION:
        raise PackageRefused(
            f"not a {FORMAT} package of version {VERSION} "
            f"(format {package.get('format')!r}, version {package.get('version')!r})",
            "format",
        )
    recipient = package.get("recipient") or {}
    if recipient.get("code") != own_code:
        raise PackageRefused(
            f"the package is addressed to {recipient.get('code')!r}, not to this platform "
            f"({own_code})",
            "recipient",
        )
    sender_code = (package.get("sender") or {}).get("code")
    peer = peers.get(str(sender_code))
    if peer is None:
        raise PackageRefused(f"the sender {sender_code!r} is not a known peer", "sender")
    if (package.get("sender") or {}).get("level") != peer.level:
        raise PackageRefused(
            f"the sender claims level {(package.get('sender') or {}).get('level')!r}, "
            f"registered as {peer.level!r}",
            "sender",
        )
    sig = package.get("signature")
    if not isinstance(sig, Mapping) or sig.get("alg") != ALG:
        raise PackageRefused("the package is not signed with Ed25519", "signature")
    if sig.get("key_id") != peer.key_id:
        raise PackageRefused(
            f"signed with key {sig.get('key_id')!r}, the sender's key is {peer.key_id}",
            "signature",
        )
    try:
        value = base64.b64decode(str(sig.get("value", "")), validate=True)
        Ed25519PublicKey.from_public_bytes(peer.public_raw).verify(
            value, canonical(unsigned(package))
        )
    except (InvalidSignature, binascii.Error, ValueError) as exc:
        raise PackageRefused(
            "the signature does not match the contents: the package was changed after it "
            "was signed, or not signed by the sender",
            "signature",
        ) from exc
    return peer


def check_seen(
    package: Mapping[str, Any],
    *,
    seen_digest: str | None,
    last_sequence: int | None,
) -> Literal["new", "duplicate"]:
    """Replay protection: ``seen_digest`` is the digest stored for this ``package_id`` (None if
    never imported); ``last_sequence`` the highest sequence imported from this sender."""
    this = digest(package)
    if seen_digest is not None:
        if seen_digest == this:
            return "duplicate"
        raise PackageRefused(
            "a different package with this package_id was imported before (replayed or altered)",
            "replay",
        )
    sequence = package.get("sequence")
    if not isinstance(sequence, int) or isinstance(sequence, bool):
        raise PackageRefused("the sequence is not a whole number", "format")
    if last_sequence is not None and sequence <= last_sequence:
        raise PackageRefused(
            f"sequence {sequence} is not above the last one imported from this sender "
            f"({last_sequence}): an old package replayed, or out of order",
            "replay",
        )
    return "new"
