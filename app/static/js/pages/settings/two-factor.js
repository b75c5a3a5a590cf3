// Settings, Security: two-factor sign-in. Turning it on: password, then a QR code (and the
// key to type by hand) for the authenticator app, then a first code; the recovery codes are
// shown that once. Turning it off and renewing recovery codes ask for a code again.

import { CODE_INPUT, PASSWORD_INPUT } from '../../lib/account.js';
import { api, fieldMessages } from '../../lib/api.js';
import { copyButton, copyableValue } from '../../lib/clipboard.js';
import { confirmDialog } from '../../lib/dialog.js';
import { announce, card, h } from '../../lib/dom.js';
import { alertBox, field, showMessage, whileBusy } from '../../lib/forms.js';
import { knownUser, setUser } from '../../lib/session.js';
import { svgImage } from '../../lib/svg.js';

function codesPanel(codes, onDone) {
  const done = h(
    'button',
    { type: 'button', class: 'button button-primary button-small' },
    'I have saved them',
  );
  done.addEventListener('click', onDone);
  return h(
    'div',
    { class: 'alert alert-success recovery-codes', role: 'status' },
    h('h3', { id: 'recovery-codes-title', tabindex: '-1' }, 'Your recovery codes'),
    h(
      'p',
      {},
      'Each lets you in once if you lose your authenticator. Keep them somewhere safe, away ' +
        'from your phone: this is the only time they are shown.',
    ),
    h(
      'ol',
      { class: 'code-list', 'aria-labelledby': 'recovery-codes-title' },
      codes.map((code) => h('li', {}, h('code', {}, code))),
    ),
    h(
      'div',
      { class: 'button-row' },
      copyButton('Copy recovery codes', () => codes.join('\n')),
      done,
    ),
  );
}

