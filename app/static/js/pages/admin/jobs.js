// Failed jobs nobody has handled yet, and jobs stuck now, across the platform: retry one
// (staff) or abandon it (admins), with a reason.

import { api } from '../../lib/api.js';
import { h, replaceChildren, setText } from '../../lib/dom.js';
import { timeElement } from '../../lib/format.js';
import { alertBox, field, showMessage } from '../../lib/forms.js';
import { countSentence, pageCount, pager } from '../../lib/pager.js';
import { options } from '../../lib/tickets.js';
import {
  consoleHeader,
  dataTable,
  isAdmin,
  noticeBox,
  pageFrom,
  reasonButton,
  refuse,
} from './console.js';
import { jobBadge, jobKind } from './machine.js';

const PER_PAGE = 25;
const STATES = [
  { value: 'failed', label: 'Failed, not yet handled' },
  { value: 'stuck', label: 'Stuck now' },
];

export default {
  title: 'Jobs',
  async mount(main, ctx) {
    const state = field({ label: 'Show', tag: 'select', name: 'state' });
    state.input.append(...options(STATES));
    state.input.value = ctx.query.get('state') === 'stuck' ? 'stuck' : 'failed';
    let page = pageFrom(ctx.query);
    const notice = noticeBox();
    const summary = h('p', { class: 'muted', id: 'jobs-summary', role: 'status' });
    const errors = alertBox('error');
    const results = h('div');
    const pages = pager({
      label: 'Job pages',
      onPage: (wanted) => {
        page = wanted;
        reload();
      },
    });

    const done = (message) => async () => {
      await reload();
      notice.say(message);
      notice.element.focus();
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

    const load = async () => {
      const query = new URLSearchParams({ state: state.input.value });
      if (page > 1) query.set('page', String(page));
      window.history.replaceState(null, '', `/app/admin/jobs?${query}`);
      query.set('page', String(page));
      query.set('per_page', String(PER_PAGE));
      const data = await api.get(`/api/admin/jobs?${query}`);
      if (!ctx.isCurrent()) return;
      showMessage(errors, null);
      const none = state.input.value === 'stuck' ? 'No job is stuck.' : 'No failed job waits.';
      setText(summary, countSentence(data, 'job', none));
      replaceChildren(
        results,
        data.jobs.length
          ? dataTable({
              caption: 'Jobs',
              columns,
              rows: data.jobs,
              rowAttrs: (j) => ({ dataset: { jobId: j.id } }),
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
      }
      return true;
    };
    state.input.addEventListener('change', () => {
      page = 1;
      notice.clear();
      reload();
    });
    const form = h(
      'form',
      { class: 'filters', 'aria-label': 'Which jobs', novalidate: true },
      state.element,
    );
    form.addEventListener('submit', (event) => event.preventDefault());

    if (!(await reload()) || !ctx.isCurrent()) return;
    ctx.setTitle('Jobs · Operator console');
    main.append(
      ...consoleHeader(ctx, 'Jobs'),
      form,
      notice.element,
      summary,
      errors,
      results,
      pages.element,
    );
  },
};
