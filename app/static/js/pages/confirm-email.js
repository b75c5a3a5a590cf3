// The link e-mailed to a new address (/confirm-email?token=…): one button confirms it with
// POST /api/account/email/confirm. A button, not an automatic request, so that mail scanners
// opening links change nothing.

import { api } from '../lib/api.js';
import { h } from '../lib/dom.js';
import { alertBox, showMessage, whileBusy } from '../lib/forms.js';
import { forgetUser } from '../lib/session.js';

export default {
  title: 'Confirm your e-mail address',
  public: true,
  mount(main, ctx) {
    const token = ctx.query.get('token');
    const heading = h('h1', { tabindex: '-1' }, 'Confirm your new e-mail address');
    if (!token) {
      main.append(
        heading,
        h('p', { class: 'alert alert-error', role: 'alert' }, 'This link is incomplete.'),
        h('p', {}, 'Open the link from the e-mail again, or ask for a new one in your settings.'),
        h('p', {}, h('a', { href: '/app/settings' }, 'Go to your settings')),
      );
      return;
    }
    const errors = alertBox('error');
    const submit = h(
      'button',
      { type: 'submit', class: 'button button-primary button-block' },
      'Confirm new address',
    );
    const form = h('form', { class: 'stack', novalidate: true }, errors, submit);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      showMessage(errors, null);
      await whileBusy(submit, 'Confirming…', async () => {
        try {
          const answer = await api.post('/api/account/email/confirm', { token });
          forgetUser();
          const settings = h(
            'a',
            { class: 'button button-primary', href: '/app/settings' },
            'Go to your settings',
          );
          main.replaceChildren(
            h('h1', { tabindex: '-1' }, 'E-mail address changed'),
            h('p', { class: 'alert alert-success', role: 'status' }, answer.message),
            h('p', {}, 'Log in with the new address from now on.'),
            h('p', {}, settings),
          );
          main.querySelector('h1').focus();
        } catch (error) {
          showMessage(errors, error);
          submit.focus();
        }
      });
    });
    main.append(
      heading,
      h(
        'p',
        { class: 'lead' },
        'Your account keeps its current address until you confirm the new one.',
      ),
      form,
    );
  },
};
