// Password reset, both halves on one address (the e-mailed link is /reset-password?token=…):
// without a token, ask for a link (POST /api/account/password/reset); with one, choose a new
// password (POST /api/account/password/reset/confirm).

import { newPasswordFields } from '../lib/account.js';
import { api } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { field, requireFilled, submitForm } from '../lib/forms.js';
import { navigate } from '../lib/router.js';
import { clearUser } from '../lib/session.js';

function requestLink(main) {
  const email = field({
    label: 'E-mail',
    type: 'email',
    name: 'email',
    autocomplete: 'email',
    required: true,
  });
  const { form } = submitForm({
    children: [email.element],
    label: 'Send reset link',
    busyLabel: 'Sending…',
    block: true,
    fields: { email },
    validate: () => requireFilled([[email, 'Enter the e-mail address of your account.']]),
    send: async () => {
      const answer = await api.post('/api/account/password/reset', {
        email: email.input.value.trim(),
      });
      return `${answer.message} It works once, within the hour.`;
    },
  });
  main.append(
    h('h1', {}, 'Reset your password'),
    h('p', { class: 'lead' }, 'We will e-mail you a link to choose a new password.'),
    form,
    h('p', { class: 'auth-switch' }, h('a', { href: '/login' }, 'Back to log in')),
  );
}

function chooseNew(main, token) {
  const chosen = newPasswordFields({ name: 'password' });
  const retry = h('p', { hidden: true }, h('a', { href: '/reset-password' }, 'Ask for a new link'));
  const { form, submit } = submitForm({
    children: [chosen.elements, retry],
    label: 'Set new password',
    busyLabel: 'Saving…',
    block: true,
    fields: { password: chosen.password },
    validate: chosen.check,
    send: async () => {
      await api.post('/api/account/password/reset/confirm', {
        token,
        password: chosen.password.input.value,
      });
      clearUser(); // a reset ends every session, this browser's included
      navigate('/login?reset=1', { replace: true });
    },
    onError: (error, marked) => {
      retry.hidden = Boolean(marked); // a refused password, not a dead link
      if (!marked) submit.focus();
    },
  });
  main.append(
    h('h1', {}, 'Choose a new password'),
    h('p', { class: 'lead' }, 'Setting it signs you out everywhere else.'),
    form,
  );
}

export default {
  title: 'Reset your password',
  public: true,
  mount(main, ctx) {
    const token = ctx.query.get('token');
    if (token) chooseNew(main, token);
    else requestLink(main);
  },
};
