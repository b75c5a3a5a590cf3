// Settings, Security: API tokens. Creating one shows its secret once (with a copy button);
// the list shows names and first characters; revoking asks first.

import { api, fieldMessages } from '../../lib/api.js';
import { copyableValue } from '../../lib/clipboard.js';
import { confirmDialog } from '../../lib/dialog.js';
import { announce, card, h, show } from '../../lib/dom.js';
import { timeElement } from '../../lib/format.js';
import { alertBox, field, showMessage, whileBusy } from '../../lib/forms.js';

/** Returns { element, reload } (a password change voids earlier tokens). */
export function tokensCard(ctx) {
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
  const element = card(
    { id: 'tokens-title', title: 'API tokens' },
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
  return { element, reload: load };
}
