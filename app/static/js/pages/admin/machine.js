// One machine as operators see it (never its credentials): restart, stop, start or terminate
// it with a reason, and its jobs with their errors, followed while anything moves.

import { api } from '../../lib/api.js';
import { card, h, replaceChildren } from '../../lib/dom.js';
import { isTransitional, osName, regionName, timeElement } from '../../lib/format.js';
import { JOB_LABELS, isFinished } from '../../lib/jobs.js';
import { breadcrumb } from '../../lib/layout.js';
import { Poller } from '../../lib/poller.js';
import {
  consoleHeader,
  facts,
  firstView,
  isAdmin,
  listTable,
  noticeBox,
  numbered,
  reasonButton,
} from './console.js';
import { statusCell } from './customer.js';

const JOB_TONES = {
  succeeded: 'ok',
  failed: 'error',
  queued: 'busy',
  running: 'busy',
  retrying: 'warn',
};

export function jobBadge(job) {
  const label = job.state[0].toUpperCase() + job.state.slice(1);
  return h('span', { class: `badge badge-${JOB_TONES[job.state] || 'neutral'}` }, label);
}

export function jobKind(kind) {
  return JOB_LABELS[kind] || kind;
}

const ACTIONS = [
  {
    action: 'restart',
    label: 'Restart…',
    from: ['active'],
    body: 'The machine reboots; whoever is connected is cut off for a minute or two.',
  },
  {
    action: 'stop',
    label: 'Stop…',
    from: ['active'],
    body: 'The machine shuts down until someone starts it.',
  },
  {
    action: 'start',
    label: 'Start…',
    from: ['stopped', 'suspended'],
    body: 'The machine powers on.',
  },
  {
    action: 'terminate',
    label: 'Terminate…',
    adminOnly: true,
    danger: true,
    from: ['active', 'stopped', 'suspended', 'failed'],
    body: 'The machine and its disk are destroyed for good; its subscription ends with it.',
  },
];

export default {
  title: 'Machine',
  async mount(main, ctx) {
    const id = ctx.params.id;
    const base = `/api/admin/instances/${id}`;
    const fetchView = () =>
      numbered(id, async () => {
        const [machine, jobs] = await Promise.all([api.get(base), api.get(`${base}/jobs`)]);
        return { machine, jobs: jobs.jobs };
      });
    let view = await firstView(
      main,
      ctx,
      fetchView,
      'Machine',
      'There is no machine with this number.',
    );
    if (!view) return;
    let shown = '';
    const notice = noticeBox();
    const header = h('div');
    const content = h('div', { class: 'console-grid' });
    main.append(breadcrumb('/app/admin/machines', 'Machines'), header, notice.element, content);

    const actions = (machine) =>
      ACTIONS.filter(
        (item) => item.from.includes(machine.status) && (!item.adminOnly || isAdmin(ctx.user)),
      ).map((item) =>
        reasonButton({
          label: item.label,
          title: `${item.label.replace('…', '')} ${machine.name}?`,
          body: item.body,
          confirmLabel: item.label.replace('…', ''),
          danger: Boolean(item.danger),
          send: (values) => api.post(`${base}/${item.action}`, values),
          done: async (result) => {
            await refresh(true);
            notice.say(
              `${jobKind(result.job.kind)} of ${machine.name} started (job #${result.job.id}).`,
            );
            poller.now();
          },
        }),
      );

    const render = () => {
      const { machine, jobs } = view;
      shown = JSON.stringify(view);
      ctx.setTitle(`${machine.name} · Operator console`);
      replaceChildren(
        header,
        consoleHeader(ctx, machine.name, {
          subtitle: [machine.plan_name, osName(machine.os_type), regionName(machine.region)].join(
            ' · ',
          ),
          actions: h('div', { class: 'button-row' }, actions(machine)),
        }),
      );
      const details = [
        ['Status', statusCell(machine)],
        ['Owner', h('a', { href: `/app/admin/customers/${machine.user_id}` }, machine.owner_email)],
        ['Provider', `${machine.provider || '—'} ${machine.provider_id || ''}`.trim()],
        ['Address', machine.ip_address || '—'],
        ['Ordered', timeElement(machine.created_at)],
        ['Delivered', timeElement(machine.delivered_at)],
        ['Last Remote Desktop use', timeElement(machine.last_accessed, 'Never')],
        ['Last agent report', timeElement(machine.last_heartbeat_at, 'Never')],
        ['Terminated', timeElement(machine.terminated_at)],
        ['Subscription', machine.stripe_subscription_id || '—'],
      ];
      replaceChildren(
        content,
        card({ id: 'machine-title', title: 'Details' }, facts(details)),
        card(
          { id: 'jobs-title', title: 'Jobs', className: 'card-wide' },
          listTable(jobs, 'No jobs yet.', {
            caption: 'Jobs of the machine, newest first',
            columns: [
              { label: 'Job', head: true, cell: (j) => `#${j.id} ${jobKind(j.kind)}` },
              { label: 'State', cell: jobBadge },
              { label: 'Error', cell: (j) => j.error || '—' },
              { label: 'Attempts', numeric: true, cell: (j) => j.attempts },
              { label: 'Started', cell: (j) => timeElement(j.created_at) },
              { label: 'Finished', cell: (j) => timeElement(j.finished_at) },
            ],
            rowAttrs: (j) => ({ dataset: { jobId: j.id } }),
          }),
        ),
      );
    };

    const refresh = async (force = false) => {
      const fresh = await fetchView();
      if (!fresh || !ctx.isCurrent()) return;
      view = fresh;
      if (force || JSON.stringify(fresh) !== shown) render();
    };
    const poller = new Poller(
      async () => {
        await refresh();
        return isTransitional(view.machine.status) || !view.jobs.every(isFinished);
      },
      { interval: 5000, busyInterval: 1000 },
    );
    ctx.onDispose(() => poller.stop());
    render();
    poller.start(isTransitional(view.machine.status) ? 1000 : 5000);
  },
};
