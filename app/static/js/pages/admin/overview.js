// The console's first page: the business at a glance. Every figure is also a table; revenue
// and active machines over 90 days are charts as well.

import { api } from '../../lib/api.js';
import { card, h } from '../../lib/dom.js';
import { dateTime, money, regionName, statusLabel } from '../../lib/format.js';
import { JOB_LABELS } from '../../lib/jobs.js';
import { priorityName } from '../../lib/tickets.js';
import { dayLabel } from '../../lib/svg.js';
import { trendChart } from '../../lib/trend-chart.js';
import { consoleHeader, countsTable, dataTable, facts, guarded, listTable } from './console.js';

const HEALTH_TONES = { healthy: 'ok', degraded: 'warn', unhealthy: 'error' };
const HEALTH_LABELS = { healthy: 'Healthy', degraded: 'Degraded', unhealthy: 'Unhealthy' };

// The machines counted each way, each its own table.
const MACHINE_COUNTS = [
  {
    key: 'by_status',
    heading: 'By status',
    caption: 'Machines by status',
    label: 'Status',
    name: statusLabel,
    empty: 'No machines.',
  },
  {
    key: 'by_provider',
    heading: 'By provider',
    caption: 'Live machines by provider',
    label: 'Provider',
    empty: 'No live machines.',
  },
  {
    key: 'by_region',
    heading: 'By region',
    caption: 'Live machines by region',
    label: 'Region',
    name: regionName,
    empty: 'No live machines.',
  },
  {
    key: 'by_plan',
    heading: 'By plan',
    caption: 'Live machines by plan',
    label: 'Plan',
    empty: 'No live machines.',
  },
];

function count(value) {
  return Number(value || 0).toLocaleString('en-US');
}

function healthBadge(status) {
  return h(
    'span',
    { class: `badge badge-${HEALTH_TONES[status] || 'neutral'}` },
    HEALTH_LABELS[status] || status,
  );
}

function revenueChart(series) {
  const currency = 'usd';
  const points = series.map((day) => ({
    day: day.day,
    value: day.revenue_cents / 100,
    text: money(day.revenue_cents, currency),
  }));
  const total = series.reduce((sum, day) => sum + day.revenue_cents, 0);
  const best = series.reduce((top, day) => (day.revenue_cents > top.revenue_cents ? day : top));
  return trendChart({
    title: 'Revenue',
    points,
    kind: 'bars',
    axis: (value) => money(Math.round(value * 100), currency).replace(/\.00$/, ''),
    summary:
      `Last ${series.length} days: ${money(total, currency)} taken, less refunds.` +
      (best.revenue_cents > 0
        ? ` Best day: ${dayLabel(best.day, true)} with ${money(best.revenue_cents, currency)}.`
        : ''),
  });
}

function machinesChart(series) {
  const points = series.map((day) => ({
    day: day.day,
    value: day.active_machines,
    text: count(day.active_machines),
  }));
  const first = series[0].active_machines;
  const last = series[series.length - 1].active_machines;
  const peak = Math.max(...series.map((day) => day.active_machines));
  return trendChart({
    title: 'Active machines',
    points,
    kind: 'line',
    whole: true,
    axis: (value) => count(value),
    summary:
      `Last ${series.length} days: from ${count(first)} to ${count(last)} machines, ` +
      `at most ${count(peak)}.`,
  });
}

