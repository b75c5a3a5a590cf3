// The reinstall dialog of a machine: choose the system (and, for Linux, SSH keys), read
// plainly that everything on the disk is erased, and type the machine's name to go ahead.

import { api } from './api.js';
import { confirmDialog } from './dialog.js';
import { h, show, uid } from './dom.js';
import { osName } from './format.js';

const SYSTEMS = ['windows', 'linux'];

/** Ask, then start the reinstall; resolves to `{ job }`, or null when cancelled. */
export async function reinstallDialog(instance) {
  let keys = [];
  try {
    ({ ssh_keys: keys } = await api.get('/api/account/ssh-keys'));
  } catch {
    keys = []; // the reinstall works without keys
  }
  const name = instance.name;
  const systemId = uid('reinstall-os');
  const system = h(
    'select',
    { id: systemId, name: 'os' },
    SYSTEMS.map((os) =>
      h('option', { value: os, selected: os === instance.os_type }, osName(os)),
    ),
  );
  const boxes = keys.map((key) => ({
    id: key.id,
    input: h('input', { type: 'checkbox', value: String(key.id), id: uid('reinstall-key') }),
    key,
  }));
  const keysField = h(
    'fieldset',
    { class: 'field' },
    h('legend', {}, 'SSH keys to install'),
    boxes.map(({ input, key }) =>
      h(
        'div',
        { class: 'checkbox' },
        input,
        h('label', { for: input.id }, `${key.name} `, h('code', {}, key.fingerprint)),
      ),
    ),
  );
  const syncKeys = () => show(keysField, system.value === 'linux' && boxes.length > 0);
  system.addEventListener('change', syncKeys);
  syncKeys();

  return confirmDialog({
    title: `Reinstall ${name}?`,
    body: [
      h(
        'p',
        { class: 'reinstall-warning' },
        h('strong', {}, `Everything on the disk of ${name} is erased`),
        ': files, programs and settings. It cannot be undone.',
      ),
      h(
        'p',
        {},
        'The machine gets a fresh system and new credentials; its current password stops ' +
          'working. Copy anything you need from it first.',
      ),
      h('div', { class: 'field' }, h('label', { for: systemId }, 'System'), system),
      keysField,
    ],
    confirmLabel: `Erase and reinstall ${name}`,
    danger: true,
    typeToConfirm: name,
    onConfirm: () => {
      const linux = system.value === 'linux';
      const chosen = linux ? boxes.filter(({ input }) => input.checked).map(({ id }) => id) : [];
      return api.post(`/api/instances/${instance.id}/reinstall`, {
        os: system.value,
        confirm: name,
        ssh_key_ids: chosen,
      });
    },
  });
}