export function twoFactorCard(ctx) {
  const body = h('div', { class: 'two-factor-body' });
  const errors = alertBox('error');
  const element = card({ id: 'two-factor-title', title: 'Two-factor sign-in' }, errors, body);

  const remember = (enabled) => {
    const user = knownUser();
    if (user) setUser({ ...user, two_factor_enabled: enabled });
  };

  const showCodes = (codes, message) => {
    body.replaceChildren(
      codesPanel(codes, async () => {
        await load();
        body.querySelector('button')?.focus();
      }),
    );
    announce(message);
    body.querySelector('h3').focus();
  };

  const enrol = (setup) => {
    const codeError = alertBox('error');
    const code = field({
      label: 'Code from the app',
      hint: 'The 6 digits your authenticator app shows for NemoRDP.',
      inputmode: 'numeric',
      ...CODE_INPUT,
    });
    const confirm = h('button', { type: 'submit', class: 'button button-primary' }, 'Turn on');
    const cancel = h('button', { type: 'button', class: 'button button-secondary' }, 'Cancel');
    cancel.addEventListener('click', async () => {
      await load();
      body.querySelector('button')?.focus();
    });
    const qr = svgImage(setup.qr_svg, 'QR code for your authenticator app');
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      code.element,
      codeError,
      h('div', { class: 'button-row' }, confirm, cancel),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      showMessage(codeError, null);
      code.setError(null);
      const value = code.input.value.replace(/\s+/g, '');
      if (!value) {
        code.setError('Enter the code the app shows.');
        code.input.focus();
        return;
      }
      await whileBusy(confirm, 'Turning on…', async () => {
        try {
          const { recovery_codes: codes } = await api.post('/api/account/2fa/confirm', {
            code: value,
          });
          remember(true);
          showCodes(codes, 'Two-factor sign-in is on.');
        } catch (error) {
          code.setError(fieldMessages(error).code);
          showMessage(codeError, error);
          code.input.select();
          code.input.focus();
        }
      });
    });
    body.replaceChildren(
      h('h3', { id: 'enrol-title', tabindex: '-1' }, 'Set up your authenticator app'),
      h(
        'ol',
        { class: 'enrol-steps' },
        h(
          'li',
          {},
          h('p', {}, 'Scan this QR code with an authenticator app (any app for 6-digit codes).'),
          qr ? h('div', { class: 'qr' }, qr) : null,
          h('p', { class: 'muted small' }, 'Cannot scan it? Type this key in the app instead:'),
          copyableValue({ label: 'Key', value: setup.secret, id: 'two-factor-key' }),
        ),
        h('li', {}, h('p', {}, 'Enter the code the app now shows, to check it works.'), form),
      ),
    );
    body.querySelector('h3').focus();
  };

  const startEnrolment = async () => {
    const setup = await confirmDialog({
      title: 'Turn on two-factor sign-in',
      body: h('p', {}, 'Confirm it is you with your password.'),
      confirmLabel: 'Continue',
      inputs: [PASSWORD_INPUT],
      onConfirm: ({ password }) => api.post('/api/account/2fa/setup', { password }),
    });
    if (setup && ctx.isCurrent()) enrol(setup);
  };

  const renewCodes = async () => {
    const answer = await confirmDialog({
      title: 'New recovery codes',
      body: h('p', {}, 'Your current recovery codes stop working once the new ones are made.'),
      confirmLabel: 'Make new codes',
      inputs: [{ label: 'Code from your authenticator app', ...CODE_INPUT }],
      onConfirm: ({ code }) => api.post('/api/account/2fa/recovery-codes', { code: code.trim() }),
    });
    if (answer && ctx.isCurrent()) showCodes(answer.recovery_codes, 'New recovery codes made.');
  };

  const turnOff = async () => {
    const done = await confirmDialog({
      title: 'Turn off two-factor sign-in?',
      body: h('p', {}, 'Your password alone will then sign in to your account.'),
      confirmLabel: 'Turn off',
      danger: true,
      inputs: [
        PASSWORD_INPUT,
        { label: 'Code from your authenticator app', ...CODE_INPUT },
      ],
      onConfirm: ({ password, code }) =>
        api.post('/api/account/2fa/disable', { password, code: code.trim() }),
    });
    if (done && ctx.isCurrent()) {
      remember(false);
      announce('Two-factor sign-in is off.');
      await load();
    }
  };

  const renderStatus = (status) => {
    if (!status.enabled) {
      const on = h(
        'button',
        { type: 'button', class: 'button button-primary' },
        'Turn on two-factor sign-in',
      );
      on.addEventListener('click', startEnrolment);
      body.replaceChildren(
        h('p', {}, h('span', { class: 'badge badge-neutral' }, 'Off')),
        h(
          'p',
          { class: 'muted' },
          'Ask for a code from an authenticator app on your phone as well as your password.',
        ),
        h('div', { class: 'button-row' }, on),
      );
      return;
    }
    const renew = h(
      'button',
      { type: 'button', class: 'button button-secondary' },
      'New recovery codes…',
    );
    const off = h('button', { type: 'button', class: 'button button-danger' }, 'Turn off…');
    renew.addEventListener('click', renewCodes);
    off.addEventListener('click', turnOff);
    const left = status.recovery_codes_left;
    body.replaceChildren(
      h('p', {}, h('span', { class: 'badge badge-ok' }, 'On')),
      h(
        'p',
        { class: left < 3 ? 'alert alert-warning' : 'muted' },
        `${left} recovery code${left === 1 ? '' : 's'} left.`,
        left < 3 ? ' Make new ones before you run out.' : '',
      ),
      h('div', { class: 'button-row' }, renew, off),
    );
  };

  const load = async () => {
    try {
      const status = await api.get('/api/account/2fa');
      if (!ctx.isCurrent()) return;
      showMessage(errors, null);
      renderStatus(status);
    } catch (error) {
      if (ctx.isCurrent()) showMessage(errors, error);
    }
  };
  load();
  return element;
}
