// DOM helpers. Everything is built with createElement and text nodes, never parsed HTML, so
// data from the API is always shown as text; nothing sets inline styles from markup.

let nextId = 0;

/** A unique id for wiring labels, hints and errors to their controls. */
export function uid(prefix = 'id') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/**
 * Build an element: h('a', { href: '/app', class: 'link' }, 'text', childNode).
 * `on<event>` attributes given functions become listeners; `true` makes a bare attribute;
 * `false`, null and undefined leave the attribute out.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      element.className = value;
    } else if (key === 'dataset') {
      Object.assign(element.dataset, value);
    } else {
      element.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(element, children);
  return element;
}

/** Append children (nodes, strings, numbers, nested arrays; null and false are skipped). */
export function append(parent, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
  return parent;
}

/** Replace an element's children. */
export function replaceChildren(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

/** Set text only when it changed, so polling does not disturb screen readers or selection. */
export function setText(element, text) {
  const value = text === null || text === undefined ? '' : String(text);
  if (element.textContent !== value) element.textContent = value;
}

/** Show or hide an element with the `hidden` attribute. */
export function show(element, visible) {
  if (element.hidden === visible) element.hidden = !visible;
}

/** Say something to screen-reader users through the page's polite live region. */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A fresh text node after a tick makes screen readers read a repeated message again.
  window.setTimeout(() => {
    region.textContent = message;
  }, 30);
}

/** A titled card: a <section class="card"> named by its own <h2 id>. */
export function card({ id, title, className = '' }, ...children) {
  return h(
    'section',
    { class: `card ${className}`.trim(), 'aria-labelledby': id },
    h('h2', { id }, title),
    children,
  );
}
