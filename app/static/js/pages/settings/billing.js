// Settings, Billing: where the account stands, and the way to the Billing page.

import { api } from '../../lib/api.js';
import { card, h, setText } from '../../lib/dom.js';
import { dateTime, money } from '../../lib/format.js';

function summaryText(billing) {
  const live = (billing.subscriptions || []).filter((sub) => sub.status !== 'canceled');
  if (live.length === 0) return 'You have no subscriptions: order a machine to start one.';
  const monthly = live.reduce((total, sub) => total + sub.amount, 0);
  const next = live
    .map((sub) => sub.current_period_end)
    .filter(Boolean)
    .sort()[0];
  return (
    `${live.length} subscription${live.length === 1 ? '' : 's'}, ` +
    `${money(monthly, live[0].currency)} a month` +
    (next ? `; next payment ${dateTime(next)}.` : '.')
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
