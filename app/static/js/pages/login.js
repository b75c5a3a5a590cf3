// Log in: POST /api/auth/login, then on to the page asked for.

import { api, setCsrfToken } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { alertBox, field, showMessage, whileBusy } from '../lib/forms.js';
import { navigate } from '../lib/router.js';
import { setUser } from '../lib/session.js';

export default {
  title: 'Log in',
  public: true,
  guestOnly: true,
  mount(main, ctx) {
    const notice = alertBox('info');
    if (ctx.query.get('logged_out')) showMessage(notice, 'You have logged out.');
    if (ctx.query.get('expired')) showMessage(notice, 'Your session has ended; log in again.');
    const errors = alertBox('error');
    const email = field({
      label: 'E-mail',
      type: 'email',
      name: 'email',
      autocomplete: 'username',
      required: true,
    });
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
          const session = await api.post(
            '/api/auth/login',
            {
              email: email.input.value.trim(),
              password: password.input.value,
              remember: remember.checked,
            },
            { expectUnauthorized: true },
          );
          setCsrfToken(session.csrf_token);
          setUser(session.user);
          navigate(ctx.nextPath(), { replace: true });
        } catch (error) {
          showMessage(errors, error);
          password.input.select();
          password.input.focus();
        }
      });
    });
    main.append(
      h('h1', {}, 'Log in'),
      notice,
      form,
      h(
        'p',
        { class: 'auth-switch' },
        'New to NemoRDP? ',
        h('a', { href: '/signup' }, 'Create an account'),
      ),
    );
  },
};
