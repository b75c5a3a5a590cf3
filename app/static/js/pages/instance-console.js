// A machine's desktop in the page: a canvas fed by the console gateway over a WebSocket.
// The page asks the API for a single-use ticket and hands it to the gateway as its first
// message; the machine's credentials never reach the browser. Regions arrive as binary
// messages (x, y, width, height as big-endian 16-bit numbers, then a PNG), keys and the
// mouse go back as small JSON texts.

import { api } from '../lib/api.js';
import { h, setText } from '../lib/dom.js';
import { breadcrumb, showMissing } from '../lib/layout.js';

const HEADER_BYTES = 8;
const RELEASE_MS = 600;

/** The gateway's WebSocket address: `url` as the API gave it, absolute or a path here. */
function socketAddress(url) {
  if (/^wss?:\/\//.test(url)) return url;
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}${url}`;
}

/** Draws each region in arrival order (decoding is asynchronous, drawing must not be). */
function regionPainter(canvas) {
  const context = canvas.getContext('2d');
  let queue = Promise.resolve();
  return (buffer) => {
    const view = new DataView(buffer);
    const x = view.getUint16(0);
    const y = view.getUint16(2);
    const image = new Blob([buffer.slice(HEADER_BYTES)], { type: 'image/png' });
    const decoded = createImageBitmap(image);
    queue = queue.then(async () => {
      const bitmap = await decoded;
      context.drawImage(bitmap, x, y);
      bitmap.close();
      canvas.dataset.regions = String(Number(canvas.dataset.regions || 0) + 1);
    });
  };
}

/** Keys and the mouse on the canvas, sent to the desktop while the socket is open. Every
 * key goes to the desktop, Tab included; Escape twice within `RELEASE_MS` also hands the
 * keyboard back to the page (`release`), so focus is never trapped in the canvas. */
function forwardInput(canvas, send, release) {
  let lastEscape = 0;
  const point = (event) => ({
    x: Math.round((event.offsetX * canvas.width) / canvas.clientWidth),
    y: Math.round((event.offsetY * canvas.height) / canvas.clientHeight),
  });
  const key = (down) => (event) => {
    if (!event.code) return;
    event.preventDefault();
    send({ type: 'key', code: event.code, down });
    if (down && event.code === 'Escape' && !event.repeat) {
      const now = performance.now();
      if (now - lastEscape < RELEASE_MS) {
        send({ type: 'key', code: 'Escape', down: false });
        release();
      }
      lastEscape = now;
    }
  };
  const button = (down) => (event) => {
    if (down) canvas.focus();
    event.preventDefault();
    send({ type: 'mouse', ...point(event), button: event.button, down });
  };
  canvas.addEventListener('keydown', key(true));
  canvas.addEventListener('keyup', key(false));
  canvas.addEventListener('mousedown', button(true));
  canvas.addEventListener('mouseup', button(false));
  // Moves are sent at most once a frame: the pointer's latest place is all that matters.
  let moved = null;
  canvas.addEventListener('mousemove', (event) => {
    if (moved === null) {
      requestAnimationFrame(() => {
        send({ type: 'mouse', ...moved, button: -1, down: false });
        moved = null;
      });
    }
    moved = point(event);
  });
  canvas.addEventListener('contextmenu', (event) => event.preventDefault());
}

export default {
  title: 'Console',
  async mount(main, ctx) {
    const { id } = ctx.params;
    main.append(breadcrumb(`/app/instances/${id}`, 'Back to the machine'));
    if (!/^\d+$/.test(id)) {
      showMissing(main, ctx, 'Machine', 'There is no machine at this address.');
      return;
    }
    const status = h('p', { class: 'console-status', role: 'status' }, 'Connecting…');
    const canvas = h('canvas', {
      class: 'console-screen',
      width: 1024,
      height: 768,
      tabindex: '0',
      'aria-label': 'The machine’s desktop: type into it; Escape twice leaves it',
    });
    const disconnect = h(
      'button',
      { type: 'button', class: 'button button-secondary' },
      'Disconnect',
    );
    main.append(
      h('h1', {}, 'Console'),
      h(
        'p',
        { class: 'muted' },
        'The machine’s screen, live. Click it to type; press Escape twice to leave it. ' +
          'Closing this page ends the console.',
      ),
      h('div', { class: 'button-row' }, status, disconnect),
      h('div', { class: 'console-frame' }, canvas),
    );

    let grant;
    try {
      grant = await api.post(`/api/instances/${id}/console`);
    } catch (error) {
      if (!ctx.isCurrent()) return;
      setText(status, error.display || error.message);
      status.setAttribute('role', 'alert');
      disconnect.hidden = true;
      return;
    }
    if (!ctx.isCurrent()) return;

    const socket = new WebSocket(socketAddress(grant.url));
    socket.binaryType = 'arraybuffer';
    const paint = regionPainter(canvas);
    const send = (message) => {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    };
    let ended = false;
    const end = (message) => {
      if (ended) return;
      ended = true;
      setText(status, message);
      main.dataset.console = 'closed';
      disconnect.disabled = true;
    };
    socket.addEventListener('open', () => socket.send(grant.ticket));
    socket.addEventListener('message', (event) => {
      if (typeof event.data !== 'string') {
        paint(event.data);
        return;
      }
      const message = JSON.parse(event.data);
      if (message.type === 'ready') {
        canvas.width = message.width;
        canvas.height = message.height;
        setText(status, 'Connected.');
        main.dataset.console = 'open';
        canvas.focus();
      } else if (message.type === 'closed') {
        end(message.reason);
      }
    });
    socket.addEventListener('close', () => end('The console is closed.'));
    forwardInput(canvas, send, () => disconnect.focus());
    disconnect.addEventListener('click', () => socket.close(1000));
    ctx.onDispose(() => socket.close(1000));
  },
};
