"""config.settings for the Schemathesis run, with the fast password hasher the tests use.

Every sign-in and sign-up hashes a password, and the fuzzer sends hundreds of them; at the
production cost (PBKDF2, about a second each on a busy 2-core CI machine) they alone would
take minutes. The run checks the API's contract, not the cost of hashing. Everything else
is config.settings as the environment configures it.
"""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
