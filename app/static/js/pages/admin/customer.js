// One customer in full: the account, machines, subscriptions, invoices, tickets, API tokens,
// sign-ins and audit trail; suspend or unsuspend, refund an invoice, cancel a subscription,
// end a sign-in or revoke a token, each with a reason. Machines are followed while they move.

import { ApiError, api } from '../../lib/api.js';
import { LIVE_SUBSCRIPTIONS, invoiceStanding } from '../../lib/billing.js';
import { card, h, replaceChildren } from '../../lib/dom.js';
import { isTransitional, money, regionName, statusBadge, timeElement } from '../../lib/format.js';
import { breadcrumb } from '../../lib/layout.js';
import { Poller } from '../../lib/poller.js';
import { priorityBadge, ticketStatusBadge } from '../../lib/tickets.js';
import {
  centsOf,
  changeText,
  consoleHeader,
  facts,
  firstView,
  isAdmin,
  listTable,
  noticeBox,
  numbered,
  reasonButton,
} from './console.js';
import { accountBadge, roleName } from './customers.js';

/** Who did something on this account: the customer, an operator, or the platform itself. */
export function actorName(actorId, customerId) {
  if (actorId === null || actorId === undefined) return 'NemoRDP';
  if (actorId === customerId) return 'The customer';
  return h('a', { href: `/app/admin/customers/${actorId}` }, `Account #${actorId}`);
}

export function machineCell(machine) {
  return h(
    'span',
    {},
    h('a', { href: `/app/admin/machines/${machine.id}`, class: 'instance-link' }, machine.name),
    h(
      'span',
      { class: 'muted small block' },
      `${machine.plan_name} · ${regionName(machine.region)}`,
    ),
  );
}

export function statusCell(machine) {
  return h(
    'span',
    {},
    statusBadge(machine.status),
    machine.status_reason ? h('span', { class: 'status-reason' }, machine.status_reason) : null,
  );
}

function refundLeft(invoice) {
  return invoice.status === 'paid' ? invoice.amount_paid_cents - invoice.amount_refunded_cents : 0;
}

function subscriptionState(subscription) {
  if (subscription.cancel_at_period_end && LIVE_SUBSCRIPTIONS.has(subscription.status)) {
    return h('span', { class: 'badge badge-warn' }, 'Not renewing');
  }
  const tone = { active: 'ok', past_due: 'warn', unpaid: 'error' }[subscription.status];
  const label = subscription.status.replaceAll('_', ' ');
  return h(
    'span',
    { class: `badge badge-${tone || 'neutral'}` },
    label[0].toUpperCase() + label.slice(1),
  );
}

