// The Snapshots section of a machine's page: how many its plan keeps and what each costs,
// the snapshots with their state, taking one, restoring the machine from one (its disk is
// overwritten: the machine's name is typed to confirm) and deleting one. Each change is a
// job, followed by the page's progress panel.

import { api } from './api.js';
import { confirmDialog } from './dialog.js';
import { card, h, replaceChildren, setText, show } from './dom.js';
import { alertBox, field, showFieldErrors, showMessage } from './forms.js';
import { dateTime } from './format.js';

const STATES = {
  creating: 'Being taken',
  available: 'Available',
  restoring: 'Restoring',
  deleting: 'Being deleted',
  failed: 'Failed',
};
// Snapshots are taken of a machine that is running or stopped, and restored onto one.
const SETTLED = new Set(['active', 'stopped']);

function size(bytes) {
  if (bytes === null || bytes === undefined) return '—';
  return `${(bytes / 2 ** 30).toLocaleString('en-US', { maximumFractionDigits: 1 })} GB`;
}

/**
 * The section; `onStarted(job)` hands a started job to the page. Call `render(instance,
 * jobRunning)` whenever the page renders, and `load()` when a job finished.
 */
export function snapshotsSection({ instanceId, onStarted }) {
  const base = `/api/instances/${instanceId}/snapshots`;
  let listing = null;
  let instance = null;
  let busy = false;
  let drawn = ''; // what the rows show, so polling redraws them only when it changed

  const summary = h('p', { class: 'muted', id: 'snapshots-summary' }, 'Loading snapshots…');
  const error = alertBox('error');
  const rows = h('tbody');
  const table = h(
    'div',
    { class: 'table-wrap', hidden: true },
    h(
      'table',
      { class: 'table snapshots-table', 'aria-describedby': 'snapshots-summary' },
      h('caption', { class: 'visually-hidden' }, 'Snapshots of this machine'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Name', 'Taken', 'Size', 'State', 'Actions'].map((title) =>
            h('th', { scope: 'col' }, title),
          ),
        ),
      ),
      rows,
    ),
  );
  const name = field({
    label: 'Snapshot name',
    name: 'name',
    type: 'text',
    maxlength: 64,
    autocomplete: 'off',
    required: true,
  });
  const take = h('button', { type: 'submit', class: 'button button-primary' }, 'Take snapshot');
  const form = h(
    'form',
    { class: 'inline-form snapshot-form', novalidate: true },
    name.element,
    h('div', { class: 'inline-form-action' }, take),
  );
  const element = card(
    { id: 'snapshots-title', title: 'Snapshots', className: 'card-wide snapshots-card' },
    summary,
    error,
    table,
    form,
  );

  const started = (outcome) => {
    if (!outcome) return;
    onStarted(outcome.job);
    load();
  };

  const restore = async (snapshot) => {
    showMessage(error, null);
    const machine = instance.name;
    started(
      await confirmDialog({
        title: `Restore ${machine} from ${snapshot.name}?`,
        body: [
          h(
            'p',
            {},
            h('strong', {}, `Everything on the disk of ${machine} is overwritten`),
            ` with the snapshot taken ${dateTime(snapshot.created_at)}. ` +
              'Changes made since are lost.',
          ),
          h('p', {}, 'The machine restarts into the restored disk.'),
        ],
        confirmLabel: `Overwrite and restore ${machine}`,
        danger: true,
        typeToConfirm: machine,
        onConfirm: () => api.post(`${base}/${snapshot.id}/restore`, { confirm: machine }),
      }),
    );
  };

  const remove = async (snapshot) => {
    showMessage(error, null);
    started(
      await confirmDialog({
        title: `Delete the snapshot ${snapshot.name}?`,
        body: [h('p', {}, 'The snapshot is deleted for good; the machine is not touched.')],
        confirmLabel: 'Delete snapshot',
        danger: true,
        onConfirm: () => api.delete(`${base}/${snapshot.id}`),
      }),
    );
  };

  const row = (snapshot) => {
    const settled = instance && SETTLED.has(instance.status) && !busy;
    const actions = h('div', { class: 'button-row' });
    if (snapshot.status === 'available') {
      actions.append(
        h(
          'button',
          {
            type: 'button',
            class: 'button button-secondary button-small',
            disabled: !settled,
            'aria-label': `Restore from ${snapshot.name}`,
            onclick: () => restore(snapshot),
          },
          'Restore…',
        ),
      );
    }
    if (snapshot.status === 'available' || snapshot.status === 'failed') {
      actions.append(
        h(
          'button',
          {
            type: 'button',
            class: 'button button-danger button-small',
            disabled: busy,
            'aria-label': `Delete ${snapshot.name}`,
            onclick: () => remove(snapshot),
          },
          'Delete…',
        ),
      );
    }
    const state = STATES[snapshot.status] || snapshot.status;
    return h(
      'tr',
      {},
      h('th', { scope: 'row', dataset: { label: 'Name' } }, snapshot.name),
      h('td', { dataset: { label: 'Taken' } }, dateTime(snapshot.created_at)),
      h('td', { class: 'numeric', dataset: { label: 'Size' } }, size(snapshot.size_bytes)),
      h(
        'td',
        { dataset: { label: 'State' } },
        state,
        snapshot.error ? h('span', { class: 'muted small' }, ` — ${snapshot.error}`) : null,
      ),
      h('td', { dataset: { label: 'Actions' } }, actions),
    );
  };

  const draw = () => {
    if (!listing || !instance) return;
    const { snapshots, quota } = listing;
    const terminated = instance.status === 'terminated';
    show(element, !terminated);
    if (!listing.available) {
      setText(summary, 'Snapshots are not available for this machine.');
      show(table, false);
      show(form, false);
      return;
    }
    const kept = snapshots.filter((snapshot) => snapshot.status !== 'failed').length;
    const full = kept >= quota;
    setText(
      summary,
      `${kept} of ${quota} snapshots kept, included in your plan.` +
        (full ? ' Delete one to take another.' : ''),
    );
    const key = JSON.stringify([snapshots, SETTLED.has(instance.status), busy]);
    if (key !== drawn) {
      replaceChildren(rows, snapshots.map(row));
      drawn = key;
    }
    show(table, snapshots.length > 0);
    show(form, true);
    take.disabled = full || busy || !SETTLED.has(instance.status);
  };

  async function load() {
    try {
      listing = await api.get(base);
      showMessage(error, null);
    } catch (problem) {
      showMessage(error, problem);
    }
    draw();
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showMessage(error, null);
    name.setError(null);
    const value = name.input.value.trim();
    if (!value) {
      name.setError('Give the snapshot a name.');
      name.input.focus();
      return;
    }
    take.disabled = true;
    try {
      const outcome = await api.post(base, { name: value });
      name.input.value = '';
      started(outcome);
    } catch (problem) {
      if (!showFieldErrors(problem, { name })) showMessage(error, problem);
      draw();
    }
  });

  return {
    element,
    load,
    render(latest, jobRunning) {
      instance = latest;
      busy = jobRunning;
      draw();
    },
  };
}