function render(report, disposers) {
  const machines = report.machines;
  const charts = report.series.length
    ? [revenueChart(report.series), machinesChart(report.series)]
    : [];
  disposers.push(...charts.map((chart) => chart.dispose));
  const failedJobs = report.last_24h.failed_jobs || {};
  return h(
    'div',
    { class: 'console-grid' },
    card(
      { id: 'customers-title', title: 'Customers' },
      facts([
        ['Customers', count(report.customers.total)],
        ['Suspended', count(report.customers.suspended)],
        ['New in the last 24 hours', count(report.customers.new_last_24h)],
      ]),
      h('p', {}, h('a', { href: '/app/admin/customers' }, 'Find a customer')),
    ),
    card(
      { id: 'mrr-title', title: 'Monthly recurring revenue' },
      listTable(report.mrr, 'No paying subscriptions.', {
        caption: 'Monthly recurring revenue by currency',
        columns: [
          { label: 'Currency', head: true, cell: (row) => row.currency.toUpperCase() },
          {
            label: 'Each month',
            numeric: true,
            cell: (row) => money(row.amount_cents, row.currency),
          },
          { label: 'Subscriptions', numeric: true, cell: (row) => count(row.subscriptions) },
        ],
      }),
      h('p', { class: 'muted small' }, 'From the billing mirror: paying subscriptions.'),
    ),
    card(
      { id: 'trends-title', title: 'Last 90 days', className: 'card-wide' },
      charts.length
        ? h(
            'div',
            { class: 'trend-grid' },
            charts.map((chart) => chart.element),
          )
        : h('p', { class: 'muted' }, 'No figures yet.'),
    ),
    card(
      { id: 'last-day-title', title: 'Last 24 hours' },
      facts([
        ['Orders', count(report.last_24h.orders)],
        ['Failed orders', count(report.last_24h.failed_orders)],
      ]),
      countsTable('Failed jobs by kind', 'Failed jobs', failedJobs, {
        name: (kind) => JOB_LABELS[kind] || kind,
        empty: 'No job failed.',
      }),
      h('p', {}, h('a', { href: '/app/admin/jobs' }, 'Failed and stuck jobs')),
    ),
    card(
      { id: 'tickets-title', title: 'Open tickets' },
      countsTable('Open tickets by priority', 'Priority', report.open_tickets, {
        name: priorityName,
        empty: 'No open tickets.',
      }),
      h('p', {}, h('a', { href: '/app/staff/tickets' }, 'The ticket queue')),
    ),
    card(
      { id: 'queues-title', title: 'Queues' },
      report.queues === null
        ? h(
            'p',
            { class: 'alert alert-error', role: 'alert' },
            'The task broker cannot be reached: queue depths are unknown.',
          )
        : countsTable('Tasks waiting per queue', 'Queue', report.queues, { empty: 'No queues.' }),
    ),
    card(
      { id: 'health-title', title: 'Health' },
      h('p', {}, 'Overall: ', healthBadge(report.health.status)),
      dataTable({
        caption: 'Health of each service',
        columns: [
          { label: 'Service', head: true, cell: ([name]) => name },
          { label: 'Status', cell: ([, check]) => healthBadge(check.status) },
          {
            label: 'Answered in',
            numeric: true,
            cell: ([, check]) =>
              check.latency_ms === undefined ? '—' : `${Math.round(check.latency_ms)} ms`,
          },
          { label: 'Error', cell: ([, check]) => check.error || '—' },
        ],
        rows: Object.entries(report.health.checks || {}),
      }),
    ),
    card(
      { id: 'machines-title', title: 'Machines', className: 'card-wide' },
      h(
        'div',
        { class: 'count-tables' },
        MACHINE_COUNTS.map(({ key, heading, caption, label, name, empty }) =>
          h(
            'div',
            {},
            h('h3', {}, heading),
            countsTable(caption, label, machines[key], { name, empty }),
          ),
        ),
      ),
      h('p', {}, h('a', { href: '/app/admin/machines' }, 'Every machine')),
    ),
  );
}

export default {
  title: 'Operator console',
  async mount(main, ctx) {
    const disposers = [];
    ctx.onDispose(() => disposers.splice(0).forEach((dispose) => dispose()));
    const report = await guarded(main, ctx, () => api.get('/api/admin/overview'));
    if (!report || !ctx.isCurrent()) return;
    ctx.setTitle('Overview · Operator console');
    main.append(
      ...consoleHeader(ctx, 'Overview', {
        subtitle: `Figures at ${dateTime(report.generated_at)}.`,
      }),
      render(report, disposers),
    );
  },
};
