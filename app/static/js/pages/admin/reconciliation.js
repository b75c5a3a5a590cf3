// What reconciliation kept for an operator: machines of ours at a provider that no instance
// owns, held back by a destroy guard. Adopt one (kept for good) or approve its destruction
// by the next pass, one at a time, with a reason. Admins only.

import { api } from '../../lib/api.js';
import { h } from '../../lib/dom.js';
import { timeElement } from '../../lib/format.js';
import { checkFilter, consoleHeader, noticeBox, pagedList, reasonButton } from './console.js';

function decision(finding) {
  if (finding.resolved_at) {
    return h(
      'span',
      {},
      h('span', { class: 'badge badge-muted' }, 'Settled'),
      h('span', { class: 'muted small block' }, finding.resolution || ''),
    );
  }
  if (finding.decision === 'destroy') {
    return h('span', { class: 'badge badge-warn' }, 'To be destroyed');
  }
  return h('span', { class: 'badge badge-busy' }, 'Waiting for a decision');
}

export default {
  title: 'Reconciliation',
  async mount(main, ctx) {
    const all = checkFilter(ctx.query, {
      id: 'findings-all',
      name: 'all',
      label: 'Show settled findings too',
    });
    const notice = noticeBox();
    const decided = (message) => async () => {
      await list.reload();
      notice.say(message);
    };
    const actions = (finding) => {
      if (finding.resolved_at || finding.decision) return '—';
      return h(
        'div',
        { class: 'button-row' },
        reasonButton({
          label: 'Adopt…',
          name: `Adopt ${finding.label}`,
          title: `Adopt ${finding.label}?`,
          body: 'The machine is kept for good: never destroyed nor reported again.',
          confirmLabel: 'Adopt',
          primary: true,
          send: (values) =>
            api.post(`/api/admin/reconciliation/findings/${finding.id}/adopt`, values),
          done: decided(`${finding.label} is adopted.`),
        }),
        reasonButton({
          label: 'Approve destruction…',
          name: `Approve the destruction of ${finding.label}`,
          title: `Approve the destruction of ${finding.label}?`,
          body:
            `The next reconciliation pass destroys ${finding.provider} machine ` +
            `${finding.provider_id} and its disk, whatever the guards.`,
          confirmLabel: 'Approve destruction',
          danger: true,
          send: (values) =>
            api.post(`/api/admin/reconciliation/findings/${finding.id}/destroy`, values),
          done: decided(`${finding.label} will be destroyed by the next pass.`),
        }),
      );
    };
    const columns = [
      {
        label: 'Machine',
        head: true,
        cell: (f) =>
          h(
            'span',
            {},
            h('strong', {}, f.label),
            h('span', { class: 'muted small block mono' }, `${f.provider} ${f.provider_id}`),
          ),
      },
      { label: 'Why an orphan', cell: (f) => f.reason },
      { label: 'Kept because', cell: (f) => f.detail },
      {
        label: 'Seen',
        cell: (f) =>
          h(
            'span',
            {},
            'First ',
            timeElement(f.first_seen_at),
            h('span', { class: 'block' }, 'Last ', timeElement(f.last_seen_at)),
          ),
      },
      { label: 'Decision', cell: decision },
      { label: 'Act', cell: actions },
    ];

    const list = pagedList(main, ctx, {
      id: 'findings-summary',
      label: 'Finding pages',
      address: '/app/admin/reconciliation',
      endpoint: '/api/admin/reconciliation/findings',
      filters: () => new URLSearchParams(all.input.checked ? { all: 'true' } : {}),
      apiFilters: () => new URLSearchParams({ open: all.input.checked ? 'false' : 'true' }),
      key: 'findings',
      noun: 'finding',
      none: () => (all.input.checked ? 'No findings yet.' : 'Nothing waits for a decision.'),
      table: { caption: 'Findings', columns, rowAttrs: (f) => ({ dataset: { finding: f.id } }) },
    });
    all.input.addEventListener('change', () => {
      notice.clear();
      list.first();
    });

    if (!(await list.reload()) || !ctx.isCurrent()) return;
    ctx.setTitle('Reconciliation · Operator console');
    main.append(
      ...consoleHeader(ctx, 'Reconciliation', {
        subtitle:
          'Machines of ours at a provider that no instance owns, kept by a guard for a ' +
          'person to decide.',
      }),
      all.element,
      notice.element,
      ...list.elements,
    );
  },
};
