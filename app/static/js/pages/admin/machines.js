// Every machine, newest first, filtered by status, provider, region, plan, owner, idle time
// or failures; the filters live in the address.

import { api } from '../../lib/api.js';
import { h, replaceChildren, setText } from '../../lib/dom.js';
import { statusLabel } from '../../lib/format.js';
import { alertBox, field, showFieldErrors, showMessage } from '../../lib/forms.js';
import { countSentence, pageCount, pager } from '../../lib/pager.js';
import { options } from '../../lib/tickets.js';
import { consoleHeader, dataTable, pageFrom, refuse } from './console.js';
import { machineCell, statusCell } from './customer.js';

const PER_PAGE = 25;
const STATUSES = [
  'pending_payment',
  'provisioning',
  'booting',
  'active',
  'restarting',
  'stopping',
  'stopped',
  'starting',
  'resizing',
  'suspended',
  'terminating',
  'terminated',
  'failed',
].map((value) => ({ value, label: statusLabel(value) }));
const TEXT_FILTERS = ['status', 'provider', 'region', 'plan', 'owner', 'idle_hours'];

const COLUMNS = [
  { label: 'Machine', head: true, cell: machineCell },
  {
    label: 'Owner',
    cell: (m) => h('a', { href: `/app/admin/customers/${m.user_id}` }, m.owner_email),
  },
  { label: 'Status', cell: statusCell },
  {
    label: 'Provider',
    cell: (m) =>
      h(
        'span',
        {},
        m.provider || '—',
        m.provider_id ? h('span', { class: 'muted small block mono' }, m.provider_id) : null,
      ),
  },
  { label: 'Address', cell: (m) => m.ip_address || '—' },
];

export default {
  title: 'Machines',
  async mount(main, ctx) {
    const status = field({ label: 'Status', tag: 'select', name: 'status' });
    status.input.append(...options(STATUSES, 'Any status'));
    const filters = {
      status,
      provider: field({
        label: 'Provider',
        name: 'provider',
        maxlength: '64',
        autocomplete: 'off',
      }),
      region: field({ label: 'Region', name: 'region', maxlength: '64', autocomplete: 'off' }),
      plan: field({ label: 'Plan', name: 'plan', maxlength: '64', autocomplete: 'off' }),
      owner: field({
        label: 'Owner (account id)',
        name: 'owner',
        inputmode: 'numeric',
        autocomplete: 'off',
      }),
      idle_hours: field({
        label: 'Idle for hours',
        name: 'idle_hours',
        inputmode: 'numeric',
        autocomplete: 'off',
      }),
    };
    const failed = h('input', { type: 'checkbox', id: 'filter-failed', name: 'failed' });
    for (const name of TEXT_FILTERS) filters[name].input.value = ctx.query.get(name) || '';
    failed.checked = ctx.query.get('failed') === 'true';
    let page = pageFrom(ctx.query);

    const summary = h('p', { class: 'muted', id: 'machines-summary', role: 'status' });
    const errors = alertBox('error');
    const results = h('div');
    const pages = pager({
      label: 'Machine pages',
      onPage: (wanted) => {
        page = wanted;
        reload();
      },
    });

    const load = async () => {
      const query = new URLSearchParams();
      for (const name of TEXT_FILTERS) {
        const value = filters[name].input.value.trim();
        if (value) query.set(name, value);
      }
      if (failed.checked) query.set('failed', 'true');
      if (page > 1) query.set('page', String(page));
      const shown = query.toString();
      window.history.replaceState(null, '', `/app/admin/machines${shown ? `?${shown}` : ''}`);
      query.set('page', String(page));
      query.set('per_page', String(PER_PAGE));
      const data = await api.get(`/api/admin/instances?${query}`);
      if (!ctx.isCurrent()) return;
      showMessage(errors, null);
      for (const item of Object.values(filters)) item.setError(null);
      setText(summary, countSentence(data, 'machine', 'No machine matches.'));
      replaceChildren(
        results,
        data.instances.length
          ? dataTable({ caption: 'Machines found', columns: COLUMNS, rows: data.instances })
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
        showFieldErrors(error, filters);
      }
      return true;
    };

    const form = h(
      'form',
      { class: 'filters', 'aria-label': 'Filter machines', novalidate: true },
      Object.values(filters).map((item) => item.element),
      h(
        'div',
        { class: 'check filters-check' },
        failed,
        h('label', { for: failed.id }, 'Failed, or a job failed this week'),
      ),
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
    for (const control of [status.input, failed]) {
      control.addEventListener('change', () => {
        page = 1;
        reload();
      });
    }

    if (!(await reload()) || !ctx.isCurrent()) return;
    ctx.setTitle('Machines · Operator console');
    main.append(...consoleHeader(ctx, 'Machines'), form, summary, errors, results, pages.element);
  },
};
