"""OCPP security profiles 1 and 2: HTTP basic auth on the WebSocket upgrade, over TLS.

A charger authenticates with its identity as user name and its password (1.6
``AuthorizationKey``, 2.0.1 ``BasicAuthPassword``). Passwords come from a secret file, one
``identity:password`` line per charger; they are compared in constant time and never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ssl
from pathlib import Path


class SecurityError(ValueError):
    """The security set-up cannot be used; the message names the file and what is wrong."""


def load_passwords(path: Path) -> dict[str, str]:
    """``identity -> password`` from ``identity:password`` lines (``#`` comments, blanks)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SecurityError(f"{path}: cannot read: {error.strerror}") from None
    passwords: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        identity, sep, password = stripped.partition(":")
        if not sep or not identity or not password:
            raise SecurityError(f"{path}:{number}: expected identity:password")
        passwords[identity] = password
    return passwords


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) of an ``Authorization: Basic`` header, ``None`` if there is none."""
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else None


def authorised(header: str | None, identity: str, passwords: dict[str, str]) -> bool:
    """The header carries ``identity`` and its password (OCPP: the user is the identity)."""
    credentials = basic_credentials(header)
    expected = passwords.get(identity)
    if credentials is None or expected is None:
        return False
    user, password = credentials
    same_user = hmac.compare_digest(user.encode(), identity.encode())
    same_password = hmac.compare_digest(password.encode(), expected.encode())
    return same_user and same_password


def server_tls(cert: Path, key: Path) -> ssl.SSLContext:
    """TLS 1.2 or newer, as OCPP security profile 2 asks."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as error:
        raise SecurityError(f"{cert}, {key}: cannot load the TLS certificate: {error}") from None
    return context
