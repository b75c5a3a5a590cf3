"""The console ticket as the API answers it."""

from marshmallow import Schema, fields


class ConsoleTicketSchema(Schema):
    ticket = fields.String(required=True, metadata={"description": "Send as the first message."})
    url = fields.String(required=True, metadata={"description": "The gateway's WebSocket."})
    expires_in = fields.Integer(required=True, metadata={"description": "Seconds to use it."})
