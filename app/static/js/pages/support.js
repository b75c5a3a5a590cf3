// Support: the FAQ (GET /api/support/faq) as an accordion, the customer's tickets, a form to
// open one with a priority, how to reach us, and our help pages.

import { api } from '../lib/api.js';
import { card, h, setText, show, uid } from '../lib/dom.js';
import { timeElement } from '../lib/format.js';
import { alertBox, field, requireFilled, showMessage, submitForm } from '../lib/forms.js';
import { mailtoHref } from '../lib/links.js';
import { countSentence, pageCount, pager } from '../lib/pager.js';
import { supportEmail } from '../lib/site.js';
import {
  MESSAGE_MAX,
  PRIORITIES,
  SUBJECT_MAX,
  priorityName,
  ticketStatusBadge,
} from '../lib/tickets.js';

const PER_PAGE = 10;
const CATEGORIES = {
  machines: 'Your machines',
  connecting: 'Connecting',
  billing: 'Billing',
  account: 'Your account',
};
const HELP_PAGES = [
  { href: '/help/rdp-windows', label: 'Connect from Windows' },
  { href: '/help/rdp-mac-linux', label: 'Connect from a Mac or Linux' },
  { href: '/help/troubleshooting', label: 'When a desktop does not answer' },
  { href: '/help/billing', label: 'Billing and payments' },
  { href: '/help/security', label: 'Keeping your account safe' },
];

/** One question: a heading holding a button that shows and hides its answer. */
function faqItem(entry) {
  const id = uid('faq');
  const answer = h(
    'div',
    { class: 'faq-answer', id: `${id}-answer`, hidden: true },
    h('p', {}, entry.answer),
  );
  const button = h(
    'button',
    {
      type: 'button',
      class: 'faq-question',
      id,
      'aria-expanded': 'false',
      'aria-controls': answer.id,
    },
    entry.question,
  );
  button.addEventListener('click', () => {
    const open = button.getAttribute('aria-expanded') !== 'true';
    button.setAttribute('aria-expanded', String(open));
    show(answer, open);
  });
  return h('div', { class: 'faq-item' }, h('h4', {}, button), answer);
}

function faqCard(ctx) {
  const body = h('div', { class: 'faq' }, h('p', { class: 'muted' }, 'Loading the questions…'));
  api
    .get('/api/support/faq')
    .then(({ faqs }) => {
      if (!ctx.isCurrent()) return;
      const groups = new Map();
      for (const entry of faqs) {
        if (!groups.has(entry.category)) groups.set(entry.category, []);
        groups.get(entry.category).push(entry);
      }
      body.replaceChildren(
        ...[...groups].map(([category, entries]) =>
          h(
            'div',
            { class: 'faq-group' },
            h('h3', {}, CATEGORIES[category] || category),
            entries.map(faqItem),
          ),
        ),
      );
    })
    .catch((error) => {
      if (!ctx.isCurrent()) return;
      const box = alertBox('error');
      showMessage(box, error);
      body.replaceChildren(box);
    });
  return card(
    { id: 'faq-title', title: 'Frequently asked questions' },
    body,
  );
}

function ticketsCard(ctx) {
  const errors = alertBox('error');
  const summary = h('p', { class: 'muted', id: 'tickets-summary' }, 'Loading your tickets…');
  const tbody = h('tbody');
  const tableWrap = h(
    'div',
    { class: 'table-wrap', hidden: true },
    h(
      'table',
      { class: 'table tickets-table', 'aria-describedby': 'tickets-summary' },
      h('caption', { class: 'visually-hidden' }, 'Your support tickets'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Subject', 'Status', 'Priority', 'Last update'].map((title) =>
            h('th', { scope: 'col' }, title),
          ),
        ),
      ),
      tbody,
    ),
  );
  let page = 1;
  const pages = pager({
    label: 'Ticket pages',
    previous: 'Newer tickets',
    next: 'Older tickets',
    onPage: (wanted) => {
      page = wanted;
      load();
    },
  });

  const load = async () => {
    try {
      const data = await api.get(`/api/support/tickets?page=${page}&per_page=${PER_PAGE}`);
      if (!ctx.isCurrent()) return;
      showMessage(errors, null);
      tbody.replaceChildren(
        ...data.tickets.map((ticket) =>
          h(
            'tr',
            { dataset: { ticketId: ticket.id } },
            h(
              'th',
              { scope: 'row', dataset: { label: 'Subject' } },
              h('a', { href: `/app/support/tickets/${ticket.id}` }, ticket.subject),
            ),
            h('td', { dataset: { label: 'Status' } }, ticketStatusBadge(ticket.status)),
            h('td', { dataset: { label: 'Priority' } }, priorityName(ticket.priority)),
            h('td', { dataset: { label: 'Last update' } }, timeElement(ticket.updated_at)),
          ),
        ),
      );
      setText(summary, countSentence(data, 'ticket', 'You have no tickets.'));
      show(tableWrap, data.tickets.length > 0);
      pages.update(data.page, pageCount(data));
    } catch (error) {
      if (ctx.isCurrent()) showMessage(errors, error);
    }
  };
  load();
  const element = card(
    { id: 'tickets-title', title: 'Your tickets' },
    summary,
    errors,
    tableWrap,
    pages.element,
  );
  const reload = () => {
    page = 1;
    return load();
  };
  return { element, reload };
}

