// Modal confirmation with the native <dialog>: it traps focus, closes on Escape and puts
// the rest of the page out of reach. Focus goes back to where it was on close.

import { h, uid } from './dom.js';
import { alertBox, field, showFieldErrors, showMessage } from './forms.js';

/**
 * Ask for confirmation, optionally making the person type a word (a machine's name) and
 * fill in `inputs` ([{ name, label, ...input attributes }], e.g. a password).
 * `onConfirm(values)` runs while the dialog stays open with the inputs' values by name; an
 * error it throws is shown inside (and by the inputs it names) and the dialog stays; success
 * closes it. Resolves to onConfirm's result, or null when cancelled.
 */
export function confirmDialog({
  title,
  body,
  confirmLabel,
  danger = false,
  typeToConfirm = null,
  inputs = [],
  onConfirm,
}) {
  return new Promise((resolve) => {
    const returnFocus = document.activeElement;
    const titleId = uid('dialog-title');
    const bodyId = uid('dialog-body');
    const errors = alertBox('error');
    const confirm = h(
      'button',
      { type: 'submit', class: `button ${danger ? 'button-danger' : 'button-primary'}` },
      confirmLabel,
    );
    const cancel = h('button', { type: 'button', class: 'button button-secondary' }, 'Cancel');
    let typed = null;
    if (typeToConfirm) {
      typed = field({
        label: `Type ${typeToConfirm} to confirm`,
        type: 'text',
        autocomplete: 'off',
        autocapitalize: 'off',
        spellcheck: 'false',
        required: true,
      });
      confirm.disabled = true;
      typed.input.addEventListener('input', () => {
        confirm.disabled = typed.input.value.trim() !== typeToConfirm;
      });
    }
    const extra = inputs.map(({ name, ...attrs }) => ({ name, ...field({ name, ...attrs }) }));
    const values = () => Object.fromEntries(extra.map(({ name, input }) => [name, input.value]));
    const form = h(
      'form',
      { class: 'dialog-form', novalidate: true },
      h('h2', { id: titleId }, title),
      h('div', { id: bodyId, class: 'dialog-body' }, body),
      extra.map((item) => item.element),
      typed?.element,
      errors,
      h('div', { class: 'dialog-actions' }, cancel, confirm),
    );
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': bodyId },
      form,
    );
    let result = null;
    let busy = false;

    const close = () => dialog.close();
    cancel.addEventListener('click', close);
    dialog.addEventListener('cancel', (event) => {
      if (busy) event.preventDefault();
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (returnFocus instanceof HTMLElement && returnFocus.isConnected) returnFocus.focus();
      resolve(result);
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (typed && typed.input.value.trim() !== typeToConfirm) {
        typed.setError(`Type ${typeToConfirm} exactly, or choose Cancel.`);
        typed.input.focus();
        return;
      }
      const empty = extra.find((item) => item.input.required && !item.input.value.trim());
      if (empty) {
        empty.setError('Fill this in.');
        empty.input.focus();
        return;
      }
      busy = true;
      confirm.disabled = true;
      cancel.disabled = true;
      confirm.setAttribute('aria-busy', 'true');
      showMessage(errors, null);
      for (const item of extra) item.setError(null);
      try {
        result = (await onConfirm(values())) ?? true;
        close();
      } catch (error) {
        showFieldErrors(error, Object.fromEntries(extra.map((item) => [item.name, item])));
        showMessage(errors, error);
        confirm.disabled = false;
        cancel.disabled = false;
      } finally {
        busy = false;
        confirm.removeAttribute('aria-busy');
      }
    });

    document.body.append(dialog);
    dialog.showModal();
    (extra[0]?.input || typed?.input || cancel).focus();
  });
}
