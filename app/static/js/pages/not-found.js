// A dashboard address that matches no page.

import { h } from '../lib/dom.js';

export default {
  title: 'Page not found',
  mount(main) {
    main.append(
      h('h1', {}, 'Page not found'),
      h('p', {}, 'There is no dashboard page at this address.'),
      h('p', {}, h('a', { href: '/app/instances' }, 'Go to your instances')),
    );
  },
};
