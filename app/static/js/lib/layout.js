// The two page frames: the signed-in app (header, navigation, main) and the centred card
// of the log-in and sign-up pages. Frames persist across navigations; only <main> changes.

import { h, setText, show } from './dom.js';
import { isStaff } from './session.js';
import { logoUrl } from './site.js';

export const NAV = [
  { href: '/app/instances', label: 'Instances' },
  { href: '/app/billing', label: 'Billing' },
  { href: '/app/support', label: 'Support' },
  { href: '/app/settings', label: 'Settings' },
  { href: '/app/staff/tickets', label: 'Staff', staffOnly: true },
  { href: '/app/admin', label: 'Console', staffOnly: true },
];

let frame = null; // { kind, main, ... }

function brand(href) {
  return h(
    'a',
    { class: 'brand', href },
    h('img', { src: logoUrl(), alt: '', width: '28', height: '28' }),
    h('span', {}, 'NemoRDP'),
  );
}

/** The signed-in frame; returns its fresh, empty <main>. */
export function appFrame(user, { onLogout }) {
  const root = document.getElementById('app');
  if (frame?.kind !== 'app') {
    const navId = 'primary-nav';
    const toggle = h(
      'button',
      {
        type: 'button',
        class: 'menu-toggle button button-secondary button-small',
        'aria-expanded': 'false',
        'aria-controls': navId,
      },
      'Menu',
    );
    const links = NAV.map((item) => h('a', { href: item.href, class: 'nav-link' }, item.label));
    const items = links.map((link) => h('li', {}, link));
    const who = h('span', { class: 'account-name' });
    const logout = h(
      'button',
      { type: 'button', class: 'button button-secondary button-small' },
      'Log out',
    );
    const nav = h(
      'nav',
      { id: navId, class: 'primary-nav', 'aria-label': 'Main' },
      h('ul', { class: 'nav-list' }, items),
      h('div', { class: 'account' }, who, logout),
    );
    const header = h(
      'header',
      { class: 'topbar' },
      h('div', { class: 'topbar-inner' }, brand('/app/instances'), toggle, nav),
    );
    toggle.addEventListener('click', () => {
      const open = toggle.getAttribute('aria-expanded') !== 'true';
      toggle.setAttribute('aria-expanded', String(open));
      nav.classList.toggle('is-open', open);
    });
    logout.addEventListener('click', () => onLogout(logout));
    const main = h('main', { id: 'main', class: 'page', tabindex: '-1' });
    root.replaceChildren(header, main);
    frame = { kind: 'app', main, links, items, who, toggle, nav };
  }
  NAV.forEach((item, index) => {
    if (item.staffOnly) show(frame.items[index], isStaff(user));
  });
  setText(frame.who, user.full_name || user.email);
  frame.who.title = user.email;
  // Close the phone menu after each navigation.
  frame.toggle.setAttribute('aria-expanded', 'false');
  frame.nav.classList.remove('is-open');
  const fresh = h('main', { id: 'main', class: 'page', tabindex: '-1' });
  frame.main.replaceWith(fresh);
  frame.main = fresh;
  return fresh;
}

/** Mark the nav entry of the current section with aria-current. */
export function markCurrentNav(pathname) {
  if (frame?.kind !== 'app') return;
  for (const link of frame.links) {
    const href = link.getAttribute('href');
    if (pathname === href || pathname.startsWith(`${href}/`)) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }
}

/** The log-in / sign-up frame; returns its <main>. */
export function authFrame() {
  const root = document.getElementById('app');
  const main = h('main', { id: 'main', class: 'auth-card', tabindex: '-1' });
  root.replaceChildren(h(
    'div',
    { class: 'auth-layout' },
    h('p', { class: 'brand-row' }, brand('/login')),
    main,
  ));
  frame = { kind: 'auth', main };
  return main;
}

/** The "← back" link above a page's heading. */
export function breadcrumb(href, label) {
  return h(
    'p',
    { class: 'breadcrumb' },
    h('a', { href }, h('span', { 'aria-hidden': 'true' }, '← '), label),
  );
}

/** Say in `main` that the thing at this address (`what`: "Machine") is not there. */
export function showMissing(main, ctx, what, explanation) {
  ctx.setTitle(`${what} not found`);
  main.append(h('h1', {}, `${what} not found`), h('p', {}, explanation));
}
