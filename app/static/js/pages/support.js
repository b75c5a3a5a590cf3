// PLACEHOLDER — Support. The support API (FAQ, tickets, contact details) is being built by
// another team; this page shell and its nav entry are ready for it. Fetch from
// /api/support/* here, as the other pages do from /api.

import { h } from '../lib/dom.js';

export default {
  title: 'Support',
  mount(main) {
    main.append(
      h('div', { class: 'page-header' }, h('h1', {}, 'Support')),
      h(
        'section',
        {
          class: 'card placeholder',
          dataset: { placeholder: 'support' },
          'aria-labelledby': 'support-soon',
        },
        h('h2', { id: 'support-soon' }, 'Coming soon'),
        h('p', {}, 'Answers to common questions and support tickets will appear here.'),
      ),
    );
  },
};
