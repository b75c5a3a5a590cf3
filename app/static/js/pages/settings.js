// Settings: the profile (full name) and API tokens (create shows the secret once, list,
// revoke).

import { api, fieldMessages } from '../lib/api.js';
import { copyableValue } from '../lib/clipboard.js';
import { confirmDialog } from '../lib/dialog.js';
import { announce, h, setText, show } from '../lib/dom.js';
import { alertBox, field, showMessage, whileBusy } from '../lib/forms.js';
import { timeElement } from '../lib/format.js';
import { setUser } from '../lib/session.js';

function profileSection(user) {
  const saved = alertBox('success');
  const errors = alertBox('error');
  const fullName = field({
    label: 'Full name',
    type: 'text',
    name: 'full_name',
    autocomplete: 'name',
    maxlength: '100',
    hint: 'How we address you in the dashboard.',
  });
  fullName.input.value = user.full_name || '';
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Save profile');
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    h(
      'div',
      { class: 'field' },
      h('span', { class: 'label', id: 'email-label' }, 'E-mail'),
      h('p', { class: 'value', 'aria-labelledby': 'email-label' }, user.email),
    ),
    fullName.element,
    errors,
    saved,
    h('div', {}, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showMessage(saved, null);
    showMessage(errors, null);
    fullName.setError(null);
    await whileBusy(submit, 'Saving…', async () => {
      try {
        const updated = await api.put(
          '/api/auth/profile',
          { full_name: fullName.input.value.trim() },
        );
        setUser(updated);
        const who = document.querySelector('.account-name');
        if (who) setText(who, updated.full_name || updated.email);
        showMessage(saved, 'Profile saved.');
      } catch (error) {
        fullName.setError(fieldMessages(error).full_name);
        showMessage(errors, error);
      }
    });
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'profile-title' },
    h('h2', { id: 'profile-title' }, 'Profile'),
    form,
  );
}

function tokensSection(ctx) {
  const errors = alertBox('error');
  const listError = alertBox('error');
  const name = field({
    label: 'Token name',
    type: 'text',
    name: 'name',
    maxlength: '100',
    autocomplete: 'off',
    hint: 'What will use it, e.g. “deploy script”.',
  });
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Create token');
  const form = h(
    'form',
    { class: 'inline-form', novalidate: true },
    name.element,
    h('div', { class: 'inline-form-action' }, submit),
  );
  const created = h(
    'div',
    { class: 'alert alert-success token-created', role: 'status', hidden: true },
  );
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'table tokens-table' },
    h('caption', { class: 'visually-hidden' }, 'Your API tokens'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ['Name', 'Starts with', 'Created', 'Last used', 'Actions'].map((title) => h(
          'th',
          { scope: 'col' },
          title,
        )),
      ),
    ),
    tbody,
  );
  const tableWrap = h('div', { class: 'table-wrap' }, table);
  const none = h('p', { class: 'muted', hidden: true }, 'You have no API tokens.');

  const renderTokens = (tokens) => {
    tbody.replaceChildren(
      ...tokens.map((token) => {
        const revoke = h(
          'button',
          {
            type: 'button',
            class: 'button button-danger button-small',
            'aria-label': `Revoke token ${token.name}`,
          },
          'Revoke',
        );
        revoke.addEventListener('click', async () => {
          const done = await confirmDialog({
            title: `Revoke “${token.name}”?`,
            body: h(
              'p',
              {},
              'Programs using this token stop working at once. This cannot be undone.',
            ),
            confirmLabel: 'Revoke token',
            danger: true,
            onConfirm: () => api.delete(`/api/auth/tokens/${token.id}`),
          });
          if (done) {
            announce(`Token ${token.name} revoked.`);
            await load();
            (tbody.querySelector('button') || name.input).focus();
          }
        });
        return h(
          'tr',
          {},
          h('th', { scope: 'row', dataset: { label: 'Name' } }, token.name),
          h('td', { dataset: { label: 'Starts with' } }, h('code', {}, `${token.prefix}…`)),
          h('td', { dataset: { label: 'Created' } }, timeElement(token.created_at)),
          h(
            'td',
            { dataset: { label: 'Last used' } },
            token.last_used_at ? timeElement(token.last_used_at) : 'Never',
          ),
          h('td', { dataset: { label: 'Actions' } }, revoke),
        );
      }),
    );
    show(tableWrap, tokens.length > 0);
    show(none, tokens.length === 0);
  };

  const load = async () => {
    try {
      const { tokens } = await api.get('/api/auth/tokens');
      if (!ctx.isCurrent()) return;
      showMessage(listError, null);
      renderTokens(tokens);
    } catch (error) {
      if (ctx.isCurrent()) showMessage(listError, error);
    }
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showMessage(errors, null);
    name.setError(null);
    if (!name.input.value.trim()) {
      name.setError('Give the token a name.');
      name.input.focus();
      return;
    }
    await whileBusy(submit, 'Creating…', async () => {
      try {
        const token = await api.post('/api/auth/tokens', { name: name.input.value.trim() });
        name.input.value = '';
        const done = h(
          'button',
          { type: 'button', class: 'button button-secondary button-small' },
          'I have copied it',
        );
        created.replaceChildren(
          h('h3', { id: 'token-created-title', tabindex: '-1' }, `Token “${token.name}” created`),
          h(
            'p',
            {},
            'Copy it now: this is the only time it is shown. ' +
              'Send it as “Authorization: Bearer <token>”.',
          ),
          copyableValue({ label: 'Token', value: token.token, id: 'new-token' }),
          done,
        );
        done.addEventListener('click', () => {
          created.replaceChildren();
          show(created, false);
          name.input.focus();
        });
        show(created, true);
        created.querySelector('h3').focus();
        await load();
      } catch (error) {
        name.setError(fieldMessages(error).name);
        showMessage(errors, error);
      }
    });
  });

  load();
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'tokens-title' },
    h('h2', { id: 'tokens-title' }, 'API tokens'),
    h(
      'p',
      { class: 'muted' },
      'Tokens let your programs use the NemoRDP API as you. ' +
        'Only their first characters are kept visible.',
    ),
    form,
    errors,
    created,
    listError,
    tableWrap,
    none,
  );
}

export default {
  title: 'Settings',
  mount(main, ctx) {
    main.append(
      h('div', { class: 'page-header' }, h('h1', {}, 'Settings')),
      h('div', { class: 'settings-grid' }, profileSection(ctx.user), tokensSection(ctx)),
    );
  },
};
