// The catalogue: which plans and regions take new orders, and the price of new orders.
// A price change makes a new Stripe price for new orders only; existing subscriptions keep
// theirs, as the page says.

import { ApiError, api } from '../../lib/api.js';
import { card, h, replaceChildren } from '../../lib/dom.js';
import { money, regionName, sortRegions, timeElement } from '../../lib/format.js';
import { field, requireFilled, submitForm } from '../../lib/forms.js';
import {
  centsOf,
  consoleHeader,
  dataTable,
  guarded,
  isAdmin,
  noticeBox,
  reasonButton,
} from './console.js';

function regionsCell(plan) {
  const closed = new Set(plan.closed_regions);
  return h(
    'ul',
    { class: 'region-list' },
    sortRegions(plan.regions).map((code) =>
      h(
        'li',
        { class: closed.has(code) ? 'is-closed' : null },
        regionName(code),
        closed.has(code) ? ' (closed)' : null,
      ),
    ),
  );
}

export default {
  title: 'Catalogue',
  async mount(main, ctx) {
    const first = await guarded(main, ctx, () => api.get('/api/admin/catalogue'));
    if (!first || !ctx.isCurrent()) return;
    let data = first;
    const admin = isAdmin(ctx.user);
    const notice = noticeBox();
    const content = h('div');

    const changed = async (message) => {
      data = await api.get('/api/admin/catalogue');
      if (!ctx.isCurrent()) return;
      render();
      notice.say(message);
    };
    const patch = (plan, body) => api.patch(`/api/admin/catalogue/plans/${plan.id}`, body);

    const actions = ({ plan }) => {
      if (!admin) return '—';
      const open = plan.orderable;
      return h(
        'div',
        { class: 'button-row' },
        reasonButton({
          label: open ? 'Close…' : 'Open…',
          name: `${open ? 'Close' : 'Open'} ${plan.name} to new orders`,
          title: `${open ? 'Close' : 'Open'} ${plan.name} to new orders?`,
          body: open
            ? 'Nobody can order it any more; machines already on it keep running.'
            : 'Customers can order it again.',
          confirmLabel: open ? 'Close to new orders' : 'Open to new orders',
          danger: open,
          send: (values) => patch(plan, { ...values, orderable: !open }),
          done: () => changed(`${plan.name} is ${open ? 'closed' : 'open'} to new orders.`),
        }),
        reasonButton({
          label: 'Price…',
          name: `Change the price of ${plan.name}`,
          title: `New price for ${plan.name}`,
          body:
            `Now ${money(plan.price_cents, plan.currency)} a month. The new price applies to ` +
            'new orders only: existing subscriptions keep the price they were sold at.',
          confirmLabel: 'Change price',
          inputs: [
            {
              name: 'price_cents',
              label: `Monthly price (${plan.currency.toUpperCase()})`,
              inputmode: 'decimal',
              autocomplete: 'off',
              required: true,
            },
          ],
          send: (values) => {
            const cents = centsOf(values.price_cents);
            if (cents === null) {
              throw new ApiError(422, 'validation_error', 'Check the price.', {
                price_cents: ['Give a price such as 35.00.'],
              });
            }
            return patch(plan, { reason: values.reason, price_cents: cents });
          },
          done: (updated) =>
            changed(
              `New orders of ${plan.name} cost ` +
                `${money(updated.price_cents, updated.currency)} a month.`,
            ),
        }),
        reasonButton({
          label: 'Regions…',
          name: `Choose the regions closed for ${plan.name}`,
          title: `Regions closed for ${plan.name}`,
          body: `Offered in ${sortRegions(plan.regions).join(', ')}.`,
          confirmLabel: 'Save regions',
          inputs: [
            {
              name: 'closed_regions',
              label: 'Closed to new orders',
              hint: 'Region codes separated by commas; leave it empty to open them all.',
              autocomplete: 'off',
              value: plan.closed_regions.join(', '),
            },
          ],
          send: (values) =>
            patch(plan, {
              reason: values.reason,
              closed_regions: values.closed_regions
                .split(',')
                .map((code) => code.trim())
                .filter(Boolean),
            }),
          done: () => changed(`The regions of ${plan.name} are saved.`),
        }),
      );
    };

    const regionForm = () => {
      const codes = sortRegions([...new Set(data.plans.flatMap(({ plan }) => plan.regions))]);
      const region = field({ label: 'Region', tag: 'select', name: 'region' });
      region.input.append(...codes.map((code) => h('option', { value: code }, regionName(code))));
      const open = field({ label: 'New orders there', tag: 'select', name: 'open' });
      open.input.append(
        h('option', { value: 'false' }, 'Refused for every plan'),
        h('option', { value: 'true' }, 'Taken again for every plan'),
      );
      const reason = field({
        label: 'Reason',
        name: 'reason',
        maxlength: '500',
        autocomplete: 'off',
      });
      const { form } = submitForm({
        children: [region.element, open.element, reason.element],
        label: 'Apply to every plan',
        busyLabel: 'Saving…',
        fields: { region, open, reason },
        validate: () => requireFilled([[reason, 'Say why: it is kept in the audit log.']]),
        send: async () => {
          await api.post('/api/admin/catalogue/regions', {
            region: region.input.value,
            open: open.input.value === 'true',
            reason: reason.input.value,
          });
          await changed(
            `${regionName(region.input.value)} ` +
              `${open.input.value === 'true' ? 'takes' : 'refuses'} new orders.`,
          );
          return null;
        },
      });
      return card({ id: 'region-title', title: 'A region for every plan' }, form);
    };

    const render = () =>
      replaceChildren(
        content,
        h('p', { class: 'alert alert-info' }, data.note),
        dataTable({
          caption: 'Plans',
          columns: [
            {
              label: 'Plan',
              head: true,
              cell: ({ plan }) =>
                h(
                  'span',
                  {},
                  h('strong', {}, plan.name),
                  h('span', { class: 'muted small block mono' }, plan.code),
                ),
            },
            {
              label: 'Price',
              cell: ({ plan }) =>
                h(
                  'span',
                  {},
                  `${money(plan.price_cents, plan.currency)} a month`,
                  plan.price_changed_at
                    ? h(
                        'span',
                        { class: 'muted small block' },
                        'Changed ',
                        timeElement(plan.price_changed_at),
                      )
                    : null,
                ),
            },
            {
              label: 'New orders',
              cell: ({ plan }) =>
                plan.orderable
                  ? h('span', { class: 'badge badge-ok' }, 'Open')
                  : h('span', { class: 'badge badge-warn' }, 'Closed'),
            },
            { label: 'Regions', cell: ({ plan }) => regionsCell(plan) },
            { label: 'Live machines', numeric: true, cell: (row) => row.live_machines },
            { label: 'Change', cell: actions },
          ],
          rows: data.plans,
          rowAttrs: ({ plan }) => ({ dataset: { plan: plan.code } }),
        }),
        admin ? regionForm() : null,
      );

    ctx.setTitle('Catalogue · Operator console');
    render();
    main.append(...consoleHeader(ctx, 'Catalogue'), notice.element, content);
  },
};