export default {
  title: 'Customer',
  async mount(main, ctx) {
    const id = ctx.params.id;
    const path = `/api/admin/customers/${id}`;
    const fetchView = () => numbered(id, () => api.get(path));
    let view = await firstView(
      main,
      ctx,
      fetchView,
      'Customer',
      'There is no account with this number.',
    );
    if (!view) return;
    const admin = isAdmin(ctx.user);
    const notice = noticeBox();
    const header = h('div');
    const content = h('div', { class: 'console-grid' });
    const machinesBody = h('div');
    main.append(breadcrumb('/app/admin/customers', 'Customers'), header, notice.element, content);

    let shownMachines = '';
    const after = async (message) => {
      view = (await fetchView()) || view;
      if (!ctx.isCurrent()) return;
      render();
      notice.say(message);
      poller.now();
    };
    const send = (url, body) => api.post(url, body);

    const machinesTable = () =>
      listTable(view.machines, 'No machines.', {
        caption: 'Machines of the account',
        columns: [
          { label: 'Machine', head: true, cell: machineCell },
          { label: 'Status', cell: statusCell },
          { label: 'Address', cell: (m) => m.ip_address || '—' },
          { label: 'Ordered', cell: (m) => timeElement(m.created_at) },
        ],
        rowAttrs: (m) => ({ dataset: { instanceId: m.id } }),
      });

    const suspension = () => {
      const { customer } = view;
      if (!admin || customer.erased_at) return [];
      if (customer.suspended_at) {
        return reasonButton({
          label: 'Unsuspend…',
          title: `Unsuspend ${customer.email}?`,
          body:
            'They can sign in and order again; the machines the suspension stopped start ' +
            'again. They are e-mailed.',
          confirmLabel: 'Unsuspend',
          primary: true,
          send: (values) => send(`${path}/unsuspend`, values),
          done: (result) =>
            after(`The account is no longer suspended; ${result.jobs.length} machine(s) starting.`),
        });
      }
      return reasonButton({
        label: 'Suspend…',
        title: `Suspend ${customer.email}?`,
        body:
          'Their running machines are stopped, every sign-in ends, sign-in and orders are ' +
          'refused, and they are e-mailed the reason.',
        confirmLabel: 'Suspend account',
        danger: true,
        send: (values) => send(`${path}/suspend`, values),
        done: (result) =>
          after(`The account is suspended; ${result.jobs.length} machine(s) stopping.`),
      });
    };

    const refundButton = (invoice) => {
      const left = refundLeft(invoice);
      if (!admin || left <= 0) return null;
      const most = money(left, invoice.currency);
      return reasonButton({
        label: 'Refund…',
        name: `Refund invoice ${invoice.id}`,
        title: `Refund invoice ${invoice.id}?`,
        body: `Up to ${most} can be given back to the card that paid it, through Stripe.`,
        confirmLabel: 'Refund',
        danger: true,
        inputs: [
          {
            name: 'amount_cents',
            label: `Amount (${invoice.currency.toUpperCase()})`,
            hint: `At most ${most}; leave it empty to refund all of that.`,
            inputmode: 'decimal',
            autocomplete: 'off',
          },
        ],
        send: (values) => {
          const typed = values.amount_cents.trim();
          const cents = typed ? centsOf(typed) : null;
          if (typed && (cents === null || cents < 1 || cents > left)) {
            throw new ApiError(422, 'validation_error', 'Check the amount.', {
              amount_cents: [`Give an amount from 0.01 to ${most}, such as 12.50.`],
            });
          }
          return send(`/api/admin/billing/invoices/${invoice.invoice_id}/refund`, {
            reason: values.reason,
            ...(cents === null ? {} : { amount_cents: cents }),
          });
        },
        done: (refunded) =>
          after(
            `Invoice ${invoice.id} refunded: ` +
              `${money(refunded.amount_refunded_cents, refunded.currency)} given back in all.`,
          ),
      });
    };

    const cancelButtons = (subscription) => {
      if (!admin || !LIVE_SUBSCRIPTIONS.has(subscription.status)) return null;
      const machine = `machine #${subscription.instance_id}`;
      const cancel = (when, label, confirmLabel, body, danger) =>
        reasonButton({
          label,
          name: `${confirmLabel}: the subscription of ${machine}`,
          title: `${confirmLabel}: the subscription of ${machine}?`,
          body,
          confirmLabel,
          danger,
          send: (values) =>
            send(`/api/admin/billing/subscriptions/${subscription.id}/cancel`, { ...values, when }),
          done: () => after('The cancellation is under way.'),
        });
      return h(
        'div',
        { class: 'button-row' },
        subscription.cancel_at_period_end
          ? null
          : cancel(
              'period_end',
              'At period end…',
              'Cancel at period end',
              'The machine runs until the paid period ends, then the subscription ends.',
              false,
            ),
        cancel(
          'now',
          'Now…',
          'Cancel now',
          'The machine is destroyed at once and billing ends now.',
          true,
        ),
      );
    };

    const revoke = (kind, item, label) =>
      reasonButton({
        label: 'Revoke…',
        name: `Revoke ${label}`,
        title: `Revoke ${label}?`,
        body:
          kind === 'logins'
            ? 'That browser is signed out at once.'
            : 'Programs using this token are refused from now on.',
        confirmLabel: 'Revoke',
        danger: true,
        send: (values) => send(`${path}/${kind}/${item.id}/revoke`, values),
        done: () => after(`${label[0].toUpperCase()}${label.slice(1)} revoked.`),
      });

    const render = () => {
      const { customer } = view;
      const name = customer.full_name ? `${customer.full_name} · ` : '';
      ctx.setTitle(`${customer.email} · Operator console`);
      replaceChildren(
        header,
        consoleHeader(ctx, customer.email, {
          subtitle: `${name}${roleName(customer.role)} · account #${customer.id}`,
          actions: h('div', { class: 'button-row' }, suspension()),
        }),
      );
      shownMachines = JSON.stringify(view.machines);
      replaceChildren(machinesBody, machinesTable());
      replaceChildren(
        content,
        card(
          { id: 'account-title', title: 'Account' },
          facts([
            ['Standing', accountBadge(customer)],
            customer.suspended_at
              ? [
                  'Suspended',
                  h(
                    'span',
                    {},
                    timeElement(customer.suspended_at),
                    ` — ${customer.suspension_reason || ''}`,
                  ),
                ]
              : null,
            ['Role', roleName(customer.role)],
            ['Signed up', timeElement(customer.created_at)],
            ['Two-factor sign-in', customer.two_factor_enabled ? 'On' : 'Off'],
            ['Stripe customer', customer.stripe_customer_id || '—'],
          ]),
        ),
        card({ id: 'machines-title', title: 'Machines' }, machinesBody),
        card(
          { id: 'subscriptions-title', title: 'Subscriptions', className: 'card-wide' },
          listTable(view.subscriptions, 'No subscriptions.', {
            caption: 'Subscriptions',
            columns: [
              {
                label: 'Machine',
                head: true,
                cell: (s) =>
                  h('a', { href: `/app/admin/machines/${s.instance_id}` }, `#${s.instance_id}`),
              },
              { label: 'Plan', cell: (s) => s.plan },
              { label: 'Monthly', cell: (s) => money(s.amount_cents, s.currency) },
              { label: 'State', cell: subscriptionState },
              { label: 'Period ends', cell: (s) => timeElement(s.current_period_end) },
              { label: 'Cancel', cell: (s) => cancelButtons(s) || '—' },
            ],
          }),
        ),
        card(
          { id: 'invoices-title', title: 'Invoices', className: 'card-wide' },
          listTable(view.invoices, 'No invoices.', {
            caption: 'Invoices',
            columns: [
              { label: 'Invoice', head: true, cell: (i) => h('span', { class: 'mono' }, i.id) },
              { label: 'Date', cell: (i) => timeElement(i.created_at) },
              { label: 'Paid', cell: (i) => money(i.amount_paid_cents, i.currency) },
              { label: 'Refunded', cell: (i) => money(i.amount_refunded_cents, i.currency) },
              {
                label: 'Standing',
                cell: (i) => {
                  const standing = invoiceStanding(i);
                  return h('span', { class: `badge badge-${standing.tone}` }, standing.label);
                },
              },
              { label: 'Refund', cell: (i) => refundButton(i) || '—' },
            ],
            rowAttrs: (i) => ({ dataset: { invoice: i.id } }),
          }),
        ),
        card(
          { id: 'tickets-title', title: 'Tickets' },
          listTable(view.tickets, 'No tickets.', {
            caption: 'Support tickets',
            columns: [
              {
                label: 'Ticket',
                head: true,
                cell: (t) => h('a', { href: `/app/staff/tickets/${t.id}` }, t.subject),
              },
              { label: 'Priority', cell: (t) => priorityBadge(t.priority) },
              { label: 'Status', cell: (t) => ticketStatusBadge(t.status) },
            ],
          }),
        ),
        card(
          { id: 'tokens-title', title: 'API tokens' },
          listTable(view.api_tokens, 'No live API tokens.', {
            caption: 'Live API tokens',
            columns: [
              { label: 'Token', head: true, cell: (t) => `${t.name} (${t.prefix}…)` },
              { label: 'Last used', cell: (t) => timeElement(t.last_used_at, 'Never') },
              { label: 'Revoke', cell: (t) => revoke('tokens', t, `the API token ${t.name}`) },
            ],
          }),
        ),
        card(
          { id: 'logins-title', title: 'Sign-ins' },
          listTable(view.logins, 'Not signed in anywhere.', {
            caption: 'Live sign-ins',
            columns: [
              { label: 'Signed in', head: true, cell: (l) => timeElement(l.created_at) },
              { label: 'Until', cell: (l) => timeElement(l.expires_at) },
              { label: 'Remembered', cell: (l) => (l.remember ? 'Yes' : 'No') },
              { label: 'Revoke', cell: (l) => revoke('logins', l, `sign-in #${l.id}`) },
            ],
          }),
        ),
        card(
          { id: 'audit-title', title: 'Audit trail', className: 'card-wide' },
          listTable(view.audit, 'Nothing recorded.', {
            caption: 'Audit trail of the account',
            columns: [
              { label: 'When', head: true, cell: (e) => timeElement(e.created_at) },
              { label: 'Action', cell: (e) => h('span', { class: 'mono' }, e.action) },
              { label: 'By', cell: (e) => actorName(e.actor_id, customer.id) },
              { label: 'Reason', cell: (e) => e.reason || '—' },
              { label: 'Change', cell: (e) => changeText(e.before, e.after) || '—' },
            ],
          }),
          isAdmin(ctx.user)
            ? h(
                'p',
                {},
                h(
                  'a',
                  { href: `/app/admin/audit?customer=${customer.id}` },
                  'Search the audit log for this account',
                ),
              )
            : null,
        ),
      );
    };

    // Machines move after a suspension and its lifting: follow them while they do.
    const poller = new Poller(
      async () => {
        const fresh = await fetchView();
        if (!fresh || !ctx.isCurrent()) return false;
        const machines = JSON.stringify(fresh.machines);
        if (machines !== shownMachines) {
          shownMachines = machines;
          view = { ...view, machines: fresh.machines };
          replaceChildren(machinesBody, machinesTable());
        }
        return fresh.machines.some((machine) => isTransitional(machine.status));
      },
      { interval: 5000, busyInterval: 1000 },
    );
    ctx.onDispose(() => poller.stop());
    render();
    poller.start(5000);
  },
};
