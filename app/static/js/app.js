// The dashboard's entry point: routes, the signed-in check, page mounting and focus.
// Pages are modules with { title, public?, mount(main, ctx) }; everything they show comes
// from /api. The operator console's pages are a bundle of their own, fetched only when one
// of them opens (the shell of an /app/admin address preloads it).

import { api, onUnauthorized } from './lib/api.js';
import { announce, h } from './lib/dom.js';
import { appFrame, authFrame, markCurrentNav } from './lib/layout.js';
import { matchRoute, navigate, startRouter } from './lib/router.js';
import { clearUser, currentUser, knownUser } from './lib/session.js';
import billing from './pages/billing.js';
import confirmEmail from './pages/confirm-email.js';
import instanceConsole from './pages/instance-console.js';
import instanceDetail from './pages/instance-detail.js';
import instanceNew from './pages/instance-new.js';
import instances from './pages/instances.js';
import login from './pages/login.js';
import notFound from './pages/not-found.js';
import resetPassword from './pages/reset-password.js';
import settings from './pages/settings.js';
import signup from './pages/signup.js';
import staffTicket from './pages/staff-ticket.js';
import staffTickets from './pages/staff-tickets.js';
import supportTicket from './pages/support-ticket.js';
import support from './pages/support.js';

const ROUTES = [
  { path: '/login', page: login },
  { path: '/signup', page: signup },
  { path: '/reset-password', page: resetPassword },
  { path: '/confirm-email', page: confirmEmail },
  { path: '/app', redirect: '/app/instances' },
  { path: '/app/instances', page: instances },
  { path: '/app/instances/new', page: instanceNew },
  { path: '/app/instances/:id', page: instanceDetail },
  { path: '/app/instances/:id/console', page: instanceConsole },
  { path: '/app/settings', page: settings },
  { path: '/app/settings/:tab', page: settings },
  { path: '/app/billing', page: billing },
  { path: '/app/support', page: support },
  { path: '/app/support/tickets/:id', page: supportTicket },
  { path: '/app/staff', redirect: '/app/staff/tickets' },
  { path: '/app/staff/tickets', page: staffTickets },
  { path: '/app/staff/tickets/:id', page: staffTicket },
];

/** The routes that may match `pathname`: the operator console's only under /app/admin. */
async function routesFor(pathname) {
  if (pathname !== '/app/admin' && !pathname.startsWith('/app/admin/')) return ROUTES;
  const { ADMIN_ROUTES } = await import('./pages/admin/routes.js');
  return [...ROUTES, ...ADMIN_ROUTES];
}

let disposers = [];
let renderCount = 0;

function dispose() {
  // A dialog left open belongs to the page being left (Back pressed while it was open).
  for (const dialog of document.querySelectorAll('dialog[open]')) dialog.close();
  for (const fn of disposers.splice(0)) {
    try {
      fn();
    } catch {
      // A page's cleanup must never stop the next page from rendering.
    }
  }
}

function setTitle(title) {
  document.title = title ? `${title} · NemoRDP` : 'NemoRDP';
}

function focusHeading(main) {
  const heading = main.querySelector('h1');
  const target = heading || main;
  if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
  target.focus({ preventScroll: false });
}

/** Where an app page may send someone after they log in: only our own /app pages. */
function nextPath() {
  const next = new URLSearchParams(window.location.search).get('next');
  return next && next.startsWith('/app') && !next.startsWith('//') ? next : '/app/instances';
}

async function logout(button) {
  button.disabled = true;
  try {
    await api.post('/api/auth/logout', undefined, { expectUnauthorized: true });
  } catch {
    // Already signed out, or the server is away: either way, leave the dashboard.
  }
  clearUser();
  navigate('/login?logged_out=1');
}

/** The server could not be reached: say so, with a link to try the same page again. */
function unavailable(error, here) {
  authFrame().append(
    h('h1', {}, 'NemoRDP is unavailable'),
    h('p', { class: 'alert alert-error', role: 'alert' }, error.display || String(error)),
    h('p', {}, h('a', { href: here }, 'Try again')),
  );
}

async function render({ initial }) {
  const token = ++renderCount;
  dispose();
  const { pathname, search } = window.location;
  let routes;
  try {
    routes = await routesFor(pathname);
  } catch (error) {
    if (token === renderCount) unavailable(error, pathname + search);
    return;
  }
  if (token !== renderCount) return;
  const found = matchRoute(routes, pathname);
  if (found?.route.redirect) {
    navigate(found.route.redirect, { replace: true });
    return;
  }
  const page = found ? found.route.page : notFound;
  const isPublic = Boolean(page.public);

  let user = knownUser();
  if (!isPublic) {
    try {
      user = await currentUser();
    } catch (error) {
      if (token === renderCount) unavailable(error, pathname + search);
      return;
    }
    if (token !== renderCount) return;
    if (!user) {
      navigate(`/login?next=${encodeURIComponent(pathname + search)}`, { replace: true });
      return;
    }
  } else if (user && page.guestOnly) {
    navigate(nextPath(), { replace: true });
    return;
  }

  const main = isPublic ? authFrame() : appFrame(user, { onLogout: logout });
  markCurrentNav(pathname);
  setTitle(page.title);
  const ctx = {
    params: found ? found.params : {},
    query: new URLSearchParams(search),
    user,
    nextPath,
    setTitle,
    onDispose: (fn) => disposers.push(fn),
    isCurrent: () => token === renderCount,
  };
  try {
    await page.mount(main, ctx);
  } catch (error) {
    if (token !== renderCount) return;
    main.replaceChildren(
      h('h1', {}, 'This page could not be shown'),
      h(
        'div',
        { class: 'alert alert-error', role: 'alert' },
        h('p', {}, error.display || 'Something went wrong in the page; reload it and try again.'),
      ),
    );
  }
  if (token !== renderCount) return;
  // Moving focus to the new heading tells keyboard and screen-reader users the page changed.
  if (!initial) focusHeading(main);
}

onUnauthorized(() => {
  const { pathname, search } = window.location;
  if (matchRoute(ROUTES, pathname)?.route.page?.public) return;
  clearUser();
  announce('Your session has ended; log in again.');
  navigate(`/login?expired=1&next=${encodeURIComponent(pathname + search)}`, { replace: true });
});

startRouter(render);
