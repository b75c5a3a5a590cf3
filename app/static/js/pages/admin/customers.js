// Customers: search accounts by e-mail, name or id (and role); the search lives in the
// address, so a result can be shared and Back returns to it.

import { api } from '../../lib/api.js';
import { h, replaceChildren, setText } from '../../lib/dom.js';
import { timeElement } from '../../lib/format.js';
import { alertBox, field, showMessage } from '../../lib/forms.js';
import { countSentence, pageCount, pager } from '../../lib/pager.js';
import { options } from '../../lib/tickets.js';
import { consoleHeader, dataTable, pageFrom, refuse } from './console.js';

const PER_PAGE = 25;
export const ROLES = [
  { value: 'customer', label: 'Customer' },
  { value: 'staff', label: 'Staff' },
  { value: 'admin', label: 'Admin' },
];

export function roleName(role) {
  return ROLES.find((item) => item.value === role)?.label || role;
}

/** Active, suspended, or awaiting deletion, as a badge. */
export function accountBadge(customer) {
  if (customer.erased_at) return h('span', { class: 'badge badge-muted' }, 'Erased');
  if (customer.deletion_requested_at) {
    return h('span', { class: 'badge badge-muted' }, 'Being deleted');
  }
  if (customer.suspended_at) return h('span', { class: 'badge badge-warn' }, 'Suspended');
  return h('span', { class: 'badge badge-ok' }, 'Active');
}

const COLUMNS = [
  {
    label: 'Customer',
    head: true,
    cell: (c) =>
      h(
        'span',
        {},
        h('a', { href: `/app/admin/customers/${c.id}` }, c.email),
        c.full_name ? h('span', { class: 'muted small block' }, c.full_name) : null,
      ),
  },
  { label: 'Id', cell: (c) => `#${c.id}` },
  { label: 'Role', cell: (c) => roleName(c.role) },
  { label: 'Account', cell: accountBadge },
  { label: 'Since', cell: (c) => timeElement(c.created_at) },
];

export default {
  title: 'Customers',
  async mount(main, ctx) {
    const search = field({
      label: 'E-mail, name or id',
      type: 'search',
      name: 'q',
      maxlength: '254',
      autocomplete: 'off',
      spellcheck: 'false',
    });
    search.input.value = ctx.query.get('q') || '';
    const role = field({ label: 'Role', tag: 'select', name: 'role' });
    role.input.append(...options(ROLES, 'Any role'));
    role.input.value = ctx.query.get('role') || '';
    let page = pageFrom(ctx.query);

    const summary = h('p', { class: 'muted', id: 'customers-summary', role: 'status' });
    const errors = alertBox('error');
    const results = h('div');
    const pages = pager({
      label: 'Customer pages',
      onPage: (wanted) => {
        page = wanted;
        load();
      },
    });

    const load = async () => {
      const query = new URLSearchParams();
      if (search.input.value.trim()) query.set('q', search.input.value.trim());
      if (role.input.value) query.set('role', role.input.value);
      if (page > 1) query.set('page', String(page));
      const shown = query.toString();
      window.history.replaceState(null, '', `/app/admin/customers${shown ? `?${shown}` : ''}`);
      query.set('page', String(page));
      query.set('per_page', String(PER_PAGE));
      search.setError(null);
      const data = await api.get(`/api/admin/customers?${query}`);
      if (!ctx.isCurrent()) return;
      showMessage(errors, null);
      setText(summary, countSentence(data, 'account', 'No account matches.'));
      replaceChildren(
        results,
        data.customers.length
          ? dataTable({ caption: 'Accounts found', columns: COLUMNS, rows: data.customers })
          : null,
      );
      pages.update(data.page, pageCount(data));
    };
    /** Load; false when the API refused the page (which then says so). */
    const reload = async () => {
      try {
        await load();
      } catch (error) {
        if (!ctx.isCurrent()) return false;
        if (error.status === 403) {
          refuse(main, ctx, error);
          return false;
        }
        if (error.fields?.q) search.setError(error.fields.q[0]);
        showMessage(errors, error);
      }
      return true;
    };

    const form = h(
      'form',
      { class: 'filters', role: 'search', 'aria-label': 'Search customers', novalidate: true },
      search.element,
      role.element,
      h(
        'div',
        { class: 'filters-action' },
        h('button', { type: 'submit', class: 'button button-primary' }, 'Search'),
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      page = 1;
      reload();
    });
    role.input.addEventListener('change', () => {
      page = 1;
      reload();
    });

    if (!(await reload()) || !ctx.isCurrent()) return;
    ctx.setTitle('Customers · Operator console');
    main.append(...consoleHeader(ctx, 'Customers'), form, summary, errors, results, pages.element);
  },
};
