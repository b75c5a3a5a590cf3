"""Invoice documents for the local Stripe double: the hosted invoice page and its PDF.

This module exists only because localstripe 1.15.10 leaves ``hosted_invoice_url`` and
``invoice_pdf`` out of its invoices. Like Stripe, the local server sets both once an invoice
is finalized (they stay null on a draft) and serves them without an API key, as the
customer's browser opens them:

- ``GET /invoice/{id}``: a plain HTML page with the invoice's lines, total and status.
- ``GET /invoice/{id}/pdf``: the same as a one-page PDF (``application/pdf``).

Production code never imports it; it stores the two URLs from Stripe's invoice objects.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from localstripe.errors import UserError
from localstripe.resources import Invoice

from devtools.stripe_compat import Route

DOCUMENT_PREFIX = "/invoice/"  # browser documents: no API key, like invoice.stripe.com
_public_url = "http://127.0.0.1:8420"  # where browsers reach this server; see set_public_url


def set_public_url(url: str) -> None:
    """The server's address as the documents' links should name it (set once it listens)."""
    global _public_url
    _public_url = url.rstrip("/")


def _document_url(invoice: Any, suffix: str = "") -> str | None:
    if invoice.status == "draft":
        return None
    return f"{_public_url}{DOCUMENT_PREFIX}{invoice.id}{suffix}"


def install_patches() -> None:
    """Give localstripe's invoices Stripe's two document links; idempotent."""
    Invoice.hosted_invoice_url = property(_document_url)
    Invoice.invoice_pdf = property(lambda invoice: _document_url(invoice, "/pdf"))


# --- What an invoice document says --------------------------------------------------------


def _money(cents: int, currency: str) -> str:
    return f"{cents / 100:,.2f} {currency.upper()}"


def _summary(invoice: Any) -> list[str]:
    """The document's lines of text, top to bottom."""
    currency = invoice.currency or "usd"
    created = datetime.fromtimestamp(invoice.date, tz=UTC).strftime("%d %b %Y")
    lines = [
        f"Invoice {invoice.id}",
        f"Date: {created}",
        f"Billed to: {invoice.customer_email or invoice.customer}",
        "",
    ]
    lines += [
        f"{line.description or 'Item'}: {_money(line.amount, currency)}"
        for line in invoice.lines._list
    ]
    lines += ["", f"Total: {_money(invoice.total, currency)}", f"Status: {invoice.status}"]
    return lines


def _invoice(request: web.Request) -> Any | None:
    try:
        invoice = Invoice._api_retrieve(request.match_info["id"])
    except UserError:
        return None
    return None if invoice.status == "draft" else invoice


def render_pdf(lines: list[str]) -> bytes:
    """A one-page PDF (A4, Helvetica 12 pt) showing ``lines`` of Latin-1 text."""

    def escape(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "".join(f"({escape(line)}) Tj T* " for line in lines)
    stream = f"BT /F1 12 Tf 16 TL 56 780 Td {text}ET".encode("latin-1", "replace")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
    ]
    document = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(document))
        document += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(document)
    document += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    document += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    document += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(document)


# --- Routes ---------------------------------------------------------------------------------


def _not_found() -> web.Response:
    return web.Response(text="There is no such invoice.\n", status=404)


async def hosted_page(request: web.Request) -> web.Response:
    invoice = _invoice(request)
    if invoice is None:
        return _not_found()
    lines = _summary(invoice)
    items = "".join(f"<p>{html.escape(line)}</p>" for line in lines[1:] if line)
    pdf = html.escape(_document_url(invoice, "/pdf") or "")
    text = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(lines[0])} · local Stripe</title></head><body><main>"
        f"<h1>{html.escape(lines[0])}</h1>{items}"
        f'<p><a href="{pdf}">Download the PDF</a></p></main></body></html>\n'
    )
    return web.Response(text=text, content_type="text/html")


async def pdf_document(request: web.Request) -> web.Response:
    invoice = _invoice(request)
    if invoice is None:
        return _not_found()
    return web.Response(
        body=render_pdf(_summary(invoice)),
        content_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{invoice.id}.pdf"'},
    )


ROUTES: list[Route] = [
    ("GET", DOCUMENT_PREFIX + "{id}", hosted_page),
    ("GET", DOCUMENT_PREFIX + "{id}/pdf", pdf_document),
]
