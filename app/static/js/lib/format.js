// How values from the API read on screen.

import { h, setText } from './dom.js';

const STATUS = {
  pending_payment: { label: 'Awaiting payment', tone: 'warn' },
  provisioning: { label: 'Provisioning', tone: 'busy' },
  booting: { label: 'Booting', tone: 'busy' },
  active: { label: 'Active', tone: 'ok' },
  restarting: { label: 'Restarting', tone: 'busy' },
  stopping: { label: 'Stopping', tone: 'busy' },
  stopped: { label: 'Stopped', tone: 'neutral' },
  starting: { label: 'Starting', tone: 'busy' },
  resizing: { label: 'Resizing', tone: 'busy' },
  restoring: { label: 'Restoring', tone: 'busy' },
  reinstalling: { label: 'Reinstalling', tone: 'busy' },
  suspended: { label: 'Suspended', tone: 'warn' },
  terminating: { label: 'Terminating', tone: 'busy' },
  terminated: { label: 'Terminated', tone: 'muted' },
  failed: { label: 'Failed', tone: 'error' },
};

const REGIONS = {
  'us-east': 'US East',
  'us-central': 'US Central',
  'us-west': 'US West',
  'eu-central': 'EU Central',
  'eu-west': 'EU West',
  uk: 'United Kingdom',
  asia: 'Asia (Singapore)',
  australia: 'Australia',
};

const OS = { windows: 'Windows', linux: 'Linux' };

export function statusLabel(status) {
  return STATUS[status]?.label || status;
}

/** True while the machine is between two states (worth polling faster). */
export function isTransitional(status) {
  return STATUS[status]?.tone === 'busy';
}

/** A status badge; update it in place with `updateStatusBadge`. */
export function statusBadge(status) {
  const badge = h(
    'span',
    { class: 'badge' },
    h('span', { class: 'badge-dot', 'aria-hidden': 'true' }),
    h('span'),
  );
  updateStatusBadge(badge, status);
  return badge;
}

export function updateStatusBadge(badge, status) {
  const tone = STATUS[status]?.tone || 'neutral';
  const wanted = `badge badge-${tone}`;
  if (badge.className !== wanted) badge.className = wanted;
  badge.dataset.status = status;
  setText(badge.lastChild, statusLabel(status));
}

/** Region codes in the order people expect to pick from: Americas, Europe, Asia-Pacific. */
export function sortRegions(codes) {
  const order = Object.keys(REGIONS);
  const rank = (code) => (order.includes(code) ? order.indexOf(code) : order.length);
  return [...codes].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

export function regionName(code) {
  return REGIONS[code] || code;
}

export function osName(code) {
  return OS[code] || code;
}

export function money(cents, currency = 'usd') {
  return new Intl.NumberFormat('en-US', {
    style: 'currency',
    currency: currency.toUpperCase(),
  }).format(cents / 100);
}

export function memory(mb) {
  const gb = mb / 1024;
  return `${Number.isInteger(gb) ? gb : gb.toFixed(1)} GB`;
}

export function transfer(gb) {
  return gb >= 1000 ? `${(gb / 1000).toLocaleString('en-US')} TB` : `${gb} GB`;
}

export function gigabytes(value) {
  if (value === null || value === undefined) return '—';
  return `${Number(value).toLocaleString('en-US', { maximumFractionDigits: 2 })} GB`;
}

const DATE_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const TIME = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

export function dateTime(iso) {
  if (!iso) return null;
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : DATE_TIME.format(date);
}

export function clockTime(date = new Date()) {
  return TIME.format(date);
}

/** A <time> element for an ISO date, or a fallback text when there is none. */
export function timeElement(iso, fallback = '—') {
  if (!iso) return document.createTextNode(fallback);
  return h('time', { datetime: iso }, dateTime(iso));
}

/** 0.5 → '30 min', 27.25 → '1 d 3 h 15 min'. */
export function duration(hours) {
  if (hours === null || hours === undefined) return '—';
  let minutes = Math.round(hours * 60);
  const days = Math.floor(minutes / 1440);
  minutes -= days * 1440;
  const wholeHours = Math.floor(minutes / 60);
  minutes -= wholeHours * 60;
  const parts = [];
  if (days) parts.push(`${days} d`);
  if (wholeHours) parts.push(`${wholeHours} h`);
  if (minutes || parts.length === 0) parts.push(`${minutes} min`);
  return parts.join(' ');
}

export function planSpecs(plan) {
  const specs = [
    `${plan.vcpu} vCPU`,
    `${memory(plan.ram_mb)} RAM`,
    `${plan.disk_gb} GB disk`,
    `${transfer(plan.bandwidth_gb)} transfer`,
  ];
  if (plan.gpu) specs.push(plan.gpu);
  return specs;
}
