// One figure per day as an SVG chart (bars for amounts, a line for counts) drawn at its
// container's real width, with a sentence that sums it up and the same figures as a table
// for keyboard and screen-reader users. The SVG itself is hidden from assistive technology.

import { h, uid } from './dom.js';
import { dailyChart, dayLabel, drawAtWidth, svg } from './svg.js';

const HEIGHT = 180;
const MARGIN = { top: 12, right: 10, bottom: 26, left: 64 };
const LABEL_WIDTH = 56; // room one day label needs on the x axis

function draw(points, width, { kind, axis, whole }) {
  return dailyChart({
    className: `trend-svg trend-svg-${kind}`,
    days: points,
    width,
    height: HEIGHT,
    margin: MARGIN,
    labelWidth: LABEL_WIDTH,
    max: Math.max(...points.map((p) => p.value)),
    whole,
    axis,
    marks: ({ x, y, slot }) => {
      if (kind === 'bars') {
        const barWidth = Math.max(1, slot * 0.7);
        return points.map((point, index) =>
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
      }
      const line = points.map((point, index) => `${x(index)},${y(point.value)}`).join(' ');
      const area = `${x(0)},${y(0)} ${line} ${x(points.length - 1)},${y(0)}`;
      return [
        svg('polygon', { class: 'trend-area', points: area }),
        svg('polyline', { class: 'trend-line', points: line }),
      ];
    },
  });
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
  const drawing = drawAtWidth(plot, (width) =>
    points.length ? draw(points, width, { kind, axis, whole }) : null,
  );
  return { element, dispose: drawing.dispose };
}
