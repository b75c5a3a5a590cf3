// Billing: one subscription per machine with its next payment date, cancelling at the end of
// the period, moving a machine to another plan with the price difference shown before
// confirming, and the invoice history with its PDFs. Changes run as jobs, followed here.

import { api } from '../lib/api.js';
import { LIVE_SUBSCRIPTIONS, invoiceStanding, renewals } from '../lib/billing.js';
import { confirmDialog } from '../lib/dialog.js';
import { card, h, replaceChildren, setText, show } from '../lib/dom.js';
import { money, timeElement } from '../lib/format.js';
import { alertBox, field, showMessage } from '../lib/forms.js';
import { JOB_LABELS, isFinished, trackJob } from '../lib/jobs.js';
import { countSentence, pageCount, pager } from '../lib/pager.js';
import { Poller } from '../lib/poller.js';

const INVOICES_PER_PAGE = 10;
const SUBSCRIPTION_STATUS = {
  active: { label: 'Active', tone: 'ok' },
  trialing: { label: 'Trial', tone: 'ok' },
  past_due: { label: 'Payment overdue', tone: 'warn' },
  incomplete: { label: 'Awaiting payment', tone: 'warn' },
  unpaid: { label: 'Unpaid', tone: 'error' },
  canceled: { label: 'Cancelled', tone: 'muted' },
  incomplete_expired: { label: 'Expired', tone: 'muted' },
};
function subscriptionBadge(subscription) {
  if (subscription.cancel_at_period_end && LIVE_SUBSCRIPTIONS.has(subscription.status)) {
    return h('span', { class: 'badge badge-warn' }, 'Not renewing');
  }
  const known = SUBSCRIPTION_STATUS[subscription.status];
  return h(
    'span',
    { class: `badge badge-${known?.tone || 'neutral'}` },
    known?.label || subscription.status,
  );
}

/** Resolves with the jobs once every one has finished (polled while the page is open). */
function followJobs(ids, ctx) {
  return new Promise((resolve, reject) => {
    const poller = new Poller(
      async () => {
        const jobs = await Promise.all(ids.map((id) => api.get(`/api/jobs/${id}`)));
        if (jobs.every(isFinished)) {
          poller.stop();
          resolve(jobs);
        }
        return true;
      },
      { busyInterval: 1000, maxInterval: 10000 },
    );
    ctx.onDispose(() => {
      poller.stop();
      reject(new Error('left the page'));
    });
    poller.start();
  });
}

function priceChange(quote, plan) {
  const monthly = `${money(plan.price_cents, plan.currency)} a month`;
  const difference = money(Math.abs(quote.amount_due_cents), quote.currency);
  if (quote.amount_due_cents > 0) {
    return `You pay ${difference} now for the rest of this period, then ${monthly}.`;
  }
  if (quote.amount_due_cents < 0) {
    return `You get ${difference} back as credit for the rest of this period, then pay ${monthly}.`;
  }
  return `Nothing to pay now, then ${monthly}.`;
}

