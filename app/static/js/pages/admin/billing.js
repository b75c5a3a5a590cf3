// Money: subscriptions whose payment failed and where each stands in dunning (when its
// machine is suspended), unpaid invoices, and cancelling a subscription now or at the end
// of its period. Refunds are made from the customer's invoices.

import { api } from '../../lib/api.js';
import { LIVE_SUBSCRIPTIONS } from '../../lib/billing.js';
import { card, h, replaceChildren } from '../../lib/dom.js';
import { money, statusBadge, timeElement } from '../../lib/format.js';
import { alertBox, showMessage } from '../../lib/forms.js';
import { consoleHeader, guarded, isAdmin, listTable, noticeBox, reasonButton } from './console.js';

function customerLink(id, email) {
  return h('a', { href: `/app/admin/customers/${id}` }, email || `Account #${id}`);
}

export default {
  title: 'Billing',
  async mount(main, ctx) {
    const first = await guarded(main, ctx, () => api.get('/api/admin/billing/dunning'));
    if (!first || !ctx.isCurrent()) return;
    let data = first;
    const notice = noticeBox();
    const errors = alertBox('error');
    const content = h('div', { class: 'console-grid' });

    const cancel = (row, when) => {
      const now = when === 'now';
      const machine = `machine #${row.subscription.instance_id}`;
      return reasonButton({
        label: now ? 'Now…' : 'At period end…',
        name: `${now ? 'Cancel now' : 'Cancel at period end'}: the subscription of ${machine}`,
        title: now
          ? `Cancel the subscription of ${machine} now?`
          : `Cancel the subscription of ${machine} at period end?`,
        body: now
          ? 'The machine is destroyed at once and billing ends now.'
          : 'The machine runs until the paid period ends; nothing renews.',
        confirmLabel: now ? 'Cancel now' : 'Cancel at period end',
        danger: now,
        send: (values) =>
          api.post(`/api/admin/billing/subscriptions/${row.subscription.id}/cancel`, {
            ...values,
            when,
          }),
        done: async () => {
          try {
            data = await api.get('/api/admin/billing/dunning');
            showMessage(errors, null);
          } catch (error) {
            showMessage(errors, error);
          }
          render();
          notice.say(`The subscription of ${machine} is being cancelled.`);
        },
      });
    };
    const actions = (row) => {
      const { subscription } = row;
      if (!isAdmin(ctx.user) || !LIVE_SUBSCRIPTIONS.has(subscription.status)) return '—';
      return h(
        'div',
        { class: 'button-row' },
        subscription.cancel_at_period_end ? null : cancel(row, 'period_end'),
        cancel(row, 'now'),
      );
    };

    const render = () =>
      replaceChildren(
        content,
        card(
          { id: 'dunning-title', title: 'Failed payments', className: 'card-wide' },
          h(
            'p',
            { class: 'muted' },
            'A subscription whose payment failed is retried by Stripe; its machine is suspended ' +
              'when the grace period ends, and started again once it is paid.',
          ),
          listTable(data.subscriptions, 'No payment has failed.', {
            caption: 'Subscriptions whose payment failed',
            columns: [
              {
                label: 'Customer',
                head: true,
                cell: (r) => customerLink(r.customer_id, r.customer_email),
              },
              {
                label: 'Machine',
                cell: (r) =>
                  h(
                    'span',
                    {},
                    h(
                      'a',
                      { href: `/app/admin/machines/${r.subscription.instance_id}` },
                      `#${r.subscription.instance_id}`,
                    ),
                    ' ',
                    statusBadge(r.instance_status),
                  ),
              },
              {
                label: 'Monthly',
                cell: (r) => money(r.subscription.amount_cents, r.subscription.currency),
              },
              { label: 'Overdue since', cell: (r) => timeElement(r.subscription.past_due_since) },
              {
                label: 'Suspension',
                cell: (r) =>
                  r.suspended
                    ? h('span', { class: 'badge badge-warn' }, 'Suspended')
                    : h('span', {}, 'From ', timeElement(r.suspends_at, 'not planned')),
              },
              { label: 'Cancel', cell: actions },
            ],
          }),
        ),
        card(
          { id: 'unpaid-title', title: 'Unpaid invoices', className: 'card-wide' },
          listTable(data.invoices, 'No invoice is unpaid.', {
            caption: 'Unpaid invoices, oldest first',
            columns: [
              { label: 'Invoice', head: true, cell: (i) => h('span', { class: 'mono' }, i.id) },
              {
                label: 'Customer',
                cell: (i) => (i.user_id ? customerLink(i.user_id) : '—'),
              },
              {
                label: 'Due',
                cell: (i) => money(i.amount_due_cents - i.amount_paid_cents, i.currency),
              },
              { label: 'Since', cell: (i) => timeElement(i.created_at) },
            ],
          }),
        ),
        card(
          { id: 'refunds-title', title: 'Refunds', className: 'card-wide' },
          h(
            'p',
            {},
            'Refund an invoice, in full or in part, from its customer’s page: ',
            h('a', { href: '/app/admin/customers' }, 'find the customer'),
            '. The refund goes back to the card through Stripe and shows on the customer’s ' +
              'invoice history.',
          ),
        ),
      );

    ctx.setTitle('Billing · Operator console');
    render();
    main.append(...consoleHeader(ctx, 'Billing'), notice.element, errors, content);
  },
};
