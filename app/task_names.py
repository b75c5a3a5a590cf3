"""The name of every Celery task, in one place.

Tasks are declared with these names and sent by them (`app.services.tasks.enqueue`), so the
web side never imports task code and no name is spelt twice. A name is "<area>.<action>";
the area picks the queue (`app.tasking.TASK_ROUTES`).
`tests/architecture/test_lifecycle.py` fails on a task name written out anywhere else.
"""

from __future__ import annotations

# -- machines ------------------------------------------------------------------------------
CREATE_MACHINE = "provisioning.create_machine"
RESTART = "instances.restart"
STOP = "instances.stop"
START = "instances.start"
TERMINATE = "instances.terminate"
REINSTALL = "instances.reinstall"
CREATE_SNAPSHOT = "instances.create_snapshot"
CHECK_SNAPSHOT = "instances.check_snapshot"
RESTORE_SNAPSHOT = "instances.restore_snapshot"
DELETE_SNAPSHOT = "instances.delete_snapshot"
DROP_SNAPSHOTS = "instances.drop_snapshots"
CHECK_MACHINES = "instances.check_machines"

# -- accounts ------------------------------------------------------------------------------
DELETE_ACCOUNT = "accounts.delete"

# -- billing -------------------------------------------------------------------------------
PROCESS_STRIPE_EVENT = "billing.process_event"
CHANGE_PLAN = "billing.change_plan"
CANCEL_SUBSCRIPTION = "billing.cancel_subscription"
END_SUBSCRIPTION = "billing.end_subscription"
SETTLE_UNDELIVERED = "billing.settle_undelivered"
EXPIRE_UNPAID_ORDERS = "billing.expire_unpaid_orders"
ERASE_CUSTOMER = "billing.erase_customer"
SUSPEND_OVERDUE = "billing.suspend_overdue"
SYNC_INVOICES = "billing.sync_invoices"

# -- e-mail --------------------------------------------------------------------------------
SEND_WELCOME = "email.send_welcome"
SEND_JOB_ALERT = "email.send_job_alert"
SEND_ALERT = "email.send_alert"
SEND_PASSWORD_RESET = "email.send_password_reset"
SEND_EMAIL_CHANGE_CONFIRMATION = "email.send_email_change_confirmation"
SEND_EMAIL_CHANGED_NOTICE = "email.send_email_changed_notice"
SEND_SECURITY_NOTICE = "email.send_security_notice"
SEND_SUPPORT_TICKET_MESSAGE = "email.send_support_ticket_message"
SEND_TICKET_REPLY = "email.send_ticket_reply"
SEND_URGENT_TICKET_ALERT = "email.send_urgent_ticket_alert"
SEND_PAYMENT_FAILED = "email.send_payment_failed"
SEND_REFUND = "email.send_refund"
SEND_IDLE_STOP_NOTICE = "email.send_idle_stop_notice"
SEND_SUSPENSION_NOTICE = "email.send_suspension_notice"

# -- scheduled work (beat) -----------------------------------------------------------------
POLL_USAGE = "periodic.poll_usage"
POLL_USAGE_BATCH = "periodic.poll_usage_batch"
STOP_IDLE = "periodic.stop_idle"
RECONCILE = "periodic.reconcile"
RECONCILE_PROVIDER = "periodic.reconcile_provider"
SWEEP_STUCK_JOBS = "periodic.sweep_stuck_jobs"
CHECK_ALERTS = "periodic.check_alerts"
