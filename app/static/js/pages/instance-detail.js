// One machine: live status, connect (.rdp file, credentials), power actions and reinstall
// with job progress, details, usage and snapshots.

import { api } from '../lib/api.js';
import { copyableValue } from '../lib/clipboard.js';
import { confirmDialog } from '../lib/dialog.js';
import { announce, card, h, replaceChildren, setText, show } from '../lib/dom.js';
import { alertBox, showMessage } from '../lib/forms.js';
import {
  dateTime,
  duration,
  gigabytes,
  isTransitional,
  osName,
  regionName,
  statusBadge,
  statusLabel,
  updateStatusBadge,
} from '../lib/format.js';
import { JOB_LABELS, JOB_WORK, forgetJob, isFinished, trackJob, trackedJob } from '../lib/jobs.js';
import { breadcrumb, showMissing } from '../lib/layout.js';
import { Poller } from '../lib/poller.js';
import { reinstallDialog } from '../lib/reinstall.js';
import { snapshotsSection } from '../lib/snapshots.js';
import { usageChart } from '../lib/usage-chart.js';

const BUSY_POLL_MS = 1000;
const IDLE_POLL_MS = 5000;
const USAGE_REFRESH_MS = 30000;
const NO_CREDENTIALS = new Set(['terminating', 'terminated', 'failed']);
const BUILDING = new Set(['pending_payment', 'provisioning', 'booting']);

/** A definition list whose values are updated in place. */
function definitions(names) {
  const values = {};
  const list = h('dl', { class: 'facts' });
  for (const [key, label] of names) {
    values[key] = h('dd');
    list.append(h('div', { class: 'fact' }, h('dt', {}, label), values[key]));
  }
  return { list, values };
}

function setValue(element, value, { mono = false } = {}) {
  setText(element, value === null || value === undefined || value === '' ? '—' : value);
  element.classList.toggle('mono', mono && Boolean(value));
}

/** The job progress panel: what runs, which step it is at, how it ended. */
function jobPanel(onDismiss) {
  const title = h('h2', { id: 'job-title', tabindex: '-1' });
  const progress = h('progress', { 'aria-labelledby': 'job-title' });
  const steps = h('ol', { class: 'steps' });
  const status = h('p', { class: 'job-status', role: 'status' });
  const failure = h('div', { class: 'alert alert-error', role: 'alert', hidden: true });
  const dismiss = h(
    'button',
    { type: 'button', class: 'button button-secondary button-small', hidden: true },
    'Dismiss',
  );
  dismiss.addEventListener('click', onDismiss);
  const panel = h(
    'section',
    { class: 'card job-panel', 'aria-labelledby': 'job-title', hidden: true },
    h('div', { class: 'job-head' }, title, dismiss),
    progress,
    steps,
    status,
    failure,
  );

  const render = (job, instance) => {
    const label = JOB_LABELS[job.kind] || job.kind;
    const finished = isFinished(job);
    const failed = job.state === 'failed';
    panel.dataset.state = job.state;
    panel.classList.toggle('is-failed', failed);
    panel.classList.toggle('is-done', job.state === 'succeeded');
    setText(
      title,
      failed ? `${label} failed` : finished ? `${label} finished` : `${label} in progress`,
    );
    if (finished) {
      progress.max = 1;
      progress.value = 1;
    } else {
      progress.removeAttribute('value'); // indeterminate while running
    }

    // Requested → the work → Done; a failure ends on the work step.
    const stage = { queued: 0, running: 1, retrying: 1, succeeded: 3, failed: 1 }[job.state] ?? 0;
    const names = ['Requested', JOB_WORK[job.kind] || 'Working', 'Done'];
    replaceChildren(
      steps,
      names.map((name, index) => {
        const broke = failed && index === stage;
        const done = index < stage || (job.state === 'succeeded' && index === 2);
        const current = index === stage && !finished;
        const state = broke ? 'is-failed' : done ? 'is-done' : current ? 'is-current' : '';
        const spoken = broke
          ? 'Failed: '
          : done
            ? 'Done: '
            : current
              ? 'Current step: '
              : 'Not reached: ';
        return h(
          'li',
          { class: `step ${state}`.trim(), 'aria-current': current ? 'step' : null },
          h('span', { class: 'visually-hidden' }, spoken),
          name,
        );
      }),
    );

    const name = instance?.name || 'The machine';
    const messages = {
      queued: `${label} requested; waiting for a worker to pick it up.`,
      running: `${JOB_WORK[job.kind] || 'Working'} (attempt ${Math.max(1, job.attempts)})…`,
      retrying:
        `The provider did not answer as expected; trying again (attempt ${job.attempts + 1}).` +
        (job.error ? ` Last error: ${job.error}` : ''),
      succeeded: `${label} of ${name} finished.`,
      failed: `${label} of ${name} failed.`,
    };
    setText(status, messages[job.state] || job.state);
    if (failed) {
      const reason = instance?.status_reason;
      replaceChildren(
        failure,
        h('p', {}, job.error || 'The job failed without a reason.'),
        // The machine's reason usually repeats the job's error; show it only when it adds to it.
        reason && !(job.error && reason.includes(job.error))
          ? h('p', {}, `Machine status: ${reason}`)
          : null,
      );
    }
    show(failure, failed);
    show(dismiss, finished);
    show(panel, true);
  };
  return { panel, title, render, hide: () => show(panel, false) };
}

