// The machine page's daily traffic chart: stacked bars (sent below, received above) drawn
// as SVG elements at the card's real width, with a period switch, a summary sentence and
// the same figures as a table for keyboard and screen-reader users.

import { h, replaceChildren, setText, show, uid } from './dom.js';
import { gigabytes } from './format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const PERIODS = [7, 30, 90];
const HEIGHT = 200;
const MARGIN = { top: 12, right: 8, bottom: 26, left: 52 };
const LABEL_WIDTH = 52; // room one day label needs on the x axis
const DAY_MS = 86_400_000;
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

/** Every day of the period, oldest first, with zeros where nothing was recorded. */
function fillDays(series, days, today = new Date()) {
  const recorded = new Map(series.map((entry) => [entry.day, entry]));
  const last = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const filled = [];
  for (let offset = days - 1; offset >= 0; offset -= 1) {
    const day = new Date(last - offset * DAY_MS).toISOString().slice(0, 10);
    const entry = recorded.get(day);
    filled.push({
      day,
      inbound: entry ? entry.inbound_gb : 0,
      outbound: entry ? entry.outbound_gb : 0,
    });
  }
  return filled;
}

/** A round axis top and step: 0, step, 2·step … ≥ max with about four gridlines. */
function axisScale(max) {
  if (max <= 0) return { top: 1, step: 0.25 };
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough);
  return { top: Math.ceil(max / step) * step, step };
}

function dayLabel(day, format) {
  return format.format(new Date(`${day}T00:00:00Z`));
}

function draw(days, width) {
  const plotWidth = Math.max(60, width - MARGIN.left - MARGIN.right);
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const { top, step } = axisScale(Math.max(...days.map((d) => d.inbound + d.outbound)));
  const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const slot = plotWidth / days.length;
  const barWidth = Math.max(1, slot * (days.length > 45 ? 0.8 : 0.66));

  const chart = svg('svg', {
    class: 'usage-svg',
    width,
    height: HEIGHT,
    viewBox: `0 0 ${width} ${HEIGHT}`,
    'aria-hidden': 'true', // the summary and the table say the same to assistive technology
    focusable: 'false',
  });
  for (let value = 0; value <= top + step / 2; value += step) {
    const at = y(value);
    chart.append(
      svg('line', { class: 'usage-grid', x1: MARGIN.left, x2: width - MARGIN.right, y1: at, y2: at }),
      svg(
        'text',
        { class: 'usage-axis', x: MARGIN.left - 6, y: at + 4, 'text-anchor': 'end' },
        `${Number(value.toFixed(3))} GB`,
      ),
    );
  }
  days.forEach((entry, index) => {
    const x = MARGIN.left + index * slot + (slot - barWidth) / 2;
    const sentTop = y(entry.outbound);
    const total = y(entry.outbound + entry.inbound);
    chart.append(
      svg(
      'g',
      { class: 'usage-day', 'data-day': entry.day },
      svg(
        'title',
        {},
        `${dayLabel(entry.day, LONG_DAY)}: ${gigabytes(entry.outbound)} sent, ` +
          `${gigabytes(entry.inbound)} received`,
      ),
      svg('rect', {
        class: 'usage-out',
        x,
        y: sentTop,
        width: barWidth,
        height: y(0) - sentTop,
      }),
      svg('rect', { class: 'usage-in', x, y: total, width: barWidth, height: sentTop - total }),
      ),
    );
  });
  for (const label of dayLabels(days, slot, width)) chart.append(label);
  return chart;
}

/**
 * Day labels under every n-th bar, today's always, centred under their bars but kept
 * inside the drawing; a label that would touch the one to its right is left out.
 */
function dayLabels(days, slot, width) {
  const every = Math.ceil(LABEL_WIDTH / slot);
  const half = LABEL_WIDTH / 2;
  const labels = [];
  let nextLeft = Infinity; // left edge of the label placed to the right
  for (let index = days.length - 1; index >= 0; index -= every) {
    const barCentre = MARGIN.left + (index + 0.5) * slot;
    const centre = Math.min(Math.max(barCentre, half), width - half);
    if (centre + half > nextLeft) continue;
    nextLeft = centre - half;
    labels.push(
      svg(
        'text',
        { class: 'usage-axis', x: centre, y: HEIGHT - 8, 'text-anchor': 'middle' },
        dayLabel(days[index].day, SHORT_DAY),
      ),
    );
  }
  return labels;
}

