// Settings, Billing: where the account stands, and the way to the Billing page.

import { api } from '../../lib/api.js';
import { renewals } from '../../lib/billing.js';
import { card, h, setText } from '../../lib/dom.js';
import { dateTime, money } from '../../lib/format.js';

function summaryText(billing) {
  const { renewing, monthly, currency, next } = renewals(billing.subscriptions);
  if (renewing.length === 0) return 'No subscription renews: order a machine to start one.';
  return (
    `${renewing.length} subscription${renewing.length === 1 ? '' : 's'}, ` +
    `${money(monthly, currency)} a month` + (next ? `; next payment ${dateTime(next)}.` : '.')
  );
}

export function billingTab(ctx) {
  const summary = h('p', {}, 'Loading your subscriptions…');
  api
    .get('/api/billing/subscription')
    .then((billing) => {
      if (ctx.isCurrent()) setText(summary, summaryText(billing));
    })
    .catch(() => {
      if (ctx.isCurrent()) setText(summary, 'Your subscriptions are listed on the Billing page.');
    });
  return card(
    { id: 'settings-billing-title', title: 'Billing', className: 'narrow-card' },
    summary,
    h(
      'p',
      { class: 'muted' },
      'Each machine has its own monthly subscription. Change plans, cancel at the end of a ' +
        'period and download invoices on the Billing page.',
    ),
    h('p', {}, h('a', { class: 'button button-primary', href: '/app/billing' }, 'Go to billing')),
  );
}
