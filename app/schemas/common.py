"""Schemas and validators shared by several parts of the API."""

import re

from email_validator import EmailNotValidError, validate_email
from marshmallow import Schema, ValidationError, fields, validate

# Every character that ends a line somewhere: CR, LF, NEL (U+0085), the line and paragraph
# separators (U+2028, U+2029), and the others str.splitlines() breaks on (VT, FF, FS, GS, RS).
LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")

# The local part of an address as mailbox providers issue them: letters, digits and . _ - + '.
# RFC 5322 also allows ? & = % / # and more, which turn into parameters once an address is
# placed in a mailto: link.
LOCAL_PART = re.compile(r"[\w.+'-]+")


class SingleLine(validate.Validator):
    """One line: no line or paragraph separator of any kind (a value may end up in an e-mail
    header or a log line, where a break starts a new one)."""

    error = "Must be a single line."

    def __call__(self, value: str) -> str:
        if any(c in LINE_BREAKS for c in value):
            raise ValidationError(self.error)
        return value


class EmailAddress(validate.Validator):
    """A real address: valid by the email-validator library (no DNS lookup), with a local
    part of the characters mailbox providers issue."""

    def __call__(self, value: str) -> str:
        try:
            address = validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValidationError(f"Not a valid e-mail address: {exc}") from None
        if not LOCAL_PART.fullmatch(address.local_part):
            raise ValidationError(
                "Not a valid e-mail address: use letters, digits and . _ - + ' before the @."
            )
        return value


# The address of an account, wherever one is chosen (sign-up, address change, reset).
EMAIL = fields.Email(required=True, validate=[validate.Length(max=254), EmailAddress()])


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    field_errors = fields.Dict(keys=fields.String(), data_key="fields")
    request_id = fields.String()


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


class MessageSchema(Schema):
    message = fields.String(required=True)
