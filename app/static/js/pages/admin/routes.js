// The operator console's addresses, under /app/admin.

import audit from './audit.js';
import billing from './billing.js';
import catalogue from './catalogue.js';
import customer from './customer.js';
import customers from './customers.js';
import jobs from './jobs.js';
import machine from './machine.js';
import machines from './machines.js';
import overview from './overview.js';
import reconciliation from './reconciliation.js';

export const ADMIN_ROUTES = [
  { path: '/app/admin', page: overview },
  { path: '/app/admin/customers', page: customers },
  { path: '/app/admin/customers/:id', page: customer },
  { path: '/app/admin/machines', page: machines },
  { path: '/app/admin/machines/:id', page: machine },
  { path: '/app/admin/jobs', page: jobs },
  { path: '/app/admin/reconciliation', page: reconciliation },
  { path: '/app/admin/billing', page: billing },
  { path: '/app/admin/catalogue', page: catalogue },
  { path: '/app/admin/audit', page: audit },
];
