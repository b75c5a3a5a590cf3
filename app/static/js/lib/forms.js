// Labelled form fields and alert boxes, wired for assistive technology.

import { ApiError, fieldMessages } from './api.js';
import { h, setText, show, uid } from './dom.js';

/**
 * A labelled input with an optional hint and an error line, both tied to it with
 * aria-describedby. Returns { element, input, setError }.
 */
export function field({ label, hint, id = uid('field'), tag = 'input', ...attrs }) {
  const input = h(tag, { id, ...attrs });
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const errorEl = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const describe = () => {
    const ids = [hintEl?.id, errorEl.hidden ? null : errorEl.id].filter(Boolean);
    if (ids.length) input.setAttribute('aria-describedby', ids.join(' '));
    else input.removeAttribute('aria-describedby');
  };
  describe();
  const setError = (message) => {
    setText(errorEl, message || '');
    show(errorEl, Boolean(message));
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
    describe();
  };
  const element = h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    hintEl,
    input,
    errorEl,
  );
  return { element, input, setError };
}

/**
 * Show an API answer's per-field messages under their fields ({name: field}), clearing the
 * others; returns the first field with a message, to focus.
 */
export function showFieldErrors(error, fields) {
  const messages = fieldMessages(error);
  let first = null;
  for (const [name, item] of Object.entries(fields)) {
    item.setError(messages[name]);
    if (messages[name] && !first) first = item;
  }
  return first;
}

/** An alert box, hidden until it has something to say. kind: error | success | info. */
export function alertBox(kind = 'error') {
  const role = kind === 'error' ? 'alert' : 'status';
  return h('div', { class: `alert alert-${kind}`, role, hidden: true });
}

/** Show a message (text, a node, or an ApiError's message) in an alert box; null hides it. */
export function showMessage(box, messageOrError) {
  if (!messageOrError) {
    show(box, false);
    box.replaceChildren();
    return;
  }
  if (messageOrError instanceof Node) {
    box.replaceChildren(messageOrError);
    show(box, true);
    return;
  }
  const text =
    messageOrError instanceof ApiError
      ? messageOrError.display
      : messageOrError instanceof Error
        ? 'Something went wrong in the page; reload it and try again.'
        : String(messageOrError);
  box.replaceChildren(h('p', {}, text));
  show(box, true);
}

/** Disable a submit button while a request runs, with a busy label. */
export async function whileBusy(button, busyLabel, work) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute('aria-busy', 'true');
  button.textContent = busyLabel;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute('aria-busy');
    button.textContent = label;
  }
}

/**
 * A form: `children`, an error box, a success box and a submit button. On submit the boxes
 * are cleared, `validate()` may stop it (returning false), then `send()` runs while the
 * button is busy. A message `send` resolves to is shown as success (and focused with
 * `focusDone`, when the form was emptied); an error it throws is
 * shown, and marked on `fields` ({name: field}) when the API names them, focusing the first;
 * `onError(error, markedField)` may add to that. Returns { form, submit }.
 */
export function submitForm({
  children,
  label,
  busyLabel,
  fields = {},
  block = false,
  focusDone = false,
  validate = () => true,
  send,
  onError = null,
}) {
  const errors = alertBox('error');
  const done = alertBox('success');
  done.setAttribute('tabindex', '-1');
  const submit = h(
    'button',
    { type: 'submit', class: `button button-primary${block ? ' button-block' : ''}` },
    label,
  );
  const form = h(
    'form',
    { class: 'stack', novalidate: true },
    children,
    errors,
    done,
    block ? submit : h('div', {}, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    showMessage(errors, null);
    showMessage(done, null);
    for (const item of Object.values(fields)) item.setError(null);
    if (!validate()) return;
    await whileBusy(submit, busyLabel, async () => {
      try {
        const message = await send();
        showMessage(done, message);
        if (message && focusDone) done.focus();
      } catch (error) {
        showMessage(errors, error);
        const marked = showFieldErrors(error, fields);
        marked?.input.focus();
        onError?.(error, marked);
      }
    });
  });
  return { form, submit };
}

/** Mark and focus the first of the [field, message] pairs left blank; true if none is. */
export function requireFilled(pairs) {
  const blank = pairs.find(([item]) => !item.input.value.trim());
  if (!blank) return true;
  blank[0].setError(blank[1]);
  blank[0].input.focus();
  return false;
}
