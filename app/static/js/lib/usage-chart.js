// The machine page's daily traffic chart: stacked bars (sent below, received above) drawn
// as SVG elements at the card's real width, with a period switch, a summary sentence and
// the same figures as a table for keyboard and screen-reader users.

import { h, replaceChildren, setText, show, uid } from './dom.js';
import { gigabytes } from './format.js';
import { dailyChart, dayLabel, drawAtWidth, svg } from './svg.js';

const PERIODS = [7, 30, 90];
const HEIGHT = 200;
const MARGIN = { top: 12, right: 8, bottom: 26, left: 52 };
const LABEL_WIDTH = 52; // room one day label needs on the x axis
const DAY_MS = 86_400_000;

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

function draw(days, width) {
  const share = days.length > 45 ? 0.8 : 0.66; // of a day's room its bar takes
  return dailyChart({
    className: 'usage-svg',
    days,
    width,
    height: HEIGHT,
    margin: MARGIN,
    labelWidth: LABEL_WIDTH,
    max: Math.max(...days.map((d) => d.inbound + d.outbound)),
    axis: (value) => `${Number(value.toFixed(3))} GB`,
    marks: ({ x, y, slot }) =>
      days.map((entry, index) => {
        const barWidth = Math.max(1, slot * share);
        const left = x(index) - barWidth / 2;
        const sentTop = y(entry.outbound);
        const total = y(entry.outbound + entry.inbound);
        return svg(
          'g',
          { class: 'usage-day', 'data-day': entry.day },
          svg(
            'title',
            {},
            `${dayLabel(entry.day, true)}: ${gigabytes(entry.outbound)} sent, ` +
              `${gigabytes(entry.inbound)} received`,
          ),
          svg('rect', {
            class: 'usage-out',
            x: left,
            y: sentTop,
            width: barWidth,
            height: y(0) - sentTop,
          }),
          svg('rect', {
            class: 'usage-in',
            x: left,
            y: total,
            width: barWidth,
            height: sentTop - total,
          }),
        );
      }),
  });
}

function summary(days, period) {
  const received = days.reduce((sum, d) => sum + d.inbound, 0);
  const sent = days.reduce((sum, d) => sum + d.outbound, 0);
  const busiest = days.reduce((best, d) =>
    d.inbound + d.outbound > best.inbound + best.outbound ? d : best,
  );
  return (
    `Last ${period} days: ${gigabytes(sent + received)} in all, ${gigabytes(sent)} sent and ` +
    `${gigabytes(received)} received. Busiest day: ${dayLabel(busiest.day, true)} ` +
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
  const rows = [...days]
    .reverse()
    .map((d) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, h('time', { datetime: d.day }, dayLabel(d.day, true))),
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
      h('div', { class: 'field-inline' }, h('label', { for: select.id }, 'Period'), select),
    ),
    legend,
    plot,
    text,
    empty,
    details,
  );

  let days = [];
  const drawing = drawAtWidth(plot, (width) => (days.length ? draw(days, width) : null));

  let shown = null; // what is drawn, so a refresh with the same figures changes nothing
  const render = (series, period, { reported = true } = {}) => {
    const today = new Date().toISOString().slice(0, 10); // the window moves at midnight UTC
    const key = JSON.stringify([series, period, reported, today]);
    if (key === shown) return;
    shown = key;
    select.value = String(period);
    const hasData = series.length > 0;
    days = hasData ? fillDays(series, period) : [];
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
    drawing.redraw();
  };
  return { element: section, render, dispose: drawing.dispose };
}
