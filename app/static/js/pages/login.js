// Log in: POST /api/auth/login; with two-factor sign-in on, a second step sends the
// authenticator (or recovery) code to POST /api/auth/login/2fa. Then on to the page asked for.

import { CODE_INPUT } from '../lib/account.js';
import { api, setCsrfToken } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { alertBox, field, showMessage, whileBusy } from '../lib/forms.js';
import { navigate } from '../lib/router.js';
import { setUser } from '../lib/session.js';

const NOTICES = {
  logged_out: 'You have logged out.',
  expired: 'Your session has ended; log in again.',
  reset: 'Your password is changed. Log in with the new one.',
  deleted: 'Your account is being deleted and your machines terminated. Goodbye.',
};

function signedIn(session, ctx) {
  setCsrfToken(session.csrf_token);
  setUser(session.user);
  navigate(ctx.nextPath(), { replace: true });
}

/** The second step: a code for the challenge the password step returned. */
function codeStep(main, ctx, challenge, onRestart) {
  const errors = alertBox('error');
  const code = field({
    label: 'Authentication code',
    hint: 'The 6-digit code from your authenticator app, or one of your recovery codes.',
    ...CODE_INPUT,
  });
  const submit = h(
    'button',
    { type: 'submit', class: 'button button-primary button-block' },
    'Verify',
  );
  const restart = h(
    'button',
    { type: 'button', class: 'button button-secondary button-block' },
    'Start again',
  );
  restart.addEventListener('click', onRestart);
  const form = h('form', { class: 'stack', novalidate: true }, code.element, errors, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showMessage(errors, null);
    const value = code.input.value.replace(/\s+/g, '');
    if (!value) {
      showMessage(errors, 'Enter the code from your authenticator app.');
      code.input.focus();
      return;
    }
    await whileBusy(submit, 'Verifying…', async () => {
      try {
        const session = await api.post(
          '/api/auth/login/2fa',
          { challenge, code: value },
          { expectUnauthorized: true },
        );
        signedIn(session, ctx);
      } catch (error) {
        showMessage(errors, error);
        code.input.select();
        code.input.focus();
      }
    });
  });
  const heading = h('h1', { tabindex: '-1' }, 'Two-factor sign-in');
  main.replaceChildren(
    heading,
    h('p', { class: 'lead' }, 'Your account asks for a second step. Open your authenticator app.'),
    form,
    h('p', { class: 'auth-switch' }, restart),
  );
  code.input.focus();
}

function passwordStep(main, ctx, { email: knownEmail = '' } = {}) {
  const notice = alertBox('info');
  const found = Object.keys(NOTICES).find((key) => ctx.query.get(key));
  if (found && !knownEmail) showMessage(notice, NOTICES[found]);
  const errors = alertBox('error');
  const email = field({
    label: 'E-mail',
    type: 'email',
    name: 'email',
    autocomplete: 'username',
    required: true,
  });
  email.input.value = knownEmail;
  const password = field({
    label: 'Password',
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const remember = h('input', { type: 'checkbox', id: 'remember', name: 'remember' });
  const submit = h(
    'button',
    { type: 'submit', class: 'button button-primary button-block' },
    'Log in',
  );
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    email.element,
    password.element,
    h(
      'div',
      { class: 'check' },
      remember,
      h('label', { for: 'remember' }, 'Keep me logged in on this device'),
    ),
    errors,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showMessage(errors, null);
    if (!email.input.value.trim() || !password.input.value) {
      showMessage(errors, 'Enter your e-mail and password.');
      (email.input.value.trim() ? password.input : email.input).focus();
      return;
    }
    await whileBusy(submit, 'Logging in…', async () => {
      try {
        const result = await api.post(
          '/api/auth/login',
          {
            email: email.input.value.trim(),
            password: password.input.value,
            remember: remember.checked,
          },
          { expectUnauthorized: true },
        );
        if (result.two_factor_required) {
          const typed = email.input.value.trim();
          codeStep(main, ctx, result.challenge, () => {
            passwordStep(main, ctx, { email: typed });
            main.querySelector('input[type="password"]').focus();
          });
          return;
        }
        signedIn(result, ctx);
      } catch (error) {
        showMessage(errors, error);
        password.input.select();
        password.input.focus();
      }
    });
  });
  main.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Log in'),
    notice,
    form,
    h('p', { class: 'auth-switch' }, h('a', { href: '/reset-password' }, 'Forgot your password?')),
    h(
      'p',
      { class: 'auth-switch' },
      'New to NemoRDP? ',
      h('a', { href: '/signup' }, 'Create an account'),
    ),
  );
}

export default {
  title: 'Log in',
  public: true,
  guestOnly: true,
  mount(main, ctx) {
    passwordStep(main, ctx);
  },
};
