// What the staff pages share: the page shown to everyone else.

import { h } from './dom.js';

/** The page a customer sees at a staff address (or when the API answers 403). */
export function notAllowed(main, ctx) {
  ctx.setTitle('Not allowed');
  main.append(
    h('h1', {}, 'Not allowed'),
    h(
      'div',
      { class: 'alert alert-warning', role: 'status' },
      h('p', {}, 'This page is for NemoRDP support staff; your account cannot open it.'),
    ),
    h('p', {}, 'Need help? ', h('a', { href: '/app/support' }, 'Go to Support'), '.'),
  );
}
