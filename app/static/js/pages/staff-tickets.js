// Staff: every customer's tickets, filtered by status and priority, most recently active
// first. The filters live in the address, so a filtered list can be shared.

import { api } from '../lib/api.js';
import { h, setText, show } from '../lib/dom.js';
import { timeElement } from '../lib/format.js';
import { alertBox, field, showMessage } from '../lib/forms.js';
import { countSentence, pageCount, pager } from '../lib/pager.js';
import { isStaff } from '../lib/session.js';
import { notAllowed } from '../lib/staff.js';
import {
  PRIORITIES,
  STATUSES,
  options,
  priorityBadge,
  ticketStatusBadge,
} from '../lib/tickets.js';

const PER_PAGE = 25;
const COLUMNS = ['Ticket', 'Subject', 'Customer', 'Priority', 'Status', 'Last activity'];

export default {
  title: 'Support tickets',
  mount(main, ctx) {
    if (!isStaff(ctx.user)) {
      notAllowed(main, ctx);
      return;
    }
    const status = field({ label: 'Status', tag: 'select', name: 'status' });
    status.input.append(...options(STATUSES, 'Any status'));
    status.input.value = ctx.query.get('status') || '';
    const priority = field({ label: 'Priority', tag: 'select', name: 'priority' });
    priority.input.append(...options(PRIORITIES, 'Any priority'));
    priority.input.value = ctx.query.get('priority') || '';
    let page = Math.max(1, Number.parseInt(ctx.query.get('page') || '1', 10) || 1);

    const summary = h('p', { class: 'muted', id: 'staff-summary', role: 'status' });
    const errors = alertBox('error');
    const tbody = h('tbody');
    const tableWrap = h(
      'div',
      { class: 'table-wrap', hidden: true },
      h(
        'table',
        { class: 'table staff-table', 'aria-describedby': 'staff-summary' },
        h('caption', { class: 'visually-hidden' }, 'Support tickets'),
        h('thead', {}, h('tr', {}, COLUMNS.map((name) => h('th', { scope: 'col' }, name)))),
        tbody,
      ),
    );
    const pages = pager({
      label: 'Ticket pages',
      onPage: (wanted) => {
        page = wanted;
        load();
      },
    });

    const address = () => {
      const query = new URLSearchParams();
      if (status.input.value) query.set('status', status.input.value);
      if (priority.input.value) query.set('priority', priority.input.value);
      if (page > 1) query.set('page', String(page));
      return query;
    };

    const load = async () => {
      const query = address();
      const shown = query.toString();
      window.history.replaceState(null, '', `/app/staff/tickets${shown ? `?${shown}` : ''}`);
      query.set('per_page', String(PER_PAGE));
      query.set('page', String(page));
      try {
        const data = await api.get(`/api/support/staff/tickets?${query}`);
        if (!ctx.isCurrent()) return;
        showMessage(errors, null);
        tbody.replaceChildren(
          ...data.tickets.map((ticket) =>
            h(
              'tr',
              { dataset: { ticketId: ticket.id } },
              h('td', { dataset: { label: 'Ticket' } }, `#${ticket.id}`),
              h(
                'th',
                { scope: 'row', dataset: { label: 'Subject' } },
                h('a', { href: `/app/staff/tickets/${ticket.id}` }, ticket.subject),
              ),
              h(
                'td',
                { dataset: { label: 'Customer' } },
                h(
                  'span',
                  {},
                  ticket.customer.full_name || ticket.customer.email,
                  ticket.customer.full_name
                    ? h('span', { class: 'muted small block' }, ticket.customer.email)
                    : null,
                ),
              ),
              h('td', { dataset: { label: 'Priority' } }, priorityBadge(ticket.priority)),
              h('td', { dataset: { label: 'Status' } }, ticketStatusBadge(ticket.status)),
              h('td', { dataset: { label: 'Last activity' } }, timeElement(ticket.updated_at)),
            ),
          ),
        );
        setText(summary, countSentence(data, 'ticket', 'No tickets match.'));
        show(tableWrap, data.tickets.length > 0);
        pages.update(data.page, pageCount(data));
      } catch (error) {
        if (!ctx.isCurrent()) return;
        if (error.status === 403) {
          main.replaceChildren();
          notAllowed(main, ctx);
          return;
        }
        showMessage(errors, error);
      }
    };

    for (const select of [status.input, priority.input]) {
      select.addEventListener('change', () => {
        page = 1;
        load();
      });
    }

    const filters = h(
      'form',
      { class: 'filters', 'aria-label': 'Filter tickets', novalidate: true },
      status.element,
      priority.element,
    );
    filters.addEventListener('submit', (event) => event.preventDefault());
    main.append(
      h('div', { class: 'page-header' }, h('h1', {}, 'Support tickets')),
      filters,
      summary,
      errors,
      tableWrap,
      pages.element,
    );
    load();
  },
};
