// What reconciliation kept for an operator: machines of ours at a provider that no instance
// owns, held back by a destroy guard. Adopt one (kept for good) or approve its destruction
// by the next pass, one at a time, with a reason. Admins only.

import { api } from '../../lib/api.js';
import { h, replaceChildren, setText } from '../../lib/dom.js';
import { timeElement } from '../../lib/format.js';
import { alertBox, showMessage } from '../../lib/forms.js';
import { countSentence, pageCount, pager } from '../../lib/pager.js';
import { consoleHeader, dataTable, noticeBox, pageFrom, reasonButton, refuse } from './console.js';

const PER_PAGE = 25;

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
    const all = h('input', { type: 'checkbox', id: 'findings-all', name: 'all' });
    all.checked = ctx.query.get('all') === 'true';
    let page = pageFrom(ctx.query);
    const notice = noticeBox();
    const summary = h('p', { class: 'muted', id: 'findings-summary', role: 'status' });
    const errors = alertBox('error');
    const results = h('div');
    const pages = pager({
      label: 'Finding pages',
      onPage: (wanted) => {
        page = wanted;
        reload();
      },
    });
    const decided = (message) => async () => {
      await reload();
      notice.say(message);
      notice.element.focus();
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

    const load = async () => {
      const query = new URLSearchParams();
      if (all.checked) query.set('all', 'true');
      if (page > 1) query.set('page', String(page));
      const shown = query.toString();
      window.history.replaceState(null, '', `/app/admin/reconciliation${shown ? `?${shown}` : ''}`);
      const asked = new URLSearchParams({
        open: all.checked ? 'false' : 'true',
        page: String(page),
        per_page: String(PER_PAGE),
      });
      const data = await api.get(`/api/admin/reconciliation/findings?${asked}`);
      if (!ctx.isCurrent()) return;
      showMessage(errors, null);
      setText(
        summary,
        countSentence(
          data,
          'finding',
          all.checked ? 'No findings yet.' : 'Nothing waits for a decision.',
        ),
      );
      replaceChildren(
        results,
        data.findings.length
          ? dataTable({
              caption: 'Findings',
              columns,
              rows: data.findings,
              rowAttrs: (f) => ({ dataset: { finding: f.id } }),
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
    all.addEventListener('change', () => {
      page = 1;
      notice.clear();
      reload();
    });

    if (!(await reload()) || !ctx.isCurrent()) return;
    ctx.setTitle('Reconciliation · Operator console');
    main.append(
      ...consoleHeader(ctx, 'Reconciliation', {
        subtitle:
          'Machines of ours at a provider that no instance owns, kept by a guard for a ' +
          'person to decide.',
      }),
      h(
        'div',
        { class: 'check filters-check' },
        all,
        h('label', { for: all.id }, 'Show settled findings too'),
      ),
      notice.element,
      summary,
      errors,
      results,
      pages.element,
    );
  },
};