function newTicketCard(onOpened) {
  const subject = field({
    label: 'Subject',
    type: 'text',
    name: 'subject',
    maxlength: String(SUBJECT_MAX),
    hint: 'In a few words, e.g. “Cannot connect to nemordp-12”.',
    required: true,
  });
  const priority = field({ label: 'Priority', tag: 'select', name: 'priority' });
  priority.input.append(
    ...PRIORITIES.map((item) => h('option', { value: item.value }, `${item.label} — ${item.hint}`)),
  );
  priority.input.value = 'medium';
  const message = field({
    label: 'Message',
    tag: 'textarea',
    name: 'message',
    rows: '6',
    maxlength: String(MESSAGE_MAX),
    hint: 'What happened, on which machine, and what you tried. Never send passwords.',
    required: true,
  });
  const { form } = submitForm({
    children: [subject.element, priority.element, message.element],
    label: 'Send ticket',
    busyLabel: 'Sending…',
    focusDone: true,
    fields: { subject, priority, message },
    validate: () =>
      requireFilled([
        [subject, 'Give the ticket a subject.'],
        [message, 'Tell us what happened.'],
      ]),
    send: async () => {
      const ticket = await api.post('/api/support/tickets', {
        subject: subject.input.value.trim(),
        priority: priority.input.value,
        message: message.input.value,
      });
      subject.input.value = '';
      message.input.value = '';
      priority.input.value = 'medium';
      await onOpened();
      return h(
        'p',
        {},
        `Ticket #${ticket.id} is open; we answer by e-mail and on `,
        h('a', { href: `/app/support/tickets/${ticket.id}` }, 'its page'),
        '.',
      );
    },
  });
  return card({ id: 'new-ticket-title', title: 'Open a ticket' }, form);
}

function contactCard() {
  const email = supportEmail();
  return card(
    { id: 'contact-title', title: 'Contact' },
    h(
      'dl',
      { class: 'facts' },
      h(
        'div',
        { class: 'fact' },
        h('dt', {}, 'E-mail'),
        h('dd', {}, h('a', { href: mailtoHref(email) }, email)),
      ),
      h('div', { class: 'fact' }, h('dt', {}, 'Answer within'), h('dd', {}, '24 hours')),
      h(
        'div',
        { class: 'fact' },
        h('dt', {}, 'Emergencies'),
        h('dd', {}, 'Open a ticket with Urgent priority: it pages the team on call.'),
      ),
    ),
  );
}

function helpCard() {
  return card(
    { id: 'help-title', title: 'Help pages' },
    h(
      'ul',
      { class: 'link-list' },
      HELP_PAGES.map((item) => h('li', {}, h('a', { href: item.href }, item.label))),
      h('li', {}, h('a', { href: '/help' }, 'All help pages')),
    ),
  );
}

export default {
  title: 'Support',
  mount(main, ctx) {
    const tickets = ticketsCard(ctx);
    main.append(
      h('div', { class: 'page-header' }, h('h1', {}, 'Support')),
      h(
        'p',
        { class: 'lead' },
        'Find an answer below, or open a ticket and we will get back to you.',
      ),
      h(
        'div',
        { class: 'support-grid' },
        h('div', { class: 'stack' }, faqCard(ctx), tickets.element),
        h(
          'div',
          { class: 'stack' },
          newTicketCard(tickets.reload),
          contactCard(),
          helpCard(),
        ),
      ),
    );
  },
};
