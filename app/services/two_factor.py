"""Two-factor sign-in: TOTP (RFC 6238) from an authenticator app, and recovery codes.

Enrolment stores a new secret (encrypted at rest) that takes effect only once a code from
it is confirmed; the recovery codes are shown at that moment only, and kept as digests.
Sign-in with two-factor is two calls: the password answers with a signed, short-lived
challenge, which `complete_login` exchanges once, with a code, for the session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import timedelta
from typing import Any

import pyotp
import segno
from sqlalchemy import delete, func, select, update

from app import task_names
from app.errors import Conflict, Forbidden, Unauthorized, ValidationFailed
from app.extensions import db
from app.models import LoginChallenge, RecoveryCode, User
from app.models.base import utcnow
from app.security import crypto, signing
from app.services import audit
from app.services.account_settings import check_password
from app.services.tasks import enqueue

ISSUER = "NemoRDP"
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read off paper. Ten characters of 31 carry about 49 bits.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CHALLENGE_PURPOSE = "login-2fa"
CHALLENGE_LIFETIME = timedelta(minutes=5)
# Wrong codes allowed per challenge; then the password must be entered again.
CHALLENGE_ATTEMPTS = 5
EXPIRED_CHALLENGE = "This sign-in has expired; enter your password again."


def begin(user: User, password: str) -> dict[str, str]:
    """Make a new secret for the user to scan; it takes effect once `confirm`ed."""
    check_password(user, password, field="password", purpose="two_factor_setup")
    if user.two_factor_enabled:
        raise Conflict("Two-factor sign-in is already on; turn it off first.")
    secret = pyotp.random_base32()
    user.totp_secret_encrypted = crypto.encrypt(secret)
    user.totp_last_counter = None
    db.session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)
    return {
        "secret": secret,
        "otpauth_uri": uri,
        "qr_svg": segno.make(uri, error="m").svg_data_uri(scale=4),
    }


def confirm(user: User, code: str) -> list[str]:
    """Turn two-factor sign-in on with a first code; returns the recovery codes, once."""
    if user.two_factor_enabled:
        raise Conflict("Two-factor sign-in is already on.")
    if user.totp_secret_encrypted is None:
        raise Conflict("Start the set-up first.")
    if not _verify_totp(user, code):
        audit.record("auth.two_factor_failed", user.id, purpose="setup")
        db.session.commit()
        raise ValidationFailed(fields={"code": ["Wrong code; check the clock of your device."]})
    user.totp_enabled_at = utcnow()
    codes = _new_recovery_codes(user)
    event = audit.record("account.two_factor_enabled", user.id)
    db.session.commit()
    enqueue(task_names.SEND_SECURITY_NOTICE, event.id)
    return codes


def disable(user: User, password: str, code: str) -> None:
    """Turn two-factor sign-in off, with the password and a current or recovery code."""
    check_password(user, password, field="password", purpose="two_factor_disable")
    _require_second_factor(user, code)
    user.totp_secret_encrypted = None
    user.totp_enabled_at = None
    user.totp_last_counter = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    event = audit.record("account.two_factor_disabled", user.id)
    db.session.commit()
    enqueue(task_names.SEND_SECURITY_NOTICE, event.id)


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """Replace every recovery code (the old ones stop working); needs a current code."""
    _require_second_factor(user, code)
    codes = _new_recovery_codes(user)
    audit.record("account.recovery_codes_regenerated", user.id)
    db.session.commit()
    return codes


def _require_second_factor(user: User, code: str) -> None:
    if not user.two_factor_enabled:
        raise Conflict("Two-factor sign-in is off.")
    if not verify(user, code):
        audit.record("auth.two_factor_failed", user.id, purpose="settings")
        db.session.commit()
        raise Forbidden("Wrong code.", {"code": ["Wrong code."]})


# -- sign-in ------------------------------------------------------------------------------
def challenge_for(user: User, *, remember: bool) -> str:
    """A signed, short-lived proof that the password was right, to exchange once, with a
    code, for a session.

    It names the user and a random nonce of a `LoginChallenge` row (which keeps only the
    nonce's digest), spent by the first sign-in; a password change meanwhile voids it.
    """
    nonce = secrets.token_urlsafe(32)
    db.session.add(
        LoginChallenge(
            user_id=user.id,
            secret_hash=_digest(nonce),
            remember=remember,
            expires_at=utcnow() + CHALLENGE_LIFETIME,
        )
    )
    db.session.commit()
    return signing.sign({"user": user.id, "nonce": nonce}, CHALLENGE_PURPOSE)


def complete_login(challenge: str, code: str) -> tuple[User, bool]:
    """The user a challenge and a code sign in, and whether to remember them; else 401.

    A challenge gives one session at most. Wrong codes are recorded (rate limits count
    them) and a challenge allows only a few.
    """
    try:
        payload, _ = signing.unsign(challenge, CHALLENGE_PURPOSE, CHALLENGE_LIFETIME)
    except signing.InvalidSignature:
        raise Unauthorized(EXPIRED_CHALLENGE) from None
    # Locked, so two requests racing with one challenge (or one code) queue up: the second
    # finds the challenge spent.
    found = db.session.execute(
        select(LoginChallenge, User)
        .join(User, User.id == LoginChallenge.user_id)
        .where(
            LoginChallenge.user_id == payload["user"],
            LoginChallenge.secret_hash == _digest(payload["nonce"]),
        )
        .with_for_update()
    ).first()
    if found is None:
        raise Unauthorized(EXPIRED_CHALLENGE)
    pending, user = found
    if (
        pending.used_at is not None
        or pending.expires_at <= utcnow()
        or not user.is_active
        or not user.two_factor_enabled
    ):
        raise Unauthorized(EXPIRED_CHALLENGE)
    if pending.failures >= CHALLENGE_ATTEMPTS:
        raise Unauthorized("Too many wrong codes; enter your password again.")
    if not verify(user, code):
        pending.failures += 1
        audit.record("auth.two_factor_failed", user.id, purpose="login")
        db.session.commit()
        raise Unauthorized("Wrong code.")
    pending.used_at = utcnow()
    audit.record("auth.login", user.id, second_factor=True)
    db.session.commit()
    return user, pending.remember


# -- codes --------------------------------------------------------------------------------
def verify(user: User, code: str) -> bool:
    """A TOTP code not used before, or an unused recovery code (then spent)."""
    code = "".join(code.split()).lower()
    if len(code) == 6 and code.isdigit():
        return _verify_totp(user, code)
    return _spend_recovery_code(user, code)


def _verify_totp(user: User, code: str) -> bool:
    """Accept the code of this 30-second step or a neighbour (clocks drift), each only once."""
    code = "".join(code.split())
    if user.totp_secret_encrypted is None or len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(crypto.decrypt(user.totp_secret_encrypted))
    now = time.time()
    step = totp.timecode(now)
    for offset in (0, -1, 1):
        if hmac.compare_digest(totp.at(now, counter_offset=offset), code):
            if user.totp_last_counter is not None and step + offset <= user.totp_last_counter:
                return False  # replayed
            user.totp_last_counter = step + offset
            return True
    return False


def _digest(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes: list[str] = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_digest(raw)))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def _spend_recovery_code(user: User, code: str) -> bool:
    raw = code.replace("-", "")
    if len(raw) != 10:
        return False
    # A conditional update: of two requests racing with one code, only one spends it.
    spent = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(raw),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
    )
    if getattr(spent, "rowcount", 0) != 1:
        return False
    audit.record("auth.recovery_code_used", user.id, remaining=_remaining_codes(user))
    return True


def _remaining_codes(user: User) -> int:
    count = db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return int(count or 0)


def status(user: User) -> dict[str, Any]:
    return {
        "enabled": user.two_factor_enabled,
        "recovery_codes_left": _remaining_codes(user) if user.two_factor_enabled else 0,
    }
