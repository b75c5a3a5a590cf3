// What the console's pages share: the section links, the refusal shown when the API answers
// 403 (customers everywhere, staff on admin-only pages), tables that become one card per
// row on a phone, paged lists filtered from the address, and actions that ask for a reason
// before anything is sent.

import { ApiError, api } from '../../lib/api.js';
import { confirmDialog } from '../../lib/dialog.js';
import { announce, h, replaceChildren, setText, show } from '../../lib/dom.js';
import { alertBox, field, showFieldErrors, showMessage } from '../../lib/forms.js';
import { showMissing } from '../../lib/layout.js';
import { countSentence, pageCount, pager } from '../../lib/pager.js';
import { options } from '../../lib/tickets.js';

const SECTIONS = [
  { href: '/app/admin', label: 'Overview' },
  { href: '/app/admin/customers', label: 'Customers' },
  { href: '/app/admin/machines', label: 'Machines' },
  { href: '/app/admin/jobs', label: 'Jobs' },
  { href: '/app/admin/reconciliation', label: 'Reconciliation', adminOnly: true },
  { href: '/app/admin/billing', label: 'Billing' },
  { href: '/app/admin/catalogue', label: 'Catalogue' },
  { href: '/app/admin/audit', label: 'Audit log', adminOnly: true },
];

const REASON = {
  name: 'reason',
  label: 'Reason',
  hint: 'Kept in the audit log with what this changes.',
  required: true,
  minlength: '3',
  maxlength: '500',
  autocomplete: 'off',
};

export function isAdmin(user) {
  return user?.role === 'admin';
}

/** The console's section links (admin-only ones for admins), the current one marked. */
function sectionNav(ctx) {
  const path = window.location.pathname.replace(/\/$/, '');
  const current = SECTIONS.filter(
    (section) => path === section.href || path.startsWith(`${section.href}/`),
  ).pop();
  const items = SECTIONS.filter((section) => !section.adminOnly || isAdmin(ctx.user)).map(
    (section) =>
      h(
        'li',
        {},
        h(
          'a',
          {
            href: section.href,
            class: 'console-link',
            'aria-current': section === current ? 'page' : null,
          },
          section.label,
        ),
      ),
  );
  return h('nav', { class: 'console-nav', 'aria-label': 'Console' }, h('ul', {}, items));
}

/** The page's frame: the section links, a heading and an optional subtitle and actions. */
export function consoleHeader(ctx, title, { subtitle = null, actions = [] } = {}) {
  return [
    sectionNav(ctx),
    h(
      'div',
      { class: 'page-header' },
      h(
        'div',
        { class: 'title-group' },
        h('h1', {}, title),
        subtitle ? h('p', { class: 'subtitle' }, subtitle) : null,
      ),
      actions,
    ),
  ];
}

/** Replace the page with the API's refusal, said plainly. */
function refuse(main, ctx, error) {
  ctx.setTitle('Not allowed');
  main.replaceChildren(
    h('h1', {}, 'Not allowed'),
    h(
      'div',
      { class: 'alert alert-warning', role: 'status' },
      h('p', {}, error.message),
      h('p', {}, 'The operator console is for NemoRDP staff; some pages are for admins only.'),
    ),
    h('p', {}, h('a', { href: '/app/instances' }, 'Back to your machines'), '.'),
  );
}

/**
 * Run `load()`; when the API refuses (403) the page becomes the refusal and null is returned.
 * Other errors are thrown (the caller shows them, or the router's error page does).
 */
export async function guarded(main, ctx, load) {
  try {
    return await load();
  } catch (error) {
    if (!ctx.isCurrent()) return null;
    if (error instanceof ApiError && error.status === 403) {
      refuse(main, ctx, error);
      return null;
    }
    throw error;
  }
}

/** What `fetch()` answers for the thing numbered `id`, or null when there is no such thing. */
export async function numbered(id, fetch) {
  if (!/^\d+$/.test(id)) return null;
  try {
    return await fetch();
  } catch (error) {
    if (error.status === 404) return null;
    throw error;
  }
}

/**
 * The first view of one thing (`fetchView()`, null when there is none); null, the page
 * saying why, when the API refuses it or there is no such `what` (`missing` says so).
 */
