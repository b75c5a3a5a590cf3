// Instances: the account's machines with live status, polled without reloading the page.

import { api } from '../lib/api.js';
import { announce, h, setText, show } from '../lib/dom.js';
import { alertBox, showMessage } from '../lib/forms.js';
import {
  clockTime,
  dateTime,
  isTransitional,
  osName,
  regionName,
  statusBadge,
  statusLabel,
  updateStatusBadge,
} from '../lib/format.js';
import { Poller } from '../lib/poller.js';

const PER_PAGE = 50;
const COLUMNS = ['Name', 'Status', 'Plan', 'System', 'Region', 'IP address', 'Created'];

function cell(label, ...children) {
  return h('td', { dataset: { label } }, ...children);
}

/** One table row whose cells are updated in place on every poll (focus stays put). */
function createRow(instance) {
  const link = h('a', { href: `/app/instances/${instance.id}`, class: 'instance-link' });
  const badge = statusBadge(instance.status);
  const reason = h('span', { class: 'status-reason', hidden: true });
  const refs = {
    link,
    badge,
    reason,
    plan: h('span'),
    os: h('span'),
    region: h('span'),
    ip: h('span', { class: 'mono' }),
    created: h('time'),
  };
  const row = h(
    'tr',
    { dataset: { instanceId: instance.id } },
    h('th', { scope: 'row', dataset: { label: 'Name' } }, link),
    cell('Status', badge, reason),
    cell('Plan', refs.plan),
    cell('System', refs.os),
    cell('Region', refs.region),
    cell('IP address', refs.ip),
    cell('Created', refs.created),
  );
  row.refs = refs;
  return row;
}

function updateRow(row, instance) {
  const { refs } = row;
  setText(refs.link, instance.name);
  updateStatusBadge(refs.badge, instance.status);
  setText(refs.reason, instance.status_reason || '');
  show(refs.reason, Boolean(instance.status_reason));
  setText(refs.plan, instance.plan_name);
  setText(refs.os, osName(instance.os_type));
  setText(refs.region, regionName(instance.region));
  setText(refs.ip, instance.ip_address || '—');
  if (refs.created.getAttribute('datetime') !== instance.created_at) {
    refs.created.setAttribute('datetime', instance.created_at);
    refs.created.textContent = dateTime(instance.created_at);
  }
  row.classList.toggle('is-terminated', instance.status === 'terminated');
}

export default {
  title: 'Instances',
  mount(main, ctx) {
    const page = Math.max(1, Number.parseInt(ctx.query.get('page') || '1', 10) || 1);
    const summary = h('p', { class: 'muted', id: 'instances-summary' }, 'Loading your machines…');
    const updated = h('p', { class: 'muted small updated' });
    const errors = alertBox('error');
    const tbody = h('tbody');
    const table = h(
      'table',
      { class: 'table instances-table', 'aria-describedby': 'instances-summary' },
      h('caption', { class: 'visually-hidden' }, 'Your machines'),
      h('thead', {}, h('tr', {}, COLUMNS.map((name) => h('th', { scope: 'col' }, name)))),
      tbody,
    );
    const tableWrap = h('div', { class: 'table-wrap', hidden: true }, table);
    const empty = h(
      'div',
      { class: 'card empty', hidden: true },
      h('h2', {}, 'No machines yet'),
      h('p', {}, 'Order a cloud desktop: it is ready to connect to in a few minutes.'),
      h(
        'p',
        {},
        h(
          'a',
          { class: 'button button-primary', href: '/app/instances/new' },
          'Order your first machine',
        ),
      ),
    );
    const previous = h(
      'a',
      { class: 'button button-secondary', href: `/app/instances?page=${page - 1}` },
      'Previous page',
    );
    const next = h(
      'a',
      { class: 'button button-secondary', href: `/app/instances?page=${page + 1}` },
      'Next page',
    );
    const pageInfo = h('span', { class: 'muted' });
    const pager = h(
      'nav',
      { class: 'pager', 'aria-label': 'Instance pages', hidden: true },
      previous,
      pageInfo,
      next,
    );

    main.append(
      h(
        'div',
        { class: 'page-header' },
        h('h1', {}, 'Instances'),
        h('a', { class: 'button button-primary', href: '/app/instances/new' }, 'New machine'),
      ),
      h('div', { class: 'toolbar' }, summary, updated),
      errors,
      tableWrap,
      empty,
      pager,
    );

    const rows = new Map();
    const lastStatus = new Map();
    let loaded = false;

    const render = (data) => {
      const wanted = data.instances.map((instance) => {
        let row = rows.get(instance.id);
        if (!row) {
          row = createRow(instance);
          rows.set(instance.id, row);
        }
        updateRow(row, instance);
        return row;
      });
      const ids = new Set(data.instances.map((instance) => instance.id));
      for (const [id, row] of rows) {
        if (!ids.has(id)) {
          row.remove();
          rows.delete(id);
        }
      }
      // Reorder only when the order changed: moving a row would drop keyboard focus in it.
      const current = Array.from(tbody.children);
      if (current.length !== wanted.length || current.some((row, i) => row !== wanted[i])) {
        tbody.replaceChildren(...wanted);
      }

      const changes = [];
      for (const instance of data.instances) {
        const before = lastStatus.get(instance.id);
        if (loaded && before && before !== instance.status) {
          changes.push(`${instance.name} is now ${statusLabel(instance.status).toLowerCase()}.`);
        }
        lastStatus.set(instance.id, instance.status);
      }
      if (changes.length) announce(changes.join(' '));

      const pages = Math.max(1, Math.ceil(data.total / data.per_page));
      const active = data.instances.filter((instance) => instance.status === 'active').length;
      setText(
        summary,
        data.total === 0
          ? 'You have no machines.'
          : `${data.total} machine${data.total === 1 ? '' : 's'}` +
              (pages > 1 ? ` — showing ${data.instances.length} on this page` : '') +
              `, ${active} active${pages > 1 ? ' here' : ''}.`,
      );
      setText(updated, `Live — updated ${clockTime()}`);
      show(tableWrap, data.instances.length > 0);
      show(empty, data.total === 0);
      show(pager, pages > 1);
      show(previous, page > 1);
      show(next, page < pages);
      setText(pageInfo, `Page ${page} of ${pages}`);
      loaded = true;
    };

    const poller = new Poller(
      async () => {
        try {
          const data = await api.get(`/api/instances?page=${page}&per_page=${PER_PAGE}`);
          if (!ctx.isCurrent()) return false;
          showMessage(errors, null);
          render(data);
          return data.instances.some((instance) => isTransitional(instance.status));
        } catch (error) {
          if (ctx.isCurrent()) {
            showMessage(errors, error);
            if (!loaded) setText(summary, 'Your machines could not be loaded.');
          }
          throw error;
        }
      },
      { interval: 5000, busyInterval: 1500 },
    );
    poller.start();
    ctx.onDispose(() => poller.stop());
  },
};
