// Customers: search accounts by e-mail, name or id (and role); the search lives in the
// address, so a result can be shared and Back returns to it.

import { h } from '../../lib/dom.js';
import { timeElement } from '../../lib/format.js';
import { consoleHeader, filledIn, filterFields, filterForm, pagedList } from './console.js';

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

const FILTERS = [
  {
    name: 'q',
    label: 'E-mail, name or id',
    type: 'search',
    maxlength: '254',
    spellcheck: 'false',
  },
  { name: 'role', label: 'Role', choices: ROLES, any: 'Any role' },
];

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
    const fields = filterFields(ctx.query, FILTERS);
    const list = pagedList(main, ctx, {
      id: 'customers-summary',
      label: 'Customer pages',
      address: '/app/admin/customers',
      endpoint: '/api/admin/customers',
      fields,
      filters: () => filledIn(fields),
      key: 'customers',
      noun: 'account',
      none: 'No account matches.',
      table: { caption: 'Accounts found', columns: COLUMNS },
    });
    const form = filterForm(
      { label: 'Search customers', role: 'search', submit: 'Search', onSubmit: list.first },
      Object.values(fields).map((item) => item.element),
    );
    fields.role.input.addEventListener('change', list.first);

    if (!(await list.reload()) || !ctx.isCurrent()) return;
    ctx.setTitle('Customers · Operator console');
    main.append(...consoleHeader(ctx, 'Customers'), form, ...list.elements);
  },
};