export async function firstView(main, ctx, fetchView, what, missing) {
  const first = await guarded(main, ctx, async () => ({ view: await fetchView() }));
  if (!first || !ctx.isCurrent()) return null;
  if (!first.view) showMissing(main, ctx, what, missing);
  return first.view;
}

/**
 * A table: columns [{ label, cell(row), head?, numeric? }], one row per item; every cell is
 * labelled with its column for the phone layout, where rows become cards.
 */
export function dataTable({ caption, columns, rows, rowAttrs = () => ({}) }) {
  const cellClass = (column) => (column.numeric ? 'numeric' : null);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table console-table' },
      h('caption', { class: 'visually-hidden' }, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          columns.map((column) =>
            h('th', { scope: 'col', class: cellClass(column) }, column.label),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        rows.map((row) =>
          h(
            'tr',
            rowAttrs(row),
            columns.map((column) =>
              h(
                column.head ? 'th' : 'td',
                {
                  scope: column.head ? 'row' : null,
                  class: cellClass(column),
                  dataset: { label: column.label },
                },
                column.cell(row),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

/** Label and value pairs as a description list; a null pair is left out. */
export function facts(pairs) {
  return h(
    'dl',
    { class: 'facts' },
    pairs
      .filter(Boolean)
      .map(([label, value]) => h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, value))),
  );
}

/** A table (`dataTable`'s `table` options) of `rows`, or `empty` said when there are none. */
export function listTable(rows, empty, table) {
  return rows.length ? dataTable({ ...table, rows }) : h('p', { class: 'muted' }, empty);
}

/** A name → count table ("Status", "Machines") of an object of counts, largest first. */
export function countsTable(caption, label, counts, { name = (key) => key, empty } = {}) {
  const rows = Object.entries(counts || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return listTable(rows, empty || 'None.', {
    caption,
    columns: [
      { label, head: true, cell: ([key]) => name(key) },
      { label: 'Count', numeric: true, cell: ([, count]) => count.toLocaleString('en-US') },
    ],
  });
}

/** A status box for what an action did, above the page's content; saying it moves focus there. */
export function noticeBox() {
  const box = alertBox('success');
  box.setAttribute('tabindex', '-1');
  return {
    element: box,
    say(message) {
      showMessage(box, message);
      announce(message);
      box.focus();
    },
    clear() {
      show(box, false);
    },
  };
}

/**
 * A button that opens a dialog asking for a reason (and `inputs` before it), then runs
 * `send(values)` while the dialog stays open; an API error is shown in the dialog, by the
 * field it names. `done(result)` runs once it succeeded.
 */
export function reasonButton({
  label,
  name = null,
  title,
  body,
  confirmLabel,
  danger = false,
  primary = false,
  inputs = [],
  send,
  done = () => {},
}) {
  const tone = danger ? 'button-danger' : primary ? 'button-primary' : 'button-secondary';
  const button = h(
    'button',
    { type: 'button', class: `button ${tone} button-small`, 'aria-label': name },
    label,
  );
  button.addEventListener('click', async () => {
    const result = await confirmDialog({
      title,
      body: typeof body === 'string' ? h('p', {}, body) : body,
      confirmLabel,
      danger,
      inputs: [...inputs, REASON],
      onConfirm: send,
    });
    if (result !== null) await done(result);
  });
  return button;
}

/** What an audit event changed, "key: before → after" per key that differs. */
export function changeText(before, after) {
  const shown = (value) =>
    value === null || value === undefined
      ? '—'
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
  return keys
    .map((key) => {
      const was = before && key in before ? shown(before[key]) : null;
      const now = after && key in after ? shown(after[key]) : null;
      if (was === now) return null;
      if (was === null) return `${key}: ${now}`;
      return `${key}: ${was} → ${now ?? '—'}`;
    })
    .filter(Boolean)
    .join('; ');
}

/** Whole currency units typed by a person ("12.5") as cents, or null when it is no amount. */
export function centsOf(text) {
  const value = String(text).trim().replace(/^\$/, '');
  if (!/^\d+(\.\d{1,2})?$/.test(value)) return null;
  return Math.round(Number(value) * 100);
}

/** The page number asked for in the address (?page=), at least 1. */
function pageFrom(query) {
  return Math.max(1, Number.parseInt(query.get('page') || '1', 10) || 1);
}

/**
 * Filter inputs by name, from `specs` ([{ name, label, choices?, any?, ...attributes }]: a
 * select of `choices` ([{ value, label }], `any` the label of none chosen) or a text input),
 * filled in from the address; a choice the select does not offer is left out.
 */
export function filterFields(query, specs) {
  return Object.fromEntries(
    specs.map(({ name, choices, any = null, ...attrs }) => {
      const item = field({
        name,
        ...(choices ? { tag: 'select' } : { autocomplete: 'off' }),
        ...attrs,
      });
      const value = query.get(name) || '';
      if (choices) item.input.append(...options(choices, any));
      if (!choices || choices.some((choice) => choice.value === value)) item.input.value = value;
      return [name, item];
    }),
  );
}

/** The filters filled in, trimmed, by name. */
export function filledIn(fields) {
  const query = new URLSearchParams();
  for (const [name, item] of Object.entries(fields)) {
    const value = item.input.value.trim();
    if (value) query.set(name, value);
  }
  return query;
}

/** A checkbox filter with its label, ticked when the address says `name=true`. */
export function checkFilter(query, { id, name, label }) {
  const input = h('input', { type: 'checkbox', id, name });
  input.checked = query.get(name) === 'true';
  const element = h('div', { class: 'check filters-check' }, input, h('label', { for: id }, label));
  return { input, element };
}

/**
 * The filters' form: `children`, then a button labelled `submit` (none when null).
 * Submitting it calls `onSubmit()` rather than leaving the page.
 */
export function filterForm(
  { label, role = null, submit = 'Filter', onSubmit = () => {} },
  ...children
) {
  const form = h(
    'form',
    { class: 'filters', role, 'aria-label': label, novalidate: true },
    children,
    submit
      ? h(
          'div',
          { class: 'filters-action' },
          h('button', { type: 'submit', class: 'button button-primary' }, submit),
        )
      : null,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    onSubmit();
  });
  return form;
}

/**
 * A paged list whose filters and page live in the address (`address`): `filters()` gives
 * the filters as the address shows them, `apiFilters()` as `endpoint` takes them (the same
 * unless said). The answer's `key` rows are shown in a table (`table`: caption, columns,
 * rowAttrs), counted in a sentence of `noun`s (`none`, or `none()`, when there are none),
 * `perPage` at a time. A failure is shown above the table and by the `fields` it names; a
 * refusal (403) replaces the page.
 *
 * Returns { elements, reload(), first() }: `reload()` loads the page shown again, `first()`
 * the first page; both resolve to false when the API refused the page.
 */
export function pagedList(
  main,
  ctx,
  {
    id,
    label,
    address,
    endpoint,
    key,
    noun,
    none,
    table,
    perPage = 25,
    fields = {},
    filters,
    apiFilters = filters,
  },
) {
  let page = pageFrom(ctx.query);
  const summary = h('p', { class: 'muted', id, role: 'status' });
  const errors = alertBox('error');
  const results = h('div');

  const load = async () => {
    const shown = filters();
    if (page > 1) shown.set('page', String(page));
    const search = shown.toString();
    window.history.replaceState(null, '', `${address}${search ? `?${search}` : ''}`);
    const query = apiFilters();
    query.set('page', String(page));
    query.set('per_page', String(perPage));
    const data = await api.get(`${endpoint}?${query}`);
    if (!ctx.isCurrent()) return;
    showMessage(errors, null);
    for (const item of Object.values(fields)) item.setError(null);
    setText(summary, countSentence(data, noun, typeof none === 'function' ? none() : none));
    replaceChildren(results, data[key].length ? dataTable({ ...table, rows: data[key] }) : null);
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
  const goTo = (wanted) => {
    page = wanted;
    return reload();
  };
  const pages = pager({ label, onPage: goTo });
  return { elements: [summary, errors, results, pages.element], reload, first: () => goTo(1) };
}