export default {
  title: 'Machine',
  async mount(main, ctx) {
    main.append(breadcrumb('/app/instances', 'All instances'));
    if (!/^\d+$/.test(ctx.params.id)) {
      showMissing(main, ctx, 'Machine', 'There is no machine at this address.');
      return;
    }
    const id = Number(ctx.params.id);
    const loading = h('p', { class: 'muted' }, 'Loading the machine…');
    main.append(loading);

    let instance;
    try {
      instance = await api.get(`/api/instances/${id}`);
    } catch (error) {
      if (!ctx.isCurrent()) return;
      loading.remove();
      if (error.status === 404) {
        showMissing(main, ctx, 'Machine', 'This machine does not exist or is not yours.');
        return;
      }
      throw error;
    }
    if (!ctx.isCurrent()) return;
    loading.remove();

    let job = null;
    let usageFetchedAt = 0;
    let lastStatus = instance.status;
    let poller = null;

    // -- header ----------------------------------------------------------------------
    const heading = h('h1', {});
    const badge = statusBadge(instance.status);
    const subtitle = h('p', { class: 'muted subtitle' });
    const reasonBox = h('div', { class: 'alert alert-warning', role: 'status', hidden: true });
    const checkout = ctx.query.get('checkout');
    const paymentBox = h('div', { class: 'alert payment-status', role: 'status', hidden: true });
    const pollError = alertBox('error');

    // -- job progress ------------------------------------------------------------------
    const progress = jobPanel(() => {
      job = null;
      progress.hide();
      heading.focus();
    });

    // -- connect -----------------------------------------------------------------------
    const rdpLink = h(
      'a',
      {
        class: 'button button-primary',
        href: `/api/instances/${id}/rdp-file`,
        download: `nemordp-${id}.rdp`,
      },
      'Download .rdp file',
    );
    const consoleLink = h(
      'a',
      { class: 'button button-secondary', href: `/app/instances/${id}/console` },
      'Console',
    );
    const rdpWaiting = h(
      'p',
      { class: 'muted' },
      'The .rdp file is ready once the machine is active.',
    );
    const revealButton = h(
      'button',
      {
        type: 'button',
        class: 'button button-secondary',
        'aria-expanded': 'false',
        'aria-controls': 'credentials',
      },
      'Show credentials',
    );
    const credentials = h('div', { id: 'credentials', class: 'credentials', hidden: true });
    const connectIntro = h('p', { class: 'muted' });
    const credentialsError = alertBox('error');
    const connectCard = card(
      { id: 'connect-title', title: 'Connect' },
      connectIntro,
      h('div', { class: 'button-row' }, rdpLink, consoleLink, rdpWaiting, revealButton),
      credentialsError,
      credentials,
    );

    const hideCredentials = () => {
      credentials.replaceChildren();
      show(credentials, false);
      revealButton.setAttribute('aria-expanded', 'false');
      setText(revealButton, 'Show credentials');
    };
    revealButton.addEventListener('click', async () => {
      showMessage(credentialsError, null);
      if (revealButton.getAttribute('aria-expanded') === 'true') {
        hideCredentials();
        return;
      }
      revealButton.disabled = true;
      try {
        const secret = await api.get(`/api/instances/${id}/credentials`);
        if (!ctx.isCurrent()) return;
        credentials.replaceChildren(
          copyableValue({ label: 'Username', value: secret.username, id: 'credential-username' }),
          copyableValue({ label: 'Password', value: secret.password, id: 'credential-password' }),
          h(
            'p',
            { class: 'muted small' },
            'Each time credentials are shown it is recorded in your account’s audit log.',
          ),
        );
        show(credentials, true);
        revealButton.setAttribute('aria-expanded', 'true');
        setText(revealButton, 'Hide credentials');
      } catch (error) {
        showMessage(credentialsError, error);
      } finally {
        revealButton.disabled = NO_CREDENTIALS.has(instance.status);
      }
    });

    // -- power ------------------------------------------------------------------------
    const actionError = alertBox('error');
    const restart = h('button', { type: 'button', class: 'button button-secondary' }, 'Restart');
    const stop = h('button', { type: 'button', class: 'button button-secondary' }, 'Stop');
    const start = h('button', { type: 'button', class: 'button button-secondary' }, 'Start');
    const reinstall = h('button', { type: 'button', class: 'button button-danger' }, 'Reinstall…');
    const terminate = h('button', { type: 'button', class: 'button button-danger' }, 'Terminate…');
    const powerHint = h('p', { class: 'muted small', id: 'power-hint' });
    const terminatedNote = h('p', { class: 'muted', hidden: true });
    const powerCard = card(
      { id: 'power-title', title: 'Power' },
      h('div', { class: 'button-row' }, restart, stop, start, reinstall, terminate),
      powerHint,
      terminatedNote,
      actionError,
    );

    // -- details and usage -----------------------------------------------------------------
    const details = definitions([
      ['plan', 'Plan'],
      ['os', 'Operating system'],
      ['region', 'Region'],
      ['ipv4', 'IPv4 address'],
      ['ipv6', 'IPv6 address'],
      ['username', 'Username'],
      ['created', 'Created'],
    ]);
    const usage = definitions([
      ['uptime', 'Uptime'],
      ['transfer', 'Data transfer'],
      ['accessed', 'Last accessed'],
    ]);
    const usageError = alertBox('error');
    let usagePeriod = 30;
    const traffic = usageChart({
      period: usagePeriod,
      onPeriod: (days) => {
        usagePeriod = days;
        loadUsage();
      },
    });
    ctx.onDispose(traffic.dispose);
    const snapshots = snapshotsSection({
      instanceId: id,
      onStarted: (started) => beginJob(started),
    });

    main.append(
      h(
        'div',
        { class: 'page-header' },
        h('div', { class: 'title-group' }, heading, badge),
        subtitle,
      ),
      paymentBox,
      reasonBox,
      pollError,
      progress.panel,
      h(
        'div',
        { class: 'detail-grid' },
        connectCard,
        powerCard,
        card(
          { id: 'details-title', title: 'Details' },
          details.list,
        ),
        card(
          { id: 'usage-title', title: 'Usage', className: 'card-wide usage-card' },
          usage.list,
          usageError,
          traffic.element,
        ),
        snapshots.element,
      ),
    );

    const jobRunning = () => Boolean(job && !isFinished(job));

    const render = () => {
      const { status } = instance;
      ctx.setTitle(instance.name);
      setText(heading, instance.name);
      updateStatusBadge(badge, status);
      setText(
        subtitle,
        `${instance.plan_name} · ${osName(instance.os_type)} · ${regionName(instance.region)}`,
      );
      if (instance.status_reason) {
        replaceChildren(reasonBox, h('p', {}, h('strong', {}, 'Note: '), instance.status_reason));
      }
      show(reasonBox, Boolean(instance.status_reason));
      renderPayment();

      const active = status === 'active';
      const terminated = status === 'terminated';
      show(rdpLink, active);
      show(consoleLink, active);
      show(rdpWaiting, !active && !terminated);
      setText(
        connectIntro,
        terminated
          ? 'Nothing to connect to: this machine has been terminated.'
          : 'Open the .rdp file with Remote Desktop, then sign in with the credentials below.',
      );
      show(revealButton, !terminated);
      revealButton.disabled = NO_CREDENTIALS.has(status);
      if (NO_CREDENTIALS.has(status)) hideCredentials();

      const running = jobRunning();
      const stoppedSide = status === 'stopped' || status === 'starting';
      restart.disabled = !active || running;
      stop.disabled = !active || running;
      start.disabled = status !== 'stopped' || running;
      reinstall.disabled = !(active || status === 'stopped') || running;
      terminate.disabled = status === 'terminating' || terminated;
      show(restart, !terminated);
      show(stop, !terminated && !stoppedSide);
      show(start, !terminated && stoppedSide);
      show(reinstall, !terminated);
      show(terminate, !terminated);
      setText(
        powerHint,
        terminated
          ? ''
          : running || isTransitional(status)
            ? `${instance.name} is ${statusLabel(status).toLowerCase()}; ` +
              'actions come back when it settles.'
            : active
              ? 'Restart reboots the machine; stop shuts it down until you start it again.'
              : status === 'stopped'
                ? 'Start powers the machine back on.'
                : `Restart and stop are available while the machine is active.`,
      );
      show(powerHint, !terminated);
      setText(
        terminatedNote,
        terminated ? 'This machine has been terminated; nothing is left to run.' : '',
      );
      show(terminatedNote, terminated);

      setValue(details.values.plan, instance.plan_name);
      setValue(details.values.os, osName(instance.os_type));
      setValue(details.values.region, regionName(instance.region));
      setValue(details.values.ipv4, instance.ip_address, { mono: true });
      setValue(details.values.ipv6, instance.ipv6_address, { mono: true });
      setValue(details.values.username, instance.username, { mono: true });
      setValue(details.values.created, dateTime(instance.created_at));
      snapshots.render(instance, jobRunning());
    };

    // Just paid: the payment's webhook starts the setup any second now.
    const awaitingWebhook = () => checkout === 'success' && instance.status === 'pending_payment';

    // Back from the payment page (?checkout=success|cancelled), or still unpaid.
    const renderPayment = () => {
      const { status } = instance;
      let kind = null;
      let message = null;
      if (checkout === 'success' && status !== 'terminated' && status !== 'failed') {
        kind = 'success';
        message = BUILDING.has(status)
          ? 'Payment received — building your desktop.'
          : 'Payment received — your desktop is ready.';
      } else if (status === 'pending_payment') {
        kind = 'warning';
        message =
          (checkout === 'cancelled' ? 'The payment was cancelled. ' : '') +
          'This machine is set up once its first month is paid.';
      }
      if (!message) {
        show(paymentBox, false);
        return;
      }
      paymentBox.className = `alert alert-${kind} payment-status`;
      const payUrl = kind === 'warning' ? instance.checkout_url || '' : '';
      const key = `${message}|${payUrl}`;
      if (paymentBox.dataset.key !== key) {
        const pay = payUrl
          ? h('a', { class: 'button button-primary button-small', href: payUrl }, 'Pay now')
          : null;
        replaceChildren(paymentBox, h('p', {}, message), pay);
        paymentBox.dataset.key = key;
      }
      show(paymentBox, true);
    };

    const loadUsage = async () => {
      const period = usagePeriod;
      try {
        const figures = await api.get(`/api/instances/${id}/usage?days=${period}`);
        if (!ctx.isCurrent() || period !== usagePeriod) return; // a newer period was asked for
        usageFetchedAt = Date.now();
        showMessage(usageError, null);
        setValue(usage.values.uptime, duration(figures.uptime_hours));
        setValue(usage.values.transfer, gigabytes(figures.data_transfer_gb));
        setValue(
          usage.values.accessed,
          figures.last_accessed ? dateTime(figures.last_accessed) : 'Never',
        );
        traffic.render(figures.series, period, { reported: figures.traffic_reported });
      } catch (error) {
        if (ctx.isCurrent()) showMessage(usageError, error);
      }
    };

    const onJob = (latest) => {
      const wasRunning = jobRunning();
      job = latest;
      progress.render(job, instance);
      if (isFinished(job)) {
        forgetJob(id);
        snapshots.load();
        if (wasRunning) {
          const label = JOB_LABELS[job.kind] || job.kind;
          const outcome = job.state === 'failed' ? 'failed' : 'finished';
          announce(`${label} of ${instance.name} ${outcome}.`);
        }
      }
    };

    /**
     * A job started elsewhere (by the payment, in another tab): follow the running one, or
     * (`setup`) show the setup that a payment started even when it already finished.
     */
    const findJob = async ({ setup = false } = {}) => {
      let jobs;
      try {
        ({ jobs } = await api.get(`/api/instances/${id}/jobs`));
      } catch {
        return; // the status alone still shows what happens
      }
      const found = setup
        ? jobs.find((candidate) => candidate.kind === 'provision')
        : jobs.find((candidate) => !isFinished(candidate));
      if (found && ctx.isCurrent() && !jobRunning()) {
        if (!isFinished(found)) trackJob(id, found.id);
        onJob(found);
      }
    };

    const beginJob = (started) => {
      trackJob(id, started.id);
      onJob(started);
      render();
      progress.title.focus();
      poller.now();
    };

    const runAction = async (action) => {
      showMessage(actionError, null);
      const buttons = [restart, stop, start];
      for (const button of buttons) button.disabled = true;
      try {
        const { job: started } = await api.post(`/api/instances/${id}/${action}`);
        if (ctx.isCurrent()) beginJob(started);
      } catch (error) {
        if (!ctx.isCurrent()) return;
        showMessage(actionError, error);
        render();
        poller.now();
      }
    };
    restart.addEventListener('click', () => runAction('restart'));
    stop.addEventListener('click', () => runAction('stop'));
    start.addEventListener('click', () => runAction('start'));
    reinstall.addEventListener('click', async () => {
      showMessage(actionError, null);
      const outcome = await reinstallDialog(instance);
      if (outcome && ctx.isCurrent()) {
        hideCredentials(); // the shown password is about to stop working
        beginJob(outcome.job);
      }
    });
    terminate.addEventListener('click', async () => {
      showMessage(actionError, null);
      const name = instance.name;
      const outcome = await confirmDialog({
        title: `Terminate ${name}?`,
        body: [
          h('p', {}, `This destroys ${name} and everything on its disk. It cannot be undone.`),
          h('p', {}, 'Download anything you need from it first.'),
        ],
        confirmLabel: `Terminate ${name}`,
        danger: true,
        typeToConfirm: name,
        onConfirm: () => api.delete(`/api/instances/${id}`),
      });
      if (outcome && ctx.isCurrent()) beginJob(outcome.job);
    });

    // -- polling ------------------------------------------------------------------------
    const poll = async () => {
      try {
        const wantJob = jobRunning() ? job.id : null;
        const [latest, latestJob] = await Promise.all([
          api.get(`/api/instances/${id}`),
          wantJob ? api.get(`/api/jobs/${wantJob}`) : null,
        ]);
        if (!ctx.isCurrent()) return false;
        showMessage(pollError, null);
        instance = latest;
        if (latestJob) onJob(latestJob);
        render();
        if (instance.status !== lastStatus) {
          if (!jobRunning()) {
            announce(`${instance.name} is now ${statusLabel(instance.status).toLowerCase()}.`);
            if (lastStatus === 'pending_payment') await findJob({ setup: true });
            else if (isTransitional(instance.status)) await findJob();
            render();
          }
          lastStatus = instance.status;
          loadUsage();
        } else if (Date.now() - usageFetchedAt > USAGE_REFRESH_MS) {
          loadUsage();
        }
        return jobRunning() || isTransitional(instance.status) || awaitingWebhook();
      } catch (error) {
        if (ctx.isCurrent()) showMessage(pollError, error);
        throw error;
      }
    };

    render();
    const remembered = trackedJob(id);
    if (remembered) {
      try {
        onJob(await api.get(`/api/jobs/${remembered}`));
        render();
      } catch {
        forgetJob(id); // gone or not ours: nothing to follow
      }
    }
    if (!jobRunning() && isTransitional(instance.status)) {
      await findJob();
      render();
    }
    if (!ctx.isCurrent()) return;
    loadUsage();
    snapshots.load();
    poller = new Poller(poll, { interval: IDLE_POLL_MS, busyInterval: BUSY_POLL_MS });
    const busy = jobRunning() || isTransitional(instance.status) || awaitingWebhook();
    poller.start(busy ? BUSY_POLL_MS : IDLE_POLL_MS);
    ctx.onDispose(() => poller.stop());
  },
};
