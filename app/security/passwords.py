"""Password hashing with argon2id at OWASP's documented cost.

The Password Storage Cheat Sheet lists equivalent argon2id settings; we use its
m=19456 KiB (19 MiB), t=2, p=1, with a 16-byte salt and a 32-byte hash. A hash made with
other parameters (argon2-cffi's defaults before: m=65536, t=3, p=4) still verifies and is
replaced at the next sign-in (`needs_rehash`).
"""

from argon2 import Parameters, PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

PARAMETERS = Parameters(
    type=Type.ID,
    version=19,
    salt_len=16,
    hash_len=32,
    time_cost=2,
    memory_cost=19456,
    parallelism=1,
)

_hasher = PasswordHasher.from_parameters(PARAMETERS)

# Verified against when the e-mail is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


MACHINE_PASSWORD_SPECIALS = "!@#$^&*?_~"  # the set every provider accepts


def generate_machine_password(length: int = 20) -> str:
    """A random password that satisfies every provider's rules (Contabo's are strictest:
    upper and lower case, 3+ digits and a special character)."""
    import secrets
    import string

    required = [
        *(secrets.choice(string.ascii_uppercase) for _ in range(2)),
        *(secrets.choice(string.ascii_lowercase) for _ in range(2)),
        *(secrets.choice(string.digits) for _ in range(3)),
        *(secrets.choice(MACHINE_PASSWORD_SPECIALS) for _ in range(2)),
    ]
    alphabet = string.ascii_letters + string.digits
    rest = [secrets.choice(alphabet) for _ in range(length - len(required))]
    chars = required + rest
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
