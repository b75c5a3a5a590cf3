"""The desktop in the browser: a Remote Desktop client behind a WebSocket gateway.

`rdp` holds one connection to a machine (aardwolf), `keys` the browser's key codes as
scancodes, `frames` the wire format of the WebSocket, `gateway` the server that redeems a
console ticket and joins the two. Tickets are issued by `app.services.console`.
"""
