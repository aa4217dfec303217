"""The secret of an app password: made once, kept only as a hash and a sealed copy.

- The **hash** (SHA-256, hex) finds the app password from the secret alone: the Subsonic
  `apiKey`, and `p=` (the secret sent as a password). A secret is 158 random bits, so a plain
  hash is enough (no salt, no slow hash: there is nothing to guess), and it does not depend on
  `SECRET_KEY`.
- The **sealed copy** (Fernet: AES-128-CBC with HMAC-SHA256) is what the Subsonic token check
  needs, `t = md5(secret + s)`, which only the plain secret can answer. Its key is derived
  from `SECRET_KEY` with HKDF; `SECRET_KEY_FALLBACKS` still open what older keys sealed. A
  sealed copy no key opens (`SECRET_KEY` rotated without a fallback) is no longer usable for
  the token check: `unseal` answers None and the secret still works as `apiKey` and `p=`.

Neither the plain secret nor the account's password is ever stored.
"""

import hashlib
import secrets

from core import sealing

# Lowercase letters and digits without those a phone's font makes look alike (i l 1, o 0):
# typed on a phone keyboard without Shift, and the same in a URL (nothing to escape).
SECRET_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 (symbols, not a secret)
# 32 of 31 symbols: 158 bits.
SECRET_LENGTH = 32
# Names what the derived key is for, so that no other use of SECRET_KEY shares it.
_HKDF_INFO = b"music-streaming-backend: app password seal, v1"


def new_secret() -> str:
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


def key_hash(secret: str) -> str:
    """The lookup hash of a secret (64 hex digits); any text hashes, typed or not."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def seal(secret: str) -> str:
    return sealing.seal(secret, purpose=_HKDF_INFO)


def unseal(sealed: str) -> str | None:
    """The secret; None when no key of this server opens it (or it is not a sealed copy)."""
    return sealing.unseal(sealed, purpose=_HKDF_INFO)
