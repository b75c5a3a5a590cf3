// The audit log: every action with its actor, target, reason, before and after, filtered
// by action, actor, customer, target and time, and the same search as a CSV file. Admins
// only.

import { api } from '../../lib/api.js';
import { h, replaceChildren, setText } from '../../lib/dom.js';
import { timeElement } from '../../lib/format.js';
import { alertBox, field, showFieldErrors, showMessage } from '../../lib/forms.js';
import { countSentence, pageCount, pager } from '../../lib/pager.js';
import { changeText, consoleHeader, dataTable, pageFrom, refuse } from './console.js';
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
];

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
function apiQuery(values) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (!value) continue;
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
    const fields = Object.fromEntries(
      FILTERS.map(({ name, ...attrs }) => [
        name,
        field({ name, autocomplete: 'off', maxlength: '64', ...attrs }),
      ]),
    );
    for (const [name, item] of Object.entries(fields)) item.input.value = ctx.query.get(name) || '';
    let page = pageFrom(ctx.query);
    const summary = h('p', { class: 'muted', id: 'audit-summary', role: 'status' });
    const errors = alertBox('error');
    const results = h('div');
    const exportLink = h(
      'a',
      { class: 'button button-secondary', download: 'nemordp-audit.csv' },
      'Export as CSV',
    );
    const pages = pager({
      label: 'Audit pages',
      onPage: (wanted) => {
        page = wanted;
        reload();
      },
    });

    const values = () =>
      Object.fromEntries(
        Object.entries(fields).map(([name, item]) => [name, item.input.value.trim()]),
      );

    const load = async () => {
      const shown = new URLSearchParams(Object.entries(values()).filter(([, value]) => value));
      if (page > 1) shown.set('page', String(page));
      const address = shown.toString();
      window.history.replaceState(null, '', `/app/admin/audit${address ? `?${address}` : ''}`);
      const query = apiQuery(values());
      exportLink.setAttribute(
        'href',
        `/api/admin/audit/export${query.toString() ? `?${query}` : ''}`,
      );
      query.set('page', String(page));
      query.set('per_page', String(PER_PAGE));
      const data = await api.get(`/api/admin/audit?${query}`);
      if (!ctx.isCurrent()) return;
      showMessage(errors, null);
      for (const item of Object.values(fields)) item.setError(null);
      setText(summary, countSentence(data, 'event', 'Nothing recorded matches.'));
      replaceChildren(
        results,
        data.events.length
          ? dataTable({
              caption: 'Audit events, newest first',
              columns: COLUMNS,
              rows: data.events,
              rowAttrs: (e) => ({ dataset: { action: e.action } }),
            })
          : null,
      );
      pages.update(data.page, pageCount(data));
    };
    const reload = async () => {
      try {
        await load();
      } catch (error) {
        if (!ctx.isCurrent()) return false;
        if (error.status === 403) {
          refuse(main, ctx, error);
          return false;
        }
        showMessage(errors, error);
        showFieldErrors(error, fields);
      }
      return true;
    };

    const form = h(
      'form',
      { class: 'filters', 'aria-label': 'Filter the audit log', novalidate: true },
      Object.values(fields).map((item) => item.element),
      h(
        'div',
        { class: 'filters-action' },
        h('button', { type: 'submit', class: 'button button-primary' }, 'Filter'),
      ),
    );
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      page = 1;
      reload();
    });

    if (!(await reload()) || !ctx.isCurrent()) return;
    ctx.setTitle('Audit log · Operator console');
    main.append(
      ...consoleHeader(ctx, 'Audit log', { actions: exportLink }),
      form,
      summary,
      errors,
      results,
      pages.element,
    );
  },
};
