"""The program's signing key for statements, and the keys a reader trusts.

The key pair is made by one explicit command (``pennytrail keys create``); nothing makes one
silently, so a key that went missing is an error, never a new key that old statements then fail
against. The private key is written readable by its owner only.

A reader verifies against keys they chose: a public key file given for the check, or their
trust list (a file of PEM public keys they keep; ``trust_file()`` says where), never a key
found beside the statement.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .statement import fingerprint

KEY_NAME = "confirmation-ed25519"


class KeyProblem(Exception):
    """A key problem, told in one line."""


def key_paths(home: Path) -> tuple[Path, Path]:
    keys = home / "keys"
    return keys / f"{KEY_NAME}.pem", keys / f"{KEY_NAME}.pub.pem"


def _raw(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_pem(public_key) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint_of(public_key) -> str:
    return fingerprint(_raw(public_key))


@dataclass
class KeyInfo:
    private: Path
    public: Path
    fingerprint: str


def create(home: Path) -> KeyInfo:
    """Make the home's signing key pair; refuse if one is there."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private, public = key_paths(home)
    if private.exists() or public.exists():
        raise KeyProblem(f"a signing key already exists in {private.parent} (fingerprint {show(home).fingerprint}); "
                        "it is kept: statements signed with it must stay verifiable")
    key = Ed25519PrivateKey.generate()
    private.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    public.write_bytes(public_pem(key.public_key()))
    return KeyInfo(private, public, fingerprint_of(key.public_key()))


def load_signing_key(home: Path):
    """The home's private key; a one-line error when it is missing or is not an Ed25519 key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private, _ = key_paths(home)
    if not private.exists():
        raise KeyProblem(f"no signing key in {private.parent}: create it once with "
                        f"`pennytrail keys create --home {home}`")
    try:
        key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    except (ValueError, TypeError) as e:
        raise KeyProblem(f"{private} is not a readable private key ({e})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"{private} is not an Ed25519 key")
    return key


def show(home: Path) -> KeyInfo:
    private, public = key_paths(home)
    if not public.exists():
        raise KeyProblem(f"no signing key in {public.parent}: create it with `pennytrail keys create --home {home}`")
    keys = load_public_keys(public.read_bytes(), str(public))
    return KeyInfo(private, public, next(iter(keys)))


def load_public_keys(data: bytes, source: str) -> dict:
    """The Ed25519 public keys in PEM ``data`` (one or more blocks), by fingerprint."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    out = {}
    text = data.decode("ascii", "replace")
    blocks = [b for b in text.split("-----END PUBLIC KEY-----") if "-----BEGIN PUBLIC KEY-----" in b]
    if not blocks:
        raise KeyProblem(f"{source} holds no PEM public key")
    for block in blocks:
        pem = (block[block.index("-----BEGIN PUBLIC KEY-----"):] + "-----END PUBLIC KEY-----\n").encode("ascii")
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError as e:
            raise KeyProblem(f"{source} holds a public key that cannot be read ({e})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise KeyProblem(f"{source} holds a public key that is not Ed25519")
        out[fingerprint_of(key)] = key
    return out


def trust_file() -> Path:
    """The reader's trust list: ``PENNYTRAIL_TRUST`` or ``~/.config/pennytrail/trusted-keys.pem``."""
    env = os.environ.get("PENNYTRAIL_TRUST")
    if env:
        return Path(env)
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "pennytrail" / "trusted-keys.pem"


def trust(public_key_file: Path, trust_list: Path | None = None) -> tuple[Path, list[str]]:
    """Add the keys of ``public_key_file`` to the trust list; return it and the fingerprints added."""
    target = trust_list or trust_file()
    new = load_public_keys(public_key_file.read_bytes(), str(public_key_file))
    have = load_public_keys(target.read_bytes(), str(target)) if target.exists() else {}
    added = [fp for fp in new if fp not in have]
    if added:
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("ab") as f:
            for fp in added:
                f.write(f"# {fp}\n".encode("ascii") + public_pem(new[fp]))
    return target, added


def verifiers(keys: dict) -> dict:
    """Fingerprint → ``(signature, message) -> bool`` for the given public keys."""
    from cryptography.exceptions import InvalidSignature

    def make(key):
        def check(signature: bytes, message: bytes) -> bool:
            try:
                key.verify(signature, message)
            except InvalidSignature:
                return False
            return True
        return check

    return {fp: make(k) for fp, k in keys.items()}
