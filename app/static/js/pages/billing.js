// PLACEHOLDER — Billing. The billing API (subscription, invoices, payment method, plan
// changes) is being built by another team; this page shell and its nav entry are ready for
// it. Fetch from /api/billing/* here, as the other pages do from /api.

import { h } from '../lib/dom.js';

export default {
  title: 'Billing',
  mount(main) {
    main.append(
      h('div', { class: 'page-header' }, h('h1', {}, 'Billing')),
      h(
        'section',
        {
          class: 'card placeholder',
          dataset: { placeholder: 'billing' },
          'aria-labelledby': 'billing-soon',
        },
        h('h2', { id: 'billing-soon' }, 'Coming soon'),
        h('p', {}, 'Your subscription, invoices and payment method will appear here.'),
      ),
    );
  },
};
