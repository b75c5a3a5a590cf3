// Paged lists loaded from the API ({items, total, page, per_page}): previous and next
// buttons, and the sentence that counts what there is.

import { h, show } from './dom.js';

/**
 * Previous and next buttons; `onPage(page)` loads the page asked for. Returns { element,
 * update(page, pages) }, to call after each load.
 */
export function pager({ label, previous = 'Previous page', next = 'Next page', onPage }) {
  let current = 1;
  const button = (text) =>
    h('button', { type: 'button', class: 'button button-secondary button-small' }, text);
  const back = button(previous);
  const forward = button(next);
  back.addEventListener('click', () => onPage(current - 1));
  forward.addEventListener('click', () => onPage(current + 1));
  const element = h('nav', { class: 'pager', 'aria-label': label, hidden: true }, back, forward);
  const update = (page, pages) => {
    current = page;
    show(element, pages > 1);
    back.disabled = page <= 1;
    forward.disabled = page >= pages;
  };
  return { element, update };
}

/** How many pages a list answer spans (at least one). */
export function pageCount(data) {
  return Math.max(1, Math.ceil(data.total / data.per_page));
}

/** "3 tickets." or "31 tickets, page 2 of 4."; `none` when there are none. */
export function countSentence(data, noun, none) {
  if (data.total === 0) return none;
  const pages = pageCount(data);
  return (
    `${data.total} ${noun}${data.total === 1 ? '' : 's'}` +
    (pages > 1 ? `, page ${data.page} of ${pages}.` : '.')
  );
}