export default {
  title: 'Billing',
  async mount(main, ctx) {
    const notice = h('div', { class: 'alert', role: 'status', tabindex: '-1', hidden: true });
    const loadError = alertBox('error');
    const overview = h('div', { class: 'billing-overview' });
    const tbody = h('tbody');
    const subscriptionsWrap = h(
      'div',
      { class: 'table-wrap', hidden: true },
      h(
        'table',
        { class: 'table subscriptions-table' },
        h('caption', { class: 'visually-hidden' }, 'Your subscriptions'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Machine', 'Plan', 'Status', 'Next payment', 'Actions'].map((title) =>
              h('th', { scope: 'col' }, title),
            ),
          ),
        ),
        tbody,
      ),
    );
    const noSubscriptions = h(
      'p',
      { class: 'muted', hidden: true },
      'You have no subscriptions. ',
      h('a', { href: '/app/instances/new' }, 'Order a machine'),
      ' to start one.',
    );

    const invoiceBody = h('tbody');
    const invoiceSummary = h('p', { class: 'muted', id: 'invoices-summary' }, 'Loading invoices…');
    const invoiceError = alertBox('error');
    const invoicesWrap = h(
      'div',
      { class: 'table-wrap', hidden: true },
      h(
        'table',
        { class: 'table invoices-table', 'aria-describedby': 'invoices-summary' },
        h('caption', { class: 'visually-hidden' }, 'Your invoices'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Date', 'Amount', 'Status', 'Documents'].map((title) =>
              h('th', { scope: 'col' }, title),
            ),
          ),
        ),
        invoiceBody,
      ),
    );
    let invoicePage = 1;
    const invoicePager = pager({
      label: 'Invoice pages',
      previous: 'Newer invoices',
      next: 'Older invoices',
      onPage: (page) => {
        invoicePage = page;
        loadInvoices();
      },
    });

    main.append(
      h('div', { class: 'page-header' }, h('h1', {}, 'Billing')),
      notice,
      loadError,
      card(
        { id: 'subscriptions-title', title: 'Subscriptions' },
        overview,
        subscriptionsWrap,
        noSubscriptions,
      ),
      card(
        { id: 'invoices-title', title: 'Invoice history' },
        invoiceSummary,
        invoiceError,
        invoicesWrap,
        invoicePager.element,
      ),
      h(
        'p',
        { class: 'muted' },
        'How subscriptions, plan changes and refunds work: ',
        h('a', { href: '/help/billing' }, 'Billing and payments'),
        '.',
      ),
    );

    const say = (kind, ...content) => {
      notice.className = `alert alert-${kind}`;
      notice.replaceChildren(h('p', {}, content));
      show(notice, true);
      notice.focus();
    };

    let plans = null;
    const plansOnce = async () => {
      plans = plans || (await api.get('/api/plans')).plans;
      return plans;
    };

    const afterJobs = async (started, done) => {
      try {
        const jobs = await followJobs(started.map((job) => job.id), ctx);
        if (!ctx.isCurrent()) return;
        const failed = jobs.find((job) => job.state === 'failed');
        if (failed) {
          say('error', `${JOB_LABELS[failed.kind] || failed.kind} failed: ${failed.error}`);
        } else {
          say('success', done);
        }
        await Promise.all([loadSubscriptions(), loadInvoices()]);
      } catch {
        // The page was left while the job ran; its result shows next time.
      }
    };

    const cancel = async (subscription) => {
      const label = subscription.instance_label;
      const answer = await confirmDialog({
        title: `Cancel the subscription of ${label}?`,
        body: [
          h(
            'p',
            {},
            `It is not renewed: ${label} keeps running until `,
            timeElement(subscription.current_period_end_at, 'the end of the period'),
            ', then it is terminated with everything on its disk.',
          ),
        ],
        confirmLabel: 'Cancel at period end',
        danger: true,
        onConfirm: () =>
          api.post('/api/billing/cancel-subscription', { instance_id: subscription.instance_id }),
      });
      if (!answer || !ctx.isCurrent()) return;
      say('info', `Cancelling the subscription of ${label}…`);
      afterJobs(answer.jobs, `The subscription of ${label} ends at the end of its period.`);
    };

    const cancelAll = async (count) => {
      const answer = await confirmDialog({
        title: 'Cancel every subscription?',
        body: h(
          'p',
          {},
          `None of your ${count} subscriptions is renewed: each machine keeps running until ` +
            'the end of the period it is paid for, then it is terminated.',
        ),
        confirmLabel: 'Cancel all at period end',
        danger: true,
        onConfirm: () => api.post('/api/billing/cancel-subscription', { all: true }),
      });
      if (!answer || !ctx.isCurrent()) return;
      say('info', 'Cancelling your subscriptions…');
      afterJobs(answer.jobs, 'Your subscriptions end at the end of their periods.');
    };

    const changePlan = async (subscription) => {
      const label = subscription.instance_label;
      const [instance, offered] = await Promise.all([
        api.get(`/api/instances/${subscription.instance_id}`),
        plansOnce(),
      ]);
      if (!ctx.isCurrent()) return;
      const choices = offered.filter(
        (plan) => plan.code !== subscription.plan && plan.regions.includes(instance.region),
      );
      if (choices.length === 0) {
        say('info', `No other plan is offered where ${label} runs.`);
        return;
      }
      const choice = field({ label: 'New plan', tag: 'select', name: 'new_plan' });
      choice.input.append(
        ...choices.map((plan) =>
          h(
            'option',
            { value: plan.code },
            `${plan.name} — ${money(plan.price_cents, plan.currency)} a month`,
          ),
        ),
      );
      const quote = h('p', { class: 'price-change', 'aria-live': 'polite' });
      let asked = 0;
      const refresh = async () => {
        const token = ++asked;
        const plan = choices.find((candidate) => candidate.code === choice.input.value);
        setText(quote, 'Working out the price difference…');
        try {
          const preview = await api.get(
            `/api/billing/upgrade-preview?instance_id=${subscription.instance_id}` +
              `&new_plan=${encodeURIComponent(plan.code)}`,
          );
          if (token === asked) setText(quote, priceChange(preview, plan));
        } catch (error) {
          if (token === asked) setText(quote, error.display || String(error));
        }
      };
      choice.input.addEventListener('change', refresh);
      refresh();
      const answer = await confirmDialog({
        title: `Change the plan of ${label}`,
        body: [
          h(
            'p',
            {},
            `${label} is on ${subscription.plan_name} ` +
              `(${money(subscription.amount_cents, subscription.currency)} a month). It restarts ` +
              'once to take the new size.',
          ),
          choice.element,
          quote,
        ],
        confirmLabel: 'Change plan',
        onConfirm: () =>
          api.post('/api/billing/upgrade-plan', {
            instance_id: subscription.instance_id,
            new_plan: choice.input.value,
          }),
      });
      if (!answer || !ctx.isCurrent()) return;
      trackJob(subscription.instance_id, answer.job.id); // the machine's page shows it too
      const plan = choices.find((candidate) => candidate.code === choice.input.value);
      const { amount_due_cents: due, currency } = answer.proration;
      const invoiced = due > 0 ? `${money(due, currency)} is invoiced` : 'nothing is due';
      say(
        'info',
        `Moving ${label} to ${plan.name}; ${invoiced} now. Follow it on `,
        h('a', { href: `/app/instances/${subscription.instance_id}` }, `${label}’s page`),
        '.',
      );
      afterJobs([answer.job], `${label} is now on the ${plan.name} plan; ${invoiced}.`);
    };

    const renderSubscriptions = (billing) => {
      const subscriptions = billing.subscriptions;
      const { renewing, monthly, currency, next } = renewals(subscriptions);
      const cancelAllButton = h(
        'button',
        { type: 'button', class: 'button button-secondary' },
        'Cancel all subscriptions…',
      );
      cancelAllButton.addEventListener('click', () => cancelAll(renewing.length));
      replaceChildren(
        overview,
        h(
          'dl',
          { class: 'facts' },
          h(
            'div',
            { class: 'fact' },
            h('dt', {}, 'Renewing each month'),
            h(
              'dd',
              {},
              renewing.length
                ? `${money(monthly, currency)} for ${renewing.length} ` +
                    `machine${renewing.length === 1 ? '' : 's'}`
                : 'Nothing',
            ),
          ),
          h('div', { class: 'fact' }, h('dt', {}, 'Next payment'), h('dd', {}, timeElement(next))),
        ),
        renewing.length > 1 ? h('div', { class: 'button-row' }, cancelAllButton) : null,
      );

      tbody.replaceChildren(
        ...subscriptions.map((subscription) => {
          const active = LIVE_SUBSCRIPTIONS.has(subscription.status);
          const renews = active && !subscription.cancel_at_period_end;
          const label = subscription.instance_label;
          const actions = [];
          if (renews) {
            const change = h(
              'button',
              {
                type: 'button',
                class: 'button button-secondary button-small',
                'aria-label': `Change the plan of ${label}`,
              },
              'Change plan…',
            );
            change.addEventListener('click', () =>
              changePlan(subscription).catch((error) => say('error', error.display || error)),
            );
            const stop = h(
              'button',
              {
                type: 'button',
                class: 'button button-danger button-small',
                'aria-label': `Cancel the subscription of ${label}`,
              },
              'Cancel…',
            );
            stop.addEventListener('click', () => cancel(subscription));
            actions.push(change, stop);
          }
          return h(
            'tr',
            { dataset: { instanceId: subscription.instance_id } },
            h(
              'th',
              { scope: 'row', dataset: { label: 'Machine' } },
              h('a', { href: `/app/instances/${subscription.instance_id}` }, label),
            ),
            h(
              'td',
              { dataset: { label: 'Plan' } },
              h(
                'span',
                {},
                subscription.plan_name,
                h(
                  'span',
                  { class: 'muted small block' },
                  `${money(subscription.amount_cents, subscription.currency)} a month`,
                ),
              ),
            ),
            h('td', { dataset: { label: 'Status' } }, subscriptionBadge(subscription)),
            h(
              'td',
              { dataset: { label: 'Next payment' } },
              renews
                ? timeElement(subscription.current_period_end_at)
                : active
                  ? h('span', {}, 'None; it ends ', timeElement(subscription.current_period_end_at))
                  : '—',
            ),
            h(
              'td',
              { dataset: { label: 'Actions' } },
              actions.length ? h('div', { class: 'button-row' }, actions) : '—',
            ),
          );
        }),
      );
      show(subscriptionsWrap, subscriptions.length > 0);
      show(noSubscriptions, subscriptions.length === 0);
    };

    const loadSubscriptions = async () => {
      try {
        const billing = await api.get('/api/billing/subscription');
        if (!ctx.isCurrent()) return;
        showMessage(loadError, null);
        renderSubscriptions(billing);
      } catch (error) {
        if (ctx.isCurrent()) showMessage(loadError, error);
      }
    };

    const loadInvoices = async () => {
      try {
        const data = await api.get(
          `/api/billing/invoices?page=${invoicePage}&per_page=${INVOICES_PER_PAGE}`,
        );
        if (!ctx.isCurrent()) return;
        showMessage(invoiceError, null);
        invoiceBody.replaceChildren(
          ...data.items.map((invoice) => {
            const standing = invoiceStanding(invoice);
            const documents = [
              invoice.invoice_pdf
                ? h('a', { href: invoice.invoice_pdf, rel: 'noopener' }, 'PDF')
                : null,
              invoice.hosted_invoice_url
                ? h('a', { href: invoice.hosted_invoice_url, rel: 'noopener' }, 'View online')
                : null,
            ].filter(Boolean);
            return h(
              'tr',
              { dataset: { invoiceId: invoice.id } },
              h('th', { scope: 'row', dataset: { label: 'Date' } }, timeElement(invoice.created_at)),
              h(
                'td',
                { dataset: { label: 'Amount' } },
                money(standing.amount, invoice.currency),
              ),
              h(
                'td',
                { dataset: { label: 'Status' } },
                h(
                  'span',
                  { class: `badge badge-${standing.tone}` },
                  standing.label,
                ),
              ),
              h(
                'td',
                { dataset: { label: 'Documents' } },
                documents.length
                  ? h('span', { class: 'link-row' }, documents)
                  : h('span', { class: 'muted' }, 'Not available yet'),
              ),
            );
          }),
        );
        setText(invoiceSummary, countSentence(data, 'invoice', 'No invoices yet.'));
        show(invoicesWrap, data.items.length > 0);
        invoicePager.update(data.page, pageCount(data));
      } catch (error) {
        if (ctx.isCurrent()) showMessage(invoiceError, error);
      }
    };

    overview.append(h('p', { class: 'muted' }, 'Loading your subscriptions…'));
    await Promise.all([loadSubscriptions(), loadInvoices()]);
  },
};
