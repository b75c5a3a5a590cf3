// Sign up: POST /api/auth/signup signs the new account in.

import { MIN_PASSWORD } from '../lib/account.js';
import { api, setCsrfToken } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { alertBox, field, showFieldErrors, showMessage, whileBusy } from '../lib/forms.js';
import { navigate } from '../lib/router.js';
import { setUser } from '../lib/session.js';

export default {
  title: 'Create your account',
  public: true,
  guestOnly: true,
  mount(main) {
    const errors = alertBox('error');
    const email = field({
      label: 'E-mail',
      type: 'email',
      name: 'email',
      autocomplete: 'email',
      required: true,
    });
    const password = field({
      label: 'Password',
      type: 'password',
      name: 'password',
      autocomplete: 'new-password',
      required: true,
      minlength: String(MIN_PASSWORD),
      hint: `At least ${MIN_PASSWORD} characters.`,
    });
    const submit = h(
      'button',
      { type: 'submit', class: 'button button-primary button-block' },
      'Create account',
    );
    const form = h(
      'form',
      { class: 'stack', novalidate: true },
      email.element,
      password.element,
      errors,
      submit,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      showMessage(errors, null);
      email.setError(null);
      password.setError(null);
      if (!email.input.value.trim()) {
        email.setError('Enter your e-mail address.');
        email.input.focus();
        return;
      }
      if (password.input.value.length < MIN_PASSWORD) {
        password.setError(`Use at least ${MIN_PASSWORD} characters.`);
        password.input.focus();
        return;
      }
      await whileBusy(submit, 'Creating account…', async () => {
        try {
          const session = await api.post('/api/auth/signup', {
            email: email.input.value.trim(),
            password: password.input.value,
          });
          setCsrfToken(session.csrf_token);
          setUser(session.user);
          navigate('/app/instances', { replace: true });
        } catch (error) {
          const wrong = showFieldErrors(error, { email, password });
          showMessage(errors, error);
          (wrong || email).input.focus();
        }
      });
    });
    main.append(
      h('h1', {}, 'Create your account'),
      h(
        'p',
        { class: 'lead' },
        'Rent a cloud desktop and reach it over Remote Desktop in minutes.',
      ),
      form,
      h(
        'p',
        { class: 'auth-switch' },
        'Already have an account? ',
        h('a', { href: '/login' }, 'Log in'),
      ),
    );
  },
};
