// Settings, Profile: the name, the e-mail address (changed through a link sent to the new
// one), and a download of everything held about the account.

import { PASSWORD_INPUT } from '../../lib/account.js';
import { api } from '../../lib/api.js';
import { card, h, setText } from '../../lib/dom.js';
import { dateTime } from '../../lib/format.js';
import { field, requireFilled, submitForm } from '../../lib/forms.js';
import { setUser } from '../../lib/session.js';

function nameCard(user) {
  const fullName = field({
    label: 'Full name',
    type: 'text',
    name: 'full_name',
    autocomplete: 'name',
    maxlength: '100',
    hint: 'How we address you in the dashboard.',
  });
  fullName.input.value = user.full_name || '';
  const { form } = submitForm({
    children: [
      h(
        'div',
        { class: 'field' },
        h('span', { class: 'label', id: 'member-since-label' }, 'Member since'),
        h(
          'p',
          { class: 'value', 'aria-labelledby': 'member-since-label' },
          dateTime(user.created_at),
        ),
      ),
      fullName.element,
    ],
    label: 'Save profile',
    busyLabel: 'Saving…',
    fields: { full_name: fullName },
    send: async () => {
      const updated = await api.put('/api/auth/profile', {
        full_name: fullName.input.value.trim(),
      });
      setUser(updated);
      const who = document.querySelector('.account-name');
      if (who) setText(who, updated.full_name || updated.email);
      return 'Profile saved.';
    },
  });
  return card({ id: 'profile-title', title: 'Profile' }, form);
}

function emailCard(user) {
  const newEmail = field({
    label: 'New e-mail address',
    type: 'email',
    name: 'new_email',
    autocomplete: 'email',
    required: true,
  });
  const password = field({
    ...PASSWORD_INPUT,
    label: 'Your password',
    hint: 'To confirm it is you.',
  });
  const { form } = submitForm({
    children: [newEmail.element, password.element],
    label: 'Send confirmation link',
    busyLabel: 'Sending…',
    fields: { new_email: newEmail, password },
    validate: () =>
      requireFilled([
        [newEmail, 'Enter the new address.'],
        [password, 'Enter your password.'],
      ]),
    send: async () => {
      const address = newEmail.input.value.trim();
      const answer = await api.post('/api/account/email', {
        new_email: address,
        password: password.input.value,
      });
      password.input.value = '';
      return `${answer.message} It was sent to ${address} and works for 24 hours.`;
    },
  });
  return card(
    { id: 'email-title', title: 'E-mail address' },
    h('p', {}, 'You log in with ', h('strong', { class: 'account-email' }, user.email), '.'),
    h(
      'p',
      { class: 'muted' },
      'To change it, we send a link to the new address; your account keeps the current one ' +
        'until you follow it.',
    ),
    form,
  );
}

function dataCard(user) {
  return card(
    { id: 'data-title', title: 'Your data' },
    h(
      'p',
      { class: 'muted' },
      'Everything we hold about your account — machines (without their passwords), tickets, ' +
        'token names and the security log — as one JSON file.',
    ),
    h(
      'a',
      {
        class: 'button button-secondary',
        href: '/api/account/export',
        download: `nemordp-account-${user.id}.json`,
      },
      'Download my data',
    ),
  );
}

export function profileTab(ctx) {
  return h(
    'div',
    { class: 'settings-grid' },
    nameCard(ctx.user),
    h('div', { class: 'stack' }, emailCard(ctx.user), dataCard(ctx.user)),
  );
}
