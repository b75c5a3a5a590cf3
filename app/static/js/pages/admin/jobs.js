// Failed jobs nobody has handled yet, and jobs stuck now, across the platform: retry one
// (staff) or abandon it (admins), with a reason.

import { api } from '../../lib/api.js';
import { h } from '../../lib/dom.js';
import { timeElement } from '../../lib/format.js';
import {
  consoleHeader,
  filterFields,
  filterForm,
  isAdmin,
  noticeBox,
  pagedList,
  reasonButton,
} from './console.js';
import { jobBadge, jobKind } from './machine.js';

const FILTERS = [
  {
    name: 'state',
    label: 'Show',
    choices: [
      { value: 'failed', label: 'Failed, not yet handled' },
      { value: 'stuck', label: 'Stuck now' },
    ],
  },
];

export default {
  title: 'Jobs',
  async mount(main, ctx) {
    const { state } = filterFields(ctx.query, FILTERS);
    const notice = noticeBox();
    const done = (message) => async () => {
      await list.reload();
      notice.say(message);
    };
    const actions = (job) =>
      h(
        'div',
        { class: 'button-row' },
        reasonButton({
          label: 'Retry…',
          name: `Retry job #${job.id}`,
          title: `Retry job #${job.id}?`,
          body:
            state.input.value === 'stuck'
              ? 'Its task is sent again.'
              : `A new ${jobKind(job.kind).toLowerCase()} job starts on the machine.`,
          confirmLabel: 'Retry',
          primary: true,
          send: (values) => api.post(`/api/admin/jobs/${job.id}/retry`, values),
          done: (result) => done(`Job #${job.id} retried as job #${result.job.id}.`)(),
        }),
        isAdmin(ctx.user)
          ? reasonButton({
              label: 'Abandon…',
              name: `Abandon job #${job.id}`,
              title: `Abandon job #${job.id}?`,
              body:
                'A stuck job is failed and its machine put back as it was; a failed one is ' +
                'set aside. Nothing runs again.',
              confirmLabel: 'Abandon',
              danger: true,
              send: (values) => api.post(`/api/admin/jobs/${job.id}/abandon`, values),
              done: done(`Job #${job.id} abandoned.`),
            })
          : null,
      );
    const columns = [
      { label: 'Job', head: true, cell: (j) => `#${j.id} ${jobKind(j.kind)}` },
      {
        label: 'Machine',
        cell: (j) =>
          j.instance_id
            ? h('a', { href: `/app/admin/machines/${j.instance_id}` }, `#${j.instance_id}`)
            : '—',
      },
      { label: 'State', cell: jobBadge },
      { label: 'Error', cell: (j) => j.error || (j.step ? `At step ${j.step}` : '—') },
      { label: 'Updated', cell: (j) => timeElement(j.updated_at) },
      { label: 'Act', cell: actions },
    ];

    const list = pagedList(main, ctx, {
      id: 'jobs-summary',
      label: 'Job pages',
      address: '/app/admin/jobs',
      endpoint: '/api/admin/jobs',
      filters: () => new URLSearchParams({ state: state.input.value }),
      key: 'jobs',
      noun: 'job',
      none: () => (state.input.value === 'stuck' ? 'No job is stuck.' : 'No failed job waits.'),
      table: { caption: 'Jobs', columns, rowAttrs: (j) => ({ dataset: { jobId: j.id } }) },
    });
    state.input.addEventListener('change', () => {
      notice.clear();
      list.first();
    });
    const form = filterForm({ label: 'Which jobs', submit: null }, state.element);

    if (!(await list.reload()) || !ctx.isCurrent()) return;
    ctx.setTitle('Jobs · Operator console');
    main.append(...consoleHeader(ctx, 'Jobs'), form, notice.element, ...list.elements);
  },
};
