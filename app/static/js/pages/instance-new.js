// Order a machine: plan (price and specs from /api/plans), operating system (with the
// account's SSH keys to install on Linux), and a region among those the chosen plan is
// offered in. The order answers either a provisioning job
// (followed on the machine's page) or a payment page to go to first.

import { api, fieldMessages } from '../lib/api.js';
import { announce, h, setText, show, uid } from '../lib/dom.js';
import { alertBox, showMessage, whileBusy } from '../lib/forms.js';
import { trackJob } from '../lib/jobs.js';
import { breadcrumb } from '../lib/layout.js';
import { money, osName, planSpecs, regionName, sortRegions } from '../lib/format.js';
import { navigate } from '../lib/router.js';

function fieldError(id) {
  return h('p', { class: 'field-error', id, hidden: true });
}

function setFieldError(element, message, controls) {
  element.textContent = message || '';
  element.hidden = !message;
  for (const control of controls) {
    if (message) {
      control.setAttribute('aria-invalid', 'true');
    } else {
      control.removeAttribute('aria-invalid');
    }
  }
}

function planOption(plan, checked) {
  const id = uid('plan');
  const specsId = `${id}-specs`;
  const input = h('input', {
    type: 'radio',
    name: 'plan',
    value: plan.code,
    id,
    checked,
    'aria-describedby': specsId,
  });
  return h(
    'div',
    { class: 'option-card' },
    input,
    h(
      'label',
      { for: id },
      h('span', { class: 'option-title' }, plan.name),
      ' ',
      h('span', { class: 'option-price' }, `${money(plan.price_cents, plan.currency)} / month`),
    ),
    h('ul', { class: 'specs', id: specsId }, planSpecs(plan).map((spec) => h('li', {}, spec))),
  );
}

/** Leave for the payment page (only ever an http(s) address). */
function payAt(url) {
  const target = new URL(url, window.location.href);
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    throw new Error(`Refusing to open the payment page at ${url}`);
  }
  announce('Opening the payment page.');
  window.location.assign(target.href);
}

