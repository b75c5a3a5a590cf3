// Labelled form fields and alert boxes, wired for assistive technology.

import { ApiError } from './api.js';
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

/** An alert box, hidden until it has something to say. kind: error | success | info. */
export function alertBox(kind = 'error') {
  const role = kind === 'error' ? 'alert' : 'status';
  return h('div', { class: `alert alert-${kind}`, role, hidden: true });
}

/** Show a message (or an ApiError's message) in an alert box; null hides it. */
export function showMessage(box, messageOrError) {
  if (!messageOrError) {
    show(box, false);
    box.replaceChildren();
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
