// Inline SVG: images the API sends as data: URIs (the two-factor QR code), rebuilt as SVG
// elements from an allow-list of shapes and attributes (the page's Content-Security-Policy
// loads images only from our own origin, and nothing active can come along); and the frame
// of the daily charts (gridlines, a round axis, day labels) drawn at their container's width.

import { replaceChildren } from './dom.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const ALLOWED = {
  svg: ['width', 'height', 'viewBox'],
  g: ['transform', 'fill', 'stroke'],
  path: ['d', 'transform', 'fill', 'stroke', 'stroke-width'],
  rect: ['x', 'y', 'width', 'height', 'transform', 'fill', 'stroke'],
};

function decode(uri) {
  const comma = uri.indexOf(',');
  if (!uri.startsWith('data:image/svg+xml') || comma < 0) return null;
  const data = uri.slice(comma + 1);
  try {
    return uri.slice(0, comma).endsWith(';base64') ? atob(data) : decodeURIComponent(data);
  } catch {
    return null;
  }
}

function copy(node) {
  const allowed = ALLOWED[node.localName];
  if (!allowed || node.namespaceURI !== SVG_NS) return null;
  const element = document.createElementNS(SVG_NS, node.localName);
  for (const name of allowed) {
    if (node.hasAttribute(name)) element.setAttribute(name, node.getAttribute(name));
  }
  for (const child of node.children) {
    const copied = copy(child);
    if (copied) element.append(copied);
  }
  return element;
}

/** An <svg role="img"> named `label`, or null when the URI holds no usable SVG. */
export function svgImage(uri, label) {
  const text = decode(uri);
  if (!text) return null;
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  if (doc.querySelector('parsererror')) return null;
  const svg = copy(doc.documentElement);
  if (!svg || svg.localName !== 'svg') return null;
  if (!svg.hasAttribute('viewBox') && svg.hasAttribute('width') && svg.hasAttribute('height')) {
    svg.setAttribute('viewBox', `0 0 ${svg.getAttribute('width')} ${svg.getAttribute('height')}`);
  }
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', label);
  return svg;
}

const SHORT_DAY = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  timeZone: 'UTC',
});
const LONG_DAY = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

/** An SVG element: svg('line', { x1: 0, … }, child…). */
export function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, String(value));
  for (const child of children) element.append(child);
  return element;
}

/** A day ("2025-03-04") as people read it: short ("Mar 4") or long (with the year). */
export function dayLabel(day, long = false) {
  return (long ? LONG_DAY : SHORT_DAY).format(new Date(`${day}T00:00:00Z`));
}

/** A round axis top and step (about four gridlines); whole steps for counts. */
export function axisScale(max, whole = false) {
  if (max <= 0) return { top: whole ? 4 : 1, step: whole ? 1 : 0.25 };
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough);
  if (whole) step = Math.max(1, Math.ceil(step));
  return { top: Math.ceil(max / step) * step, step };
}

/**
 * A chart of one mark per day (`days`, oldest first, each with its `day`), `width` wide:
 * gridlines from 0 to a round top above `max`, labelled by `axis(value)`; what
 * `marks({ x, y, slot })` returns drawn over them (`x(index)`, a day's centre; `y(value)`, a
 * value's height; `slot`, the room of one day); and day labels under every n-th day, the last
 * day's always, kept inside the drawing. The page says the same in words and a table, so the
 * drawing is hidden from assistive technology.
 */
export function dailyChart({
  className,
  days,
  width,
  height,
  margin,
  labelWidth,
  max,
  whole = false,
  axis,
  marks,
}) {
  const plotWidth = Math.max(60, width - margin.left - margin.right);
  const plotHeight = height - margin.top - margin.bottom;
  const { top, step } = axisScale(max, whole);
  const y = (value) => margin.top + plotHeight - (value / top) * plotHeight;
  const slot = plotWidth / days.length;
  const x = (index) => margin.left + (index + 0.5) * slot;
  const chart = svg('svg', {
    class: className,
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    'aria-hidden': 'true',
    focusable: 'false',
  });
  for (let value = 0; value <= top + step / 2; value += step) {
    const at = y(value);
    chart.append(
      svg('line', {
        class: 'usage-grid',
        x1: margin.left,
        x2: width - margin.right,
        y1: at,
        y2: at,
      }),
      svg(
        'text',
        { class: 'usage-axis', x: margin.left - 6, y: at + 4, 'text-anchor': 'end' },
        axis(value),
      ),
    );
  }
  chart.append(...marks({ x, y, slot }));
  const every = Math.ceil(labelWidth / slot);
  const half = labelWidth / 2;
  let nextLeft = Infinity; // left edge of the label placed to the right
  for (let index = days.length - 1; index >= 0; index -= every) {
    const centre = Math.min(Math.max(x(index), half), width - half);
    if (centre + half > nextLeft) continue;
    nextLeft = centre - half;
    chart.append(
      svg(
        'text',
        { class: 'usage-axis', x: centre, y: height - 8, 'text-anchor': 'middle' },
        dayLabel(days[index].day),
      ),
    );
  }
  return chart;
}

/**
 * Keep `plot` drawn at its real width: `draw(width)` returns the drawing, or null while there
 * is nothing to draw. Returns { redraw(), dispose() }; `redraw()` draws again after new data.
 */
export function drawAtWidth(plot, draw) {
  let drawnWidth = 0;
  const fit = (force) => {
    const width = Math.floor(plot.clientWidth);
    if (width <= 0 || (width === drawnWidth && !force)) return;
    const drawing = draw(width);
    drawnWidth = drawing ? width : 0;
    if (drawing) replaceChildren(plot, drawing);
  };
  const resizes = new ResizeObserver(() => fit(false));
  resizes.observe(plot);
  return { redraw: () => fit(true), dispose: () => resizes.disconnect() };
}
