// What the console's pages share: the section links, the refusal shown when the API answers
// 403 (customers everywhere, staff on admin-only pages), tables that become one card per
// row on a phone, and actions that ask for a reason before anything is sent.

import { ApiError } from '../../lib/api.js';
import { confirmDialog } from '../../lib/dialog.js';
import { announce, h, show } from '../../lib/dom.js';
import { alertBox, showMessage } from '../../lib/forms.js';

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
export function refuse(main, ctx, error) {
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

/** A table of a list, or `empty` said in a paragraph when there is nothing to list. */
export function listOrEmpty(items, empty, table) {
  return items.length ? table(items) : h('p', { class: 'muted' }, empty);
}

/** A name → count table ("Status", "Machines") of an object of counts, largest first. */
export function countsTable(caption, label, counts, { name = (key) => key, empty } = {}) {
  const rows = Object.entries(counts || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return listOrEmpty(rows, empty || 'None.', (items) =>
    dataTable({
      caption,
      columns: [
        { label, head: true, cell: ([key]) => name(key) },
        { label: 'Count', numeric: true, cell: ([, count]) => count.toLocaleString('en-US') },
      ],
      rows: items,
    }),
  );
}

/** A status box for what an action did, above the page's content. */
export function noticeBox() {
  const box = alertBox('success');
  box.setAttribute('tabindex', '-1');
  return {
    element: box,
    say(message) {
      showMessage(box, message);
      announce(message);
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
export function pageFrom(query) {
  return Math.max(1, Number.parseInt(query.get('page') || '1', 10) || 1);
}
