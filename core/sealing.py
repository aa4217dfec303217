"""Secrets the server must read back (a Subsonic app password, a scrobbling service's token),
kept sealed: Fernet (AES-128-CBC with HMAC-SHA256) with a key derived from `SECRET_KEY` by
HKDF, one key per `purpose` so that no two uses share it. `SECRET_KEY_FALLBACKS` still open
what older keys sealed; a sealed copy no key opens (`SECRET_KEY` rotated without a fallback)
unseals to None, and its owner is asked for the secret again."""

import base64
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@lru_cache(maxsize=16)
def _derived_key(secret_key: str, purpose: bytes) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
    return base64.urlsafe_b64encode(hkdf.derive(secret_key.encode()))


def _sealer(purpose: bytes) -> MultiFernet:
    # The first key seals; every key opens (Django's own rotation setting).
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([Fernet(_derived_key(key, purpose)) for key in keys])


def seal(secret: str, *, purpose: bytes) -> str:
    return _sealer(purpose).encrypt(secret.encode()).decode("ascii")


def unseal(sealed: str, *, purpose: bytes) -> str | None:
    """The secret; None when no key of this server opens it (or it is not a sealed copy)."""
    try:
        return _sealer(purpose).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, UnicodeError):
        return None
