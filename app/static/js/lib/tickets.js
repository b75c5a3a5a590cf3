// Support tickets as both customers and staff see them: badges, the thread, the reply form.

import { h, setText } from './dom.js';
import { field, requireFilled, submitForm } from './forms.js';
import { timeElement } from './format.js';

export const MESSAGE_MAX = 10000;
export const SUBJECT_MAX = 200;

export const PRIORITIES = [
  { value: 'low', label: 'Low', hint: 'A general question' },
  { value: 'medium', label: 'Medium', hint: 'Something affects how I use a machine' },
  { value: 'high', label: 'High', hint: 'A machine does not work' },
  { value: 'urgent', label: 'Urgent', hint: 'Nothing works at all' },
];

export const STATUSES = [
  { value: 'open', label: 'Open', tone: 'busy' },
  { value: 'in_progress', label: 'In progress', tone: 'busy' },
  { value: 'waiting_on_customer', label: 'Waiting on customer', tone: 'warn' },
  { value: 'closed', label: 'Closed', tone: 'muted' },
];

const PRIORITY_TONES = { low: 'neutral', medium: 'neutral', high: 'warn', urgent: 'error' };

export function statusName(status) {
  return STATUSES.find((item) => item.value === status)?.label || status;
}

export function priorityName(priority) {
  return PRIORITIES.find((item) => item.value === priority)?.label || priority;
}

export function ticketStatusBadge(status) {
  const tone = STATUSES.find((item) => item.value === status)?.tone || 'neutral';
  return h('span', { class: `badge badge-${tone}`, dataset: { status } }, statusName(status));
}

export function priorityBadge(priority) {
  return h(
    'span',
    { class: `badge badge-${PRIORITY_TONES[priority] || 'neutral'}`, dataset: { priority } },
    `${priorityName(priority)} priority`,
  );
}

/** <option>s for a select, optionally led by an "any" choice with an empty value. */
export function options(items, anyLabel = null) {
  return [
    anyLabel ? h('option', { value: '' }, anyLabel) : null,
    ...items.map((item) => h('option', { value: item.value }, item.label)),
  ];
}

/** The messages of a ticket, oldest first; `authorName(message)` says who wrote each. */
export function thread(messages, authorName) {
  return h(
    'ol',
    { class: 'thread', 'aria-label': 'Messages' },
    messages.map((message) =>
      h(
        'li',
        { class: `message message-${message.author}` },
        h(
          'article',
          { 'aria-label': `${authorName(message)}, message ${message.id}` },
          h(
            'p',
            { class: 'message-meta' },
            h('strong', {}, authorName(message)),
            ' · ',
            timeElement(message.created_at),
          ),
          // Plain text as typed: line breaks kept by CSS, markup shown, never parsed.
          h('p', { class: 'message-body' }, message.body),
        ),
      ),
    ),
  );
}

/**
 * A reply form: a message box, optional extra controls, and `send(message)` which posts it.
 * Returns { element, textarea }.
 */
export function replyForm({ label, buttonLabel, extra = [], send }) {
  const message = field({
    label,
    tag: 'textarea',
    name: 'message',
    rows: '5',
    maxlength: String(MESSAGE_MAX),
    required: true,
  });
  const { form } = submitForm({
    children: [message.element, extra],
    label: buttonLabel,
    busyLabel: 'Sending…',
    fields: { message },
    validate: () => requireFilled([[message, 'Write a message first.']]),
    send: async () => {
      await send(message.input.value);
      message.input.value = '';
    },
  });
  return { element: form, textarea: message.input };
}

/** "Ticket #12 · opened 3 May 2026, 10:00": the line under a ticket's heading. */
export function ticketSubtitle(ticket) {
  const line = h('p', { class: 'muted subtitle' });
  setText(line, `Ticket #${ticket.id} · opened `);
  line.append(timeElement(ticket.created_at));
  if (ticket.closed_at) line.append(' · closed ', timeElement(ticket.closed_at));
  return line;
}
