// One of the customer's tickets: its thread, a reply form, and close or reopen.

import { api } from '../lib/api.js';
import { announce, card, h } from '../lib/dom.js';
import { alertBox, showMessage, whileBusy } from '../lib/forms.js';
import { breadcrumb, showMissing } from '../lib/layout.js';
import {
  priorityBadge,
  replyForm,
  thread,
  ticketStatusBadge,
  ticketSubtitle,
} from '../lib/tickets.js';

const authorName = (message) => (message.author === 'staff' ? 'NemoRDP support' : 'You');

export default {
  title: 'Ticket',
  async mount(main, ctx) {
    main.append(
      breadcrumb('/app/support', 'Support'),
    );
    const id = ctx.params.id;
    let ticket;
    try {
      ticket = /^\d+$/.test(id) ? await api.get(`/api/support/tickets/${id}`) : null;
    } catch (error) {
      if (error.status !== 404) throw error;
    }
    if (!ctx.isCurrent()) return;
    if (!ticket) {
      showMissing(main, ctx, 'Ticket', 'This ticket does not exist or is not yours.');
      return;
    }

    const content = h('div');
    const actionError = alertBox('error');
    main.append(content);

    const render = (focus = null) => {
      ctx.setTitle(ticket.subject);
      const closed = ticket.status === 'closed';
      const toggle = h(
        'button',
        { type: 'button', class: 'button button-secondary' },
        closed ? 'Reopen ticket' : 'Close ticket',
      );
      toggle.addEventListener('click', () =>
        whileBusy(toggle, closed ? 'Reopening…' : 'Closing…', async () => {
          showMessage(actionError, null);
          try {
            const action = closed ? 'reopen' : 'close';
            ticket = await api.post(`/api/support/tickets/${ticket.id}/${action}`);
            announce(closed ? 'Ticket reopened.' : 'Ticket closed.');
            render('toggle');
          } catch (error) {
            showMessage(actionError, error);
          }
        }),
      );
      const reply = closed
        ? h('p', { class: 'muted' }, 'This ticket is closed. Reopen it to write again.')
        : replyForm({
            label: 'Your reply',
            buttonLabel: 'Send reply',
            send: async (message) => {
              await api.post(`/api/support/tickets/${ticket.id}/replies`, { message });
              ticket = await api.get(`/api/support/tickets/${ticket.id}`);
              announce('Reply sent.');
              render('reply');
            },
          }).element;
      const heading = h('h1', { tabindex: '-1' }, ticket.subject);
      content.replaceChildren(
        h(
          'div',
          { class: 'page-header' },
          h('div', { class: 'title-group' }, heading, ticketStatusBadge(ticket.status)),
          ticketSubtitle(ticket),
        ),
        h('p', {}, priorityBadge(ticket.priority)),
        card(
          { id: 'thread-title', title: 'Conversation' },
          thread(ticket.messages, authorName),
        ),
        card(
          { id: 'reply-title', title: closed ? 'Closed' : 'Reply' },
          reply,
          actionError,
          h('div', { class: 'button-row' }, toggle),
        ),
      );
      if (focus === 'toggle') toggle.focus();
      if (focus === 'reply') content.querySelector('textarea')?.focus();
    };
    render();
  },
};
