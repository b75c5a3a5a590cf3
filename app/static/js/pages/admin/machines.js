// Every machine, newest first, filtered by status, provider, region, plan, owner, idle time
// or failures; the filters live in the address.

import { h } from '../../lib/dom.js';
import { statusLabel } from '../../lib/format.js';
import {
  checkFilter,
  consoleHeader,
  filledIn,
  filterFields,
  filterForm,
  pagedList,
} from './console.js';
import { machineCell, statusCell } from './customer.js';

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
  'reinstalling',
  'restoring',
  'suspended',
  'terminating',
  'terminated',
  'failed',
].map((value) => ({ value, label: statusLabel(value) }));
const FILTERS = [
  { name: 'status', label: 'Status', choices: STATUSES, any: 'Any status' },
  { name: 'provider', label: 'Provider', maxlength: '64' },
  { name: 'region', label: 'Region', maxlength: '64' },
  { name: 'plan', label: 'Plan', maxlength: '64' },
  { name: 'owner', label: 'Owner (account id)', inputmode: 'numeric' },
  { name: 'idle_hours', label: 'Idle for hours', inputmode: 'numeric' },
];

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
    const fields = filterFields(ctx.query, FILTERS);
    const failed = checkFilter(ctx.query, {
      id: 'filter-failed',
      name: 'failed',
      label: 'Failed, or a job failed this week',
    });
    const filters = () => {
      const query = filledIn(fields);
      if (failed.input.checked) query.set('failed', 'true');
      return query;
    };
    const list = pagedList(main, ctx, {
      id: 'machines-summary',
      label: 'Machine pages',
      address: '/app/admin/machines',
      endpoint: '/api/admin/instances',
      fields,
      filters,
      key: 'instances',
      noun: 'machine',
      none: 'No machine matches.',
      table: { caption: 'Machines found', columns: COLUMNS },
    });
    const form = filterForm(
      { label: 'Filter machines', onSubmit: list.first },
      Object.values(fields).map((item) => item.element),
      failed.element,
    );
    for (const control of [fields.status.input, failed.input]) {
      control.addEventListener('change', list.first);
    }

    if (!(await list.reload()) || !ctx.isCurrent()) return;
    ctx.setTitle('Machines · Operator console');
    main.append(...consoleHeader(ctx, 'Machines'), form, ...list.elements);
  },
};
