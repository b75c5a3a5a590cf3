// Tabs in the WAI-ARIA pattern: one tab stop for the tab list, arrow keys, Home and End move
// between tabs and show them; each panel is built the first time it is shown.

import { h } from './dom.js';

/**
 * tabs: [{ id, label, build: () => Node }]. `onSelect(id)` runs whenever a tab is shown
 * (to keep the address in step). Returns { element, select(id, { focus }) }.
 */
export function tabSet({ label, tabs, selected, onSelect }) {
  const buttons = new Map();
  const panels = new Map();
  const list = h('div', { class: 'tab-list', role: 'tablist', 'aria-label': label });
  const container = h('div', { class: 'tab-panels' });

  for (const tab of tabs) {
    const button = h(
      'button',
      {
        type: 'button',
        role: 'tab',
        class: 'tab',
        id: `tab-${tab.id}`,
        'aria-controls': `panel-${tab.id}`,
        'aria-selected': 'false',
        tabindex: '-1',
      },
      tab.label,
    );
    button.addEventListener('click', () => select(tab.id));
    buttons.set(tab.id, button);
    list.append(button);
    const panel = h('section', {
      role: 'tabpanel',
      class: 'tab-panel',
      id: `panel-${tab.id}`,
      'aria-labelledby': `tab-${tab.id}`,
      hidden: true,
    });
    panels.set(tab.id, panel);
    container.append(panel);
  }

  list.addEventListener('keydown', (event) => {
    const ids = tabs.map((tab) => tab.id);
    const current = ids.indexOf(document.activeElement?.id?.replace(/^tab-/, ''));
    if (current < 0) return;
    const moves = {
      ArrowRight: (current + 1) % ids.length,
      ArrowLeft: (current - 1 + ids.length) % ids.length,
      Home: 0,
      End: ids.length - 1,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    select(ids[moves[event.key]], { focus: true });
  });

  function select(id, { focus = false } = {}) {
    const tab = tabs.find((candidate) => candidate.id === id) || tabs[0];
    for (const [tabId, button] of buttons) {
      const chosen = tabId === tab.id;
      button.setAttribute('aria-selected', String(chosen));
      button.tabIndex = chosen ? 0 : -1;
      panels.get(tabId).hidden = !chosen;
    }
    const panel = panels.get(tab.id);
    if (!panel.hasChildNodes()) panel.append(tab.build());
    if (focus) buttons.get(tab.id).focus();
    onSelect?.(tab.id);
  }

  select(selected);
  return { element: h('div', { class: 'tabs' }, list, container), select };
}
