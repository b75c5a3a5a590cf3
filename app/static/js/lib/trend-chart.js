// One figure per day as an SVG chart (bars for amounts, a line for counts) drawn at its
// container's real width, with a sentence that sums it up and the same figures as a table
// for keyboard and screen-reader users. The SVG itself is hidden from assistive technology.

import { h, replaceChildren, uid } from './dom.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const HEIGHT = 180;
const MARGIN = { top: 12, right: 10, bottom: 26, left: 64 };
const LABEL_WIDTH = 56; // room one day label needs on the x axis
const SHORT_DAY = new Intl.DateTimeFormat(undefined, {
  month: 'short',
  day: 'numeric',
  timeZone: 'UTC',
});
const LONG_DAY = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

function svg(tag, attrs = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, String(value));
  for (const child of children) element.append(child);
  return element;
}

export function dayLabel(day, long = false) {
  return (long ? LONG_DAY : SHORT_DAY).format(new Date(`${day}T00:00:00Z`));
}

/** A round axis top and step (about four gridlines); whole steps for counts. */
function axisScale(max, whole) {
  if (max <= 0) return { top: whole ? 4 : 1, step: whole ? 1 : 0.25 };
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  let step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough);
  if (whole) step = Math.max(1, Math.ceil(step));
  return { top: Math.ceil(max / step) * step, step };
}

function draw(points, width, { kind, axis, whole }) {
  const plotWidth = Math.max(60, width - MARGIN.left - MARGIN.right);
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const { top, step } = axisScale(Math.max(...points.map((p) => p.value)), whole);
  const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const slot = plotWidth / points.length;
  const x = (index) => MARGIN.left + (index + 0.5) * slot;
  const chart = svg('svg', {
    class: `trend-svg trend-svg-${kind}`,
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    'aria-hidden': 'true',
    focusable: 'false',
  });
  for (let value = 0; value <= top + step / 2; value += step) {
    chart.append(
      svg('line', {
        class: 'usage-grid',
        x1: MARGIN.left,
        x2: width - MARGIN.right,
        y1: y(value),
        y2: y(value),
      }),
      svg(
        'text',
        { class: 'usage-axis', x: MARGIN.left - 6, y: y(value) + 4, 'text-anchor': 'end' },
        axis(value),
      ),
    );
  }
  if (kind === 'bars') {
    const barWidth = Math.max(1, slot * 0.7);
    points.forEach((point, index) => {
      chart.append(
        svg(
          'rect',
          {
            class: 'trend-bar',
            x: x(index) - barWidth / 2,
            y: y(point.value),
            width: barWidth,
            height: y(0) - y(point.value),
          },
          svg('title', {}, `${dayLabel(point.day, true)}: ${point.text}`),
        ),
      );
    });
  } else {
    const line = points.map((point, index) => `${x(index)},${y(point.value)}`).join(' ');
    const area = `${x(0)},${y(0)} ${line} ${x(points.length - 1)},${y(0)}`;
    chart.append(
      svg('polygon', { class: 'trend-area', points: area }),
      svg('polyline', { class: 'trend-line', points: line }),
    );
  }
  // Day labels under every n-th point, the last day's always, kept inside the drawing.
  const every = Math.ceil(LABEL_WIDTH / slot);
  const half = LABEL_WIDTH / 2;
  let nextLeft = Infinity;
  for (let index = points.length - 1; index >= 0; index -= every) {
    const centre = Math.min(Math.max(x(index), half), width - half);
    if (centre + half > nextLeft) continue;
    nextLeft = centre - half;
    chart.append(
      svg(
        'text',
        { class: 'usage-axis', x: centre, y: HEIGHT - 8, 'text-anchor': 'middle' },
        dayLabel(points[index].day),
      ),
    );
  }
  return chart;
}

/**
 * A chart section titled `title`: `points` are [{ day, value, text }] oldest first (`text`,
 * the value as people read it), `summary` a sentence about them, `axis(value)` an axis
 * label. `kind`: 'bars' or 'line'; `whole`: the values are counts. Returns { element,
 * dispose }.
 */
export function trendChart({ title, points, summary, axis, kind = 'bars', whole = false }) {
  const titleId = uid('trend-title');
  const summaryId = uid('trend-summary');
  const plot = h('div', {
    class: 'usage-plot trend-plot',
    role: 'img',
    'aria-labelledby': `${titleId} ${summaryId}`,
  });
  const figures = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'table usage-table' },
      h('caption', { class: 'visually-hidden' }, `${title}, per day`),
      h(
        'thead',
        {},
        h('tr', {}, h('th', { scope: 'col' }, 'Day'), h('th', { scope: 'col' }, title)),
      ),
      h(
        'tbody',
        {},
        [...points]
          .reverse()
          .map((point) =>
            h(
              'tr',
              {},
              h(
                'th',
                { scope: 'row', dataset: { label: 'Day' } },
                h('time', { datetime: point.day }, dayLabel(point.day, true)),
              ),
              h('td', { class: 'numeric', dataset: { label: title } }, point.text),
            ),
          ),
      ),
    ),
  );
  const element = h(
    'div',
    { class: 'trend-chart' },
    h('h3', { id: titleId }, title),
    plot,
    h('p', { id: summaryId, class: 'usage-summary' }, summary),
    h('details', { class: 'usage-details' }, h('summary', {}, `${title}: the figures`), figures),
  );
  let drawnWidth = 0;
  const redraw = () => {
    const width = Math.floor(plot.clientWidth);
    if (!points.length || width <= 0 || width === drawnWidth) return;
    drawnWidth = width;
    replaceChildren(plot, draw(points, width, { kind, axis, whole }));
  };
  const resizes = new ResizeObserver(redraw);
  resizes.observe(plot);
  return { element, dispose: () => resizes.disconnect() };
}