export default {
  title: 'New machine',
  async mount(main, ctx) {
    main.append(
      breadcrumb('/app/instances', 'All instances'),
      h('div', { class: 'page-header' }, h('h1', {}, 'New machine')),
    );
    const loading = h('p', { class: 'muted' }, 'Loading plans…');
    main.append(loading);
    const [{ plans }, { ssh_keys: sshKeys }] = await Promise.all([
      api.get('/api/plans'),
      api.get('/api/account/ssh-keys').catch(() => ({ ssh_keys: [] })),
    ]);
    if (!ctx.isCurrent()) return;
    loading.remove();
    if (plans.length === 0) {
      main.append(h(
        'p',
        { class: 'alert alert-error', role: 'alert' },
        'No plans are on sale right now.',
      ));
      return;
    }

    const planError = fieldError('plan-error');
    const osError = fieldError('os-error');
    const regionError = fieldError('region-error');
    const errors = alertBox('error');

    const planFieldset = h(
      'fieldset',
      { class: 'options options-plans', 'aria-describedby': 'plan-error' },
      h('legend', {}, 'Plan'),
      plans.map((plan, index) => planOption(plan, index === 0)),
      planError,
    );

    const defaultOs = ctx.user?.preferences?.default_os === 'linux' ? 'linux' : 'windows';
    const osFieldset = h(
      'fieldset',
      { class: 'options options-os', 'aria-describedby': 'os-error' },
      h('legend', {}, 'Operating system'),
      ['windows', 'linux'].map((os) =>
        h(
          'div',
          { class: 'option-card option-compact' },
          h(
            'input',
            {
              type: 'radio',
              name: 'os_type',
              value: os,
              id: `os-${os}`,
              checked: os === defaultOs,
            },
          ),
          h('label', { for: `os-${os}` }, h('span', { class: 'option-title' }, osName(os))),
        ),
      ),
      osError,
    );

    const keysError = fieldError('ssh-keys-error');
    const keysFieldset = h(
      'fieldset',
      { class: 'options options-ssh-keys', 'aria-describedby': 'ssh-keys-hint ssh-keys-error' },
      h('legend', {}, 'SSH keys'),
      h(
        'p',
        { class: 'hint', id: 'ssh-keys-hint' },
        sshKeys.length
          ? 'Installed on the Linux machine, to sign in without a password.'
          : h(
            'span',
            {},
            'You have no SSH keys yet; add them under ',
            h('a', { href: '/app/settings/security' }, 'Settings, Security'),
            '.',
          ),
      ),
      sshKeys.map((key) => {
        const id = `ssh-key-${key.id}`;
        return h(
          'div',
          { class: 'checkbox' },
          h('input', { type: 'checkbox', name: 'ssh_key_ids', value: String(key.id), id }),
          h('label', { for: id }, `${key.name} `, h('code', {}, key.fingerprint)),
        );
      }),
      keysError,
    );

    const region = h(
      'select',
      { id: 'region', name: 'region', 'aria-describedby': 'region-hint region-error' },
    );
    const regionHint = h('p', { class: 'hint', id: 'region-hint' });
    const regionField = h(
      'div',
      { class: 'field' },
      h('label', { for: 'region' }, 'Region'),
      regionHint,
      region,
      regionError,
    );

    const summary = h('p', { class: 'order-summary', 'aria-live': 'polite' });
    const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Order machine');
    const form = h(
      'form',
      { class: 'stack order-form', novalidate: true },
      planFieldset,
      osFieldset,
      keysFieldset,
      regionField,
      h('div', { class: 'card order-total' }, summary, errors, submit),
    );
    main.append(form);

    const selectedPlan = () => {
      const code = form.querySelector('input[name="plan"]:checked')?.value;
      return plans.find((plan) => plan.code === code) || plans[0];
    };
    const selectedOs = () =>
      form.querySelector('input[name="os_type"]:checked')?.value || defaultOs;

    const refreshRegions = () => {
      const plan = selectedPlan();
      const keep = region.value;
      region.replaceChildren(
        ...sortRegions(plan.regions).map((code) => h('option', { value: code }, regionName(code))),
      );
      if (plan.regions.includes(keep)) region.value = keep;
      setText(
        regionHint,
        `The ${plan.name} plan is offered in ${plan.regions.length} ` +
          `region${plan.regions.length === 1 ? '' : 's'}.`,
      );
    };
    const chosenKeys = () =>
      selectedOs() === 'linux'
        ? [...form.querySelectorAll('input[name="ssh_key_ids"]:checked')].map((box) =>
          Number(box.value),
        )
        : [];
    const refreshKeys = () => show(keysFieldset, selectedOs() === 'linux');
    const refreshSummary = () => {
      const plan = selectedPlan();
      setText(
        summary,
        `${plan.name} with ${osName(selectedOs())} in ${regionName(region.value)}: ` +
          `${money(plan.price_cents, plan.currency)} / month.`,
      );
    };
    form.addEventListener('change', (event) => {
      if (event.target.name === 'plan') refreshRegions();
      refreshKeys();
      refreshSummary();
    });
    refreshRegions();
    refreshKeys();
    refreshSummary();

    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      showMessage(errors, null);
      setFieldError(planError, null, form.querySelectorAll('input[name="plan"]'));
      setFieldError(osError, null, form.querySelectorAll('input[name="os_type"]'));
      setFieldError(regionError, null, [region]);
      setFieldError(keysError, null, form.querySelectorAll('input[name="ssh_key_ids"]'));
      await whileBusy(submit, 'Ordering…', async () => {
        try {
          const body = { plan: selectedPlan().code, os_type: selectedOs(), region: region.value };
          const keys = chosenKeys();
          if (keys.length) body.ssh_key_ids = keys;
          const ordered = await api.post('/api/instances', body);
          if (ordered.checkout_url) {
            // Paid orders: Stripe's payment page, which comes back to the machine's page.
            payAt(ordered.checkout_url);
            return;
          }
          trackJob(ordered.instance.id, ordered.job.id);
          navigate(`/app/instances/${ordered.instance.id}`);
        } catch (error) {
          const fields = fieldMessages(error);
          setFieldError(planError, fields.plan, form.querySelectorAll('input[name="plan"]'));
          setFieldError(osError, fields.os_type, form.querySelectorAll('input[name="os_type"]'));
          setFieldError(regionError, fields.region, [region]);
          setFieldError(
            keysError,
            fields.ssh_key_ids,
            form.querySelectorAll('input[name="ssh_key_ids"]'),
          );
          showMessage(errors, error);
        }
      });
    });
  },
};