function summary(days, period) {
  const received = days.reduce((sum, d) => sum + d.inbound, 0);
  const sent = days.reduce((sum, d) => sum + d.outbound, 0);
  const busiest = days.reduce((best, d) =>
    d.inbound + d.outbound > best.inbound + best.outbound ? d : best,
  );
  return (
    `Last ${period} days: ${gigabytes(sent + received)} in all, ${gigabytes(sent)} sent and ` +
    `${gigabytes(received)} received. Busiest day: ${dayLabel(busiest.day, LONG_DAY)} ` +
    `with ${gigabytes(busiest.inbound + busiest.outbound)}.`
  );
}

function table(days) {
  const caption = h('caption', { class: 'visually-hidden' }, 'Traffic per day');
  const head = h(
    'thead',
    {},
    h(
      'tr',
      {},
      ['Day', 'Sent', 'Received', 'Total'].map((name) => h('th', { scope: 'col' }, name)),
    ),
  );
  const rows = [...days].reverse().map((d) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, h('time', { datetime: d.day }, dayLabel(d.day, LONG_DAY))),
      h('td', { class: 'numeric' }, gigabytes(d.outbound)),
      h('td', { class: 'numeric' }, gigabytes(d.inbound)),
      h('td', { class: 'numeric' }, gigabytes(d.inbound + d.outbound)),
    ),
  );
  return h('table', { class: 'table usage-table' }, caption, head, h('tbody', {}, rows));
}

/**
 * The chart's section. `onPeriod(days)` is called when the customer picks another period;
 * `render(series, period, { reported })` draws what the usage API returned for it.
 */
export function usageChart({ period = 30, onPeriod }) {
  const titleId = uid('traffic-title');
  const summaryId = uid('traffic-summary');
  const select = h(
    'select',
    { id: uid('traffic-period') },
    PERIODS.map((days) =>
      h('option', { value: days, selected: days === period }, `Last ${days} days`),
    ),
  );
  select.addEventListener('change', () => onPeriod(Number(select.value)));
  const legend = h(
    'ul',
    { class: 'usage-legend', 'aria-hidden': 'true' },
    h('li', {}, h('span', { class: 'swatch swatch-out' }), 'Sent'),
    h('li', {}, h('span', { class: 'swatch swatch-in' }), 'Received'),
  );
  const plot = h('div', {
    class: 'usage-plot',
    role: 'img',
    'aria-labelledby': `${titleId} ${summaryId}`,
  });
  const text = h('p', { id: summaryId, class: 'usage-summary' });
  const empty = h('p', { class: 'muted', hidden: true });
  const figures = h('div', { class: 'table-wrap' });
  const details = h(
    'details',
    { class: 'usage-details' },
    h('summary', {}, 'Show the figures per day'),
    figures,
  );
  const section = h(
    'div',
    { class: 'usage-chart' },
    h(
      'div',
      { class: 'usage-head' },
      h('h3', { id: titleId }, 'Daily traffic'),
      h(
        'div',
        { class: 'field-inline' },
        h('label', { for: select.id }, 'Period'),
        select,
      ),
    ),
    legend,
    plot,
    text,
    empty,
    details,
  );

  let days = [];
  let drawnWidth = 0;
  const redraw = () => {
    const width = Math.floor(plot.clientWidth);
    if (!days.length || width <= 0 || width === drawnWidth) return;
    drawnWidth = width;
    replaceChildren(plot, draw(days, width));
  };
  const resizes = new ResizeObserver(redraw);
  resizes.observe(plot);

  let shown = null; // what is drawn, so a refresh with the same figures changes nothing
  const render = (series, period, { reported = true } = {}) => {
    const today = new Date().toISOString().slice(0, 10); // the window moves at midnight UTC
    const key = JSON.stringify([series, period, reported, today]);
    if (key === shown) return;
    shown = key;
    select.value = String(period);
    const hasData = series.length > 0;
    days = hasData ? fillDays(series, period) : [];
    drawnWidth = 0;
    for (const part of [legend, plot, text, details]) show(part, hasData);
    show(empty, !hasData);
    if (!hasData) {
      setText(
        empty,
        reported
          ? `No traffic recorded in the last ${period} days. Figures appear after the next ` +
              'usage reading from the data centre.'
          : 'This machine’s data centre does not report daily traffic, so there is no chart.',
      );
      return;
    }
    setText(text, summary(days, period));
    replaceChildren(figures, table(days));
    redraw();
  };
  return { element: section, render, dispose: () => resizes.disconnect() };
}
