// Settings, Security: password, two-factor sign-in, API tokens, SSH keys, and deleting the
// account behind a typed confirmation.

import { PASSWORD_INPUT, newPasswordFields } from '../../lib/account.js';
import { api } from '../../lib/api.js';
import { confirmDialog } from '../../lib/dialog.js';
import { card, h } from '../../lib/dom.js';
import { field, requireFilled, submitForm } from '../../lib/forms.js';
import { navigate } from '../../lib/router.js';
import { clearUser } from '../../lib/session.js';
import { sshKeysCard } from './ssh-keys.js';
import { tokensCard } from './tokens.js';
import { twoFactorCard } from './two-factor.js';

const DELETE_WORD = 'DELETE';

function passwordCard(onChanged) {
  const current = field({ ...PASSWORD_INPUT, name: 'current_password', label: 'Current password' });
  const chosen = newPasswordFields();
  const { form } = submitForm({
    children: [current.element, chosen.elements],
    label: 'Change password',
    busyLabel: 'Changing…',
    fields: { current_password: current, new_password: chosen.password },
    validate: () =>
      requireFilled([[current, 'Enter your current password.']]) && chosen.check(),
    send: async () => {
      await api.post('/api/account/password', {
        current_password: current.input.value,
        new_password: chosen.password.input.value,
      });
      current.input.value = '';
      chosen.clear();
      onChanged();
      return (
        'Password changed. Every other session is signed out, and API tokens made before ' +
        'now no longer work.'
      );
    },
  });
  return card({ id: 'password-title', title: 'Password' }, form);
}

function deleteCard(ctx) {
  const start = h('button', { type: 'button', class: 'button button-danger' }, 'Delete account…');
  start.addEventListener('click', async () => {
    const done = await confirmDialog({
      title: 'Delete your account?',
      body: [
        h(
          'p',
          {},
          'Every machine on the account is terminated with everything on its disk, its ' +
            'subscription is cancelled, and your personal data is erased. This cannot be undone.',
        ),
        h('p', {}, 'Invoices are kept, as the law requires.'),
      ],
      confirmLabel: 'Delete my account',
      danger: true,
      typeToConfirm: DELETE_WORD,
      inputs: [PASSWORD_INPUT],
      onConfirm: ({ password }) => api.post('/api/account/delete', { password }),
    });
    if (done && ctx.isCurrent()) {
      clearUser();
      navigate('/login?deleted=1', { replace: true });
    }
  });
  return card(
    { id: 'delete-title', title: 'Delete account', className: 'danger-zone' },
    h(
      'p',
      { class: 'muted' },
      'Terminates all your machines and erases your personal data. ',
      h(
        'a',
        { href: '/api/account/export', download: `nemordp-account-${ctx.user.id}.json` },
        'Download your data',
      ),
      ' first if you want a copy.',
    ),
    start,
  );
}

export function securityTab(ctx) {
  const tokens = tokensCard(ctx);
  return h(
    'div',
    { class: 'settings-grid' },
    h('div', { class: 'stack' }, passwordCard(tokens.reload), twoFactorCard(ctx)),
    h('div', { class: 'stack' }, tokens.element, sshKeysCard(ctx), deleteCard(ctx)),
  );
}
