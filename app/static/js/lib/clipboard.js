// Copy buttons: the Clipboard API where the page may use it, a selection copy otherwise.

import { announce, h } from './dom.js';

async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Denied: fall through to the selection copy.
    }
  }
  const area = h(
    'textarea',
    { class: 'visually-hidden', readonly: true, 'aria-hidden': 'true', tabindex: '-1' },
  );
  area.value = text;
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

/** A button that copies `getText()`; its accessible name is `label` (e.g. "Copy password"). */
export function copyButton(label, getText) {
  const text = h('span', {}, 'Copy');
  const button = h(
    'button',
    { type: 'button', class: 'button button-secondary button-small', 'aria-label': label },
    text,
  );
  let timer = null;
  button.addEventListener('click', async () => {
    const copied = await copyText(getText());
    text.textContent = copied ? 'Copied' : 'Copy failed';
    const what = label.replace(/^Copy /, '');
    announce(
      copied
        ? `${what} copied to the clipboard.`
        : 'Copy failed: select the text and copy it yourself.',
    );
    window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      text.textContent = 'Copy';
    }, 2500);
  });
  return button;
}

/** A read-only value with a label and a copy button: credentials, token secrets. */
export function copyableValue({ label, value, id }) {
  const input = h(
    'input',
    { id, type: 'text', readonly: true, class: 'mono', spellcheck: 'false', autocomplete: 'off' },
  );
  input.value = value;
  input.addEventListener('focus', () => input.select());
  return h(
    'div',
    { class: 'field copyable' },
    h('label', { for: id }, label),
    h(
      'div',
      { class: 'copyable-row' },
      input,
      copyButton(`Copy ${label.toLowerCase()}`, () => input.value),
    ),
  );
}
