// Settings, Security: SSH public keys, offered when ordering or reinstalling a Linux
// machine. Each shows its name and SHA-256 fingerprint; removing one asks first.

import { api } from '../../lib/api.js';
import { confirmDialog } from '../../lib/dialog.js';
import { announce, card, h, show } from '../../lib/dom.js';
import { timeElement } from '../../lib/format.js';
import { alertBox, field, showMessage, submitForm } from '../../lib/forms.js';

export function sshKeysCard(ctx) {
  const listError = alertBox('error');
  const name = field({
    label: 'Key name',
    type: 'text',
    name: 'name',
    maxlength: '100',
    autocomplete: 'off',
    hint: 'Where the key lives, e.g. “work laptop”.',
  });
  const key = field({
    label: 'Public key',
    tag: 'textarea',
    name: 'public_key',
    rows: '3',
    autocomplete: 'off',
    spellcheck: 'false',
    class: 'mono',
    hint: 'One line starting ssh-ed25519, ecdsa-sha2-… or ssh-rsa (2048 bits or more). ' +
      'Never paste a private key.',
  });
  const tbody = h('tbody');
  const tableWrap = h(
    'div',
    { class: 'table-wrap', hidden: true },
    h(
      'table',
      { class: 'table ssh-keys-table' },
      h('caption', { class: 'visually-hidden' }, 'Your SSH keys'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Name', 'Fingerprint', 'Added', 'Actions'].map((title) =>
            h('th', { scope: 'col' }, title),
          ),
        ),
      ),
      tbody,
    ),
  );
  const none = h('p', { class: 'muted', hidden: true }, 'You have no SSH keys.');

  const render = (keys) => {
    tbody.replaceChildren(
      ...keys.map((item) => {
        const remove = h(
          'button',
          {
            type: 'button',
            class: 'button button-danger button-small',
            'aria-label': `Remove SSH key ${item.name}`,
          },
          'Remove',
        );
        remove.addEventListener('click', async () => {
          const done = await confirmDialog({
            title: `Remove “${item.name}”?`,
            body: h(
              'p',
              {},
              'New machines will no longer get this key. Machines that have it keep it.',
            ),
            confirmLabel: 'Remove key',
            danger: true,
            onConfirm: () => api.delete(`/api/account/ssh-keys/${item.id}`),
          });
          if (done) {
            announce(`SSH key ${item.name} removed.`);
            await load();
            (tbody.querySelector('button') || name.input).focus();
          }
        });
        return h(
          'tr',
          {},
          h('th', { scope: 'row', dataset: { label: 'Name' } }, item.name),
          h('td', { dataset: { label: 'Fingerprint' } }, h('code', {}, item.fingerprint)),
          h('td', { dataset: { label: 'Added' } }, timeElement(item.created_at)),
          h('td', { dataset: { label: 'Actions' } }, remove),
        );
      }),
    );
    show(tableWrap, keys.length > 0);
    show(none, keys.length === 0);
  };

  const load = async () => {
    try {
      const { ssh_keys: keys } = await api.get('/api/account/ssh-keys');
      if (!ctx.isCurrent()) return;
      showMessage(listError, null);
      render(keys);
    } catch (error) {
      if (ctx.isCurrent()) showMessage(listError, error);
    }
  };

  const { form } = submitForm({
    children: [name.element, key.element],
    label: 'Add key',
    busyLabel: 'Adding…',
    fields: { name, public_key: key },
    validate: () => {
      for (const [item, message] of [
        [name, 'Give the key a name.'],
        [key, 'Paste the public key.'],
      ]) {
        if (!item.input.value.trim()) {
          item.setError(message);
          item.input.focus();
          return false;
        }
      }
      return true;
    },
    send: async () => {
      const added = await api.post('/api/account/ssh-keys', {
        name: name.input.value.trim(),
        public_key: key.input.value.trim(),
      });
      name.input.value = '';
      key.input.value = '';
      await load();
      return `Key “${added.name}” added.`;
    },
  });

  load();
  return card(
    { id: 'ssh-keys-title', title: 'SSH keys' },
    h(
      'p',
      { class: 'muted' },
      'Public keys you can choose when ordering or reinstalling a Linux machine, to sign in ' +
        'without a password.',
    ),
    form,
    listError,
    tableWrap,
    none,
  );
}
