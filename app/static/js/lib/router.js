// A small History API router: app links navigate without a page load, Back and Forward work.

let renderCurrent = null;

const PUBLIC_PAGES = new Set(['/login', '/signup', '/reset-password', '/confirm-email']);

/** Paths the dashboard renders itself; everything else (help pages, files) is a normal link. */
export function isAppPath(pathname) {
  return pathname === '/app' || pathname.startsWith('/app/') || PUBLIC_PAGES.has(pathname);
}

/** The route whose path ('/app/instances/:id') matches, with its decoded params. */
export function matchRoute(routes, pathname) {
  for (const route of routes) {
    const names = [];
    const source = route.path.replace(/:(\w+)/g, (_, name) => {
      names.push(name);
      return '([^/]+)';
    });
    const found = new RegExp(`^${source}/?$`).exec(pathname);
    if (found) {
      const params = Object.fromEntries(
        names.map((name, index) => [name, decodeURIComponent(found[index + 1])]),
      );
      return { route, params };
    }
  }
  return null;
}

/** Go to a dashboard URL; `replace` swaps the history entry instead of adding one. */
export function navigate(url, { replace = false } = {}) {
  const target = new URL(url, window.location.href);
  if (replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  renderCurrent?.({ initial: false });
}

function onClick(event) {
  if (event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href);
  if (url.origin !== window.location.origin || !isAppPath(url.pathname)) return;
  if (url.hash && url.pathname === window.location.pathname) return; // in-page (skip link)
  event.preventDefault();
  navigate(url.href);
}

/** Start routing: render now, then on every app link and history move. */
export function startRouter(render) {
  renderCurrent = render;
  window.addEventListener('popstate', () => render({ initial: false }));
  document.addEventListener('click', onClick);
  render({ initial: true });
}
