// Settings in four tabs — Profile, Billing, Preferences, Security — each at its own address
// (/app/settings/<tab>) so it can be linked to.

import { h } from '../lib/dom.js';
import { tabSet } from '../lib/tabs.js';
import { billingTab } from './settings/billing.js';
import { preferencesTab } from './settings/preferences.js';
import { profileTab } from './settings/profile.js';
import { securityTab } from './settings/security.js';

const TABS = [
  { id: 'profile', label: 'Profile', build: profileTab },
  { id: 'billing', label: 'Billing', build: billingTab },
  { id: 'preferences', label: 'Preferences', build: preferencesTab },
  { id: 'security', label: 'Security', build: securityTab },
];

export default {
  title: 'Settings',
  mount(main, ctx) {
    const tabs = tabSet({
      label: 'Settings sections',
      tabs: TABS.map((tab) => ({ ...tab, build: () => tab.build(ctx) })),
      selected: ctx.params.tab || 'profile',
      onSelect: (id) => {
        const path = id === 'profile' ? '/app/settings' : `/app/settings/${id}`;
        if (window.location.pathname !== path) window.history.replaceState(null, '', path);
      },
    });
    main.append(h('div', { class: 'page-header' }, h('h1', {}, 'Settings')), tabs.element);
  },
};
