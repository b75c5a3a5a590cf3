// Settings, Preferences: e-mail notifications, idle shutdown and the default operating
// system, saved together with PUT /api/account/preferences.

import { api } from '../../lib/api.js';
import { card, h, uid } from '../../lib/dom.js';
import { field, submitForm } from '../../lib/forms.js';
import { osName } from '../../lib/format.js';
import { knownUser, setUser } from '../../lib/session.js';

const IDLE_MIN = 30;
const IDLE_MAX = 1440;

/** An on/off switch: a checkbox with the switch role, its label and a hint. */
function switchControl({ name, label, hint, checked }) {
  const id = uid(name);
  const input = h('input', {
    type: 'checkbox',
    role: 'switch',
    class: 'switch',
    id,
    name,
    checked,
    'aria-describedby': `${id}-hint`,
  });
  const element = h(
    'div',
    { class: 'switch-row' },
    h('div', {}, h('label', { for: id }, label), h('p', { class: 'hint', id: `${id}-hint` }, hint)),
    input,
  );
  return { element, input };
}

export function preferencesTab() {
  const preferences = knownUser().preferences;
  const notifications = switchControl({
    name: 'email_notifications',
    label: 'E-mail notifications',
    hint: 'E-mails about your machines and answers to your support tickets.',
    checked: preferences.email_notifications,
  });
  const autoShutdown = switchControl({
    name: 'auto_shutdown',
    label: 'Shut down idle machines',
    hint: 'Stop a machine nobody has been connected to for the time below.',
    checked: preferences.auto_shutdown,
  });
  const idle = field({
    label: 'Idle time before shutdown (minutes)',
    type: 'number',
    name: 'idle_minutes',
    min: String(IDLE_MIN),
    max: String(IDLE_MAX),
    step: '1',
    inputmode: 'numeric',
    hint: `From ${IDLE_MIN} minutes to ${IDLE_MAX} (a day).`,
  });
  idle.input.value = String(preferences.idle_minutes);
  const syncIdle = () => {
    idle.input.disabled = !autoShutdown.input.checked;
  };
  autoShutdown.input.addEventListener('change', syncIdle);
  syncIdle();
  const defaultOs = field({
    label: 'Default operating system for new machines',
    tag: 'select',
    name: 'default_os',
  });
  defaultOs.input.append(
    ...['windows', 'linux'].map((os) => h('option', { value: os }, osName(os))),
  );
  defaultOs.input.value = preferences.default_os;

  const { form } = submitForm({
    children: [notifications.element, autoShutdown.element, idle.element, defaultOs.element],
    label: 'Save preferences',
    busyLabel: 'Saving…',
    fields: { idle_minutes: idle, default_os: defaultOs },
    validate: () => {
      const minutes = Number(idle.input.value);
      if (Number.isInteger(minutes) && minutes >= IDLE_MIN && minutes <= IDLE_MAX) return true;
      idle.setError(`Enter a whole number of minutes from ${IDLE_MIN} to ${IDLE_MAX}.`);
      idle.input.disabled = false;
      idle.input.focus();
      return false;
    },
    send: async () => {
      const stored = await api.put('/api/account/preferences', {
        email_notifications: notifications.input.checked,
        auto_shutdown: autoShutdown.input.checked,
        idle_minutes: Number(idle.input.value),
        default_os: defaultOs.input.value,
      });
      setUser({ ...knownUser(), preferences: stored });
      return 'Preferences saved.';
    },
  });
  return card(
    { id: 'preferences-title', title: 'Preferences', className: 'narrow-card' },
    form,
  );
}
