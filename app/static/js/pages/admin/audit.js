// The audit log: every action with its actor, target, reason, before and after, filtered
// by action, actor, customer, target and time, and the same search as a CSV file. Admins
// only.

import { h } from '../../lib/dom.js';
import { timeElement } from '../../lib/format.js';
import {
  changeText,
  consoleHeader,
  filledIn,
  filterFields,
  filterForm,
  pagedList,
} from './console.js';
import { actorName } from './customer.js';

const PER_PAGE = 50;
const FILTERS = [
  { name: 'action', label: 'Action', hint: 'Exact, or a prefix ending in * (admin.*).' },
  { name: 'actor', label: 'By (account id)', inputmode: 'numeric' },
  { name: 'customer', label: 'Customer (account id)', inputmode: 'numeric' },
  { name: 'target_type', label: 'Target type', hint: 'user, instance, invoice, job…' },
  { name: 'target_id', label: 'Target id' },
  { name: 'since', label: 'From (UTC)', type: 'date' },
  { name: 'until', label: 'Until (UTC)', type: 'date' },
].map((spec) => ({ maxlength: '64', ...spec }));

function target(event) {
  if (!event.target_type) return '—';
  const id = event.target_id;
  const href = {
    user: `/app/admin/customers/${id}`,
    instance: `/app/admin/machines/${id}`,
  }[event.target_type];
  const text = `${event.target_type} #${id}`;
  return href ? h('a', { href }, text) : text;
}

/** The API's query for the filters: days as the start of that day (UTC), until as its end. */
function apiQuery(filters) {
  const query = new URLSearchParams();
  for (const [name, value] of filters) {
    if (name === 'since') query.set(name, `${value}T00:00:00Z`);
    else if (name === 'until') query.set(name, `${value}T23:59:59.999Z`);
    else query.set(name, value);
  }
  return query;
}

const COLUMNS = [
  { label: 'When', head: true, cell: (e) => timeElement(e.created_at) },
  { label: 'Action', cell: (e) => h('span', { class: 'mono' }, e.action) },
  { label: 'By', cell: (e) => actorName(e.actor_id, null) },
  { label: 'Target', cell: target },
  {
    label: 'Customer',
    cell: (e) =>
      e.customer_id
        ? h('a', { href: `/app/admin/customers/${e.customer_id}` }, `#${e.customer_id}`)
        : '—',
  },
  { label: 'Reason', cell: (e) => e.reason || '—' },
  { label: 'Change', cell: (e) => changeText(e.before, e.after) || '—' },
];

export default {
  title: 'Audit log',
  async mount(main, ctx) {
    const fields = filterFields(ctx.query, FILTERS);
    const exportLink = h(
      'a',
      { class: 'button button-secondary', download: 'nemordp-audit.csv' },
      'Export as CSV',
    );
    const list = pagedList(main, ctx, {
      id: 'audit-summary',
      label: 'Audit pages',
      address: '/app/admin/audit',
      endpoint: '/api/admin/audit',
      perPage: PER_PAGE,
      fields,
      filters: () => filledIn(fields),
      // The export link follows the search.
      apiFilters: () => {
        const query = apiQuery(filledIn(fields));
        exportLink.setAttribute(
          'href',
          `/api/admin/audit/export${query.toString() ? `?${query}` : ''}`,
        );
        return query;
      },
      key: 'events',
      noun: 'event',
      none: 'Nothing recorded matches.',
      table: {
        caption: 'Audit events, newest first',
        columns: COLUMNS,
        rowAttrs: (e) => ({ dataset: { action: e.action } }),
      },
    });
    const form = filterForm(
      { label: 'Filter the audit log', onSubmit: list.first },
      Object.values(fields).map((item) => item.element),
    );

    if (!(await list.reload()) || !ctx.isCurrent()) return;
    ctx.setTitle('Audit log · Operator console');
    main.append(
      ...consoleHeader(ctx, 'Audit log', { actions: exportLink }),
      form,
      ...list.elements,
    );
  },
};
