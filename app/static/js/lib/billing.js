// Subscriptions as the billing pages sum them up.

/** Stripe's states of a subscription that still pays for a machine. */
export const LIVE_SUBSCRIPTIONS = new Set([
  'active',
  'trialing',
  'past_due',
  'incomplete',
  'unpaid',
]);

/** The subscriptions renewing next period, what they cost a month, and the next payment. */
export function renewals(subscriptions) {
  const renewing = subscriptions.filter(
    (sub) => LIVE_SUBSCRIPTIONS.has(sub.status) && !sub.cancel_at_period_end,
  );
  return {
    renewing,
    monthly: renewing.reduce((total, sub) => total + sub.amount_cents, 0),
    currency: renewing[0]?.currency || 'usd',
    next: renewing
      .map((sub) => sub.current_period_end_at)
      .filter(Boolean)
      .sort()[0],
  };
}

const INVOICE_STATUS = {
  draft: 'Draft',
  open: 'Due',
  paid: 'Paid',
  void: 'Void',
  uncollectible: 'Uncollectible',
};

/** How an invoice reads in the history: its label, badge tone, and the amount to show. */
export function invoiceStanding(invoice) {
  const paid = invoice.status === 'paid';
  if (paid && invoice.refunded) {
    return { label: 'Refunded', tone: 'neutral', amount: invoice.amount_refunded_cents };
  }
  if (paid && invoice.amount_refunded_cents > 0) {
    return { label: 'Partly refunded', tone: 'neutral', amount: invoice.amount_paid_cents };
  }
  return {
    label: INVOICE_STATUS[invoice.status] || invoice.status,
    tone: paid ? 'ok' : 'neutral',
    amount: paid ? invoice.amount_paid_cents : invoice.amount_due_cents,
  };
}
