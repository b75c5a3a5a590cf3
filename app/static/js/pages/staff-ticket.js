// Staff: one ticket with its thread and the customer's machines (never their credentials);
// answer it (choosing the status it moves to), or change its status and priority.

import { api } from '../lib/api.js';
import { announce, card, h } from '../lib/dom.js';
import { osName, regionName, statusBadge } from '../lib/format.js';
import { field, submitForm } from '../lib/forms.js';
import { breadcrumb, showMissing } from '../lib/layout.js';
import { mailtoHref } from '../lib/links.js';
import { isStaff } from '../lib/session.js';
import { notAllowed } from '../lib/staff.js';
import {
  PRIORITIES,
  STATUSES,
  options,
  priorityBadge,
  replyForm,
  thread,
  ticketStatusBadge,
  ticketSubtitle,
} from '../lib/tickets.js';

function machinesCard(machines) {
  return card(
    { id: 'machines-title', title: 'Machines on the account' },
    machines.length === 0
      ? h('p', { class: 'muted' }, 'No machines.')
      : h(
          'ul',
          { class: 'machine-list' },
          machines.map((machine) =>
            h(
              'li',
              {},
              h('strong', {}, machine.name),
              ' ',
              statusBadge(machine.status),
              h(
                'span',
                { class: 'muted small block' },
                `${machine.plan_name} · ${osName(machine.os_type)} · ` +
                  `${regionName(machine.region)} · ${machine.ip_address || 'no address'}`,
              ),
            ),
          ),
        ),
  );
}

function settingsForm(ticket, onSaved) {
  const status = field({ label: 'Status', tag: 'select', name: 'status' });
  status.input.append(...options(STATUSES));
  status.input.value = ticket.status;
  const priority = field({ label: 'Priority', tag: 'select', name: 'priority' });
  priority.input.append(...options(PRIORITIES));
  priority.input.value = ticket.priority;
  const { form, submit } = submitForm({
    children: [status.element, priority.element],
    label: 'Save changes',
    busyLabel: 'Saving…',
    fields: { status, priority },
    send: async () => {
      const updated = await api.patch(`/api/support/staff/tickets/${ticket.id}`, {
        status: status.input.value,
        priority: priority.input.value,
      });
      announce('Ticket updated.');
      onSaved(updated);
    },
  });
  const element = card({ id: 'ticket-settings-title', title: 'Status and priority' }, form);
  return { element, focus: () => submit.focus() };
}

export default {
  title: 'Ticket',
  async mount(main, ctx) {
    main.append(
      breadcrumb('/app/staff/tickets', 'All tickets'),
    );
    if (!isStaff(ctx.user)) {
      main.replaceChildren();
      notAllowed(main, ctx);
      return;
    }
    const id = ctx.params.id;
    let view = null;
    try {
      view = /^\d+$/.test(id) ? await api.get(`/api/support/staff/tickets/${id}`) : null;
    } catch (error) {
      if (!ctx.isCurrent()) return;
      if (error.status === 403) {
        main.replaceChildren();
        notAllowed(main, ctx);
        return;
      }
      if (error.status !== 404) throw error;
    }
    if (!ctx.isCurrent()) return;
    if (!view) {
      showMissing(main, ctx, 'Ticket', 'There is no ticket with this number.');
      return;
    }

    const { customer } = view.ticket;
    const customerName = customer.full_name || customer.email;
    const authorName = (message) =>
      message.author === 'customer'
        ? customerName
        : message.author_id === ctx.user.id
          ? 'You (staff)'
          : `Staff #${message.author_id}`;
    const content = h('div');
    main.append(content);

    const render = (focus = null) => {
      const { ticket } = view;
      ctx.setTitle(ticket.subject);
      const after = field({ label: 'Status after the reply', tag: 'select', name: 'status' });
      after.input.append(...options(STATUSES));
      after.input.value = 'waiting_on_customer';
      const settings = settingsForm(ticket, (updated) => {
        view = { ...view, ticket: { ...view.ticket, ...updated } };
        render('settings');
      });
      const reply = replyForm({
        label: 'Your answer',
        buttonLabel: 'Send answer',
        extra: [after.element],
        send: async (message) => {
          await api.post(`/api/support/staff/tickets/${ticket.id}/replies`, {
            message,
            status: after.input.value,
          });
          view = await api.get(`/api/support/staff/tickets/${ticket.id}`);
          announce('Answer sent.');
          render('reply');
        },
      });
      content.replaceChildren(
        h(
          'div',
          { class: 'page-header' },
          h(
            'div',
            { class: 'title-group' },
            h('h1', {}, ticket.subject),
            ticketStatusBadge(ticket.status),
            priorityBadge(ticket.priority),
          ),
          ticketSubtitle(ticket),
        ),
        h(
          'p',
          {},
          'From ',
          customer.full_name ? [h('strong', {}, customer.full_name), ' '] : null,
          h('a', { href: mailtoHref(customer.email) }, customer.email),
          ` · customer #${customer.id}`,
        ),
        h(
          'div',
          { class: 'support-grid' },
          h(
            'div',
            { class: 'stack' },
            card(
              { id: 'thread-title', title: 'Conversation' },
              thread(ticket.messages, authorName),
            ),
            card(
              { id: 'answer-title', title: 'Answer' },
              h(
                'p',
                { class: 'muted small' },
                'The customer is e-mailed the answer if they allow e-mail.',
              ),
              reply.element,
            ),
          ),
          h(
            'div',
            { class: 'stack' },
            settings.element,
            machinesCard(view.customer_machines),
          ),
        ),
      );
      if (focus === 'reply') reply.textarea.focus();
      if (focus === 'settings') settings.focus();
    };
    render();
  },
};
