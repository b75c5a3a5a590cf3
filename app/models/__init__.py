"""The data model; the schema itself changes only through migrations/."""

from app.models.account import EmailToken, EmailTokenPurpose, RecoveryCode
from app.models.api_token import ApiToken
from app.models.audit import AuditEvent
from app.models.billing import Invoice, Subscription, WebhookEvent
from app.models.instance import Instance, InstanceStatus
from app.models.job import ACTIVE_JOB_STATES, Job, JobState
from app.models.login import Login, LoginChallenge
from app.models.plan import Plan
from app.models.reconcile_finding import FindingDecision, FindingGuard, ReconcileFinding
from app.models.snapshot import Snapshot, SnapshotStatus
from app.models.ssh_key import SshKey, instance_ssh_keys
from app.models.support import SupportTicket, TicketMessage, TicketPriority, TicketStatus
from app.models.usage import InstanceUsage, OrphanMachine
from app.models.user import OsType, Role, User

__all__ = [
    "ACTIVE_JOB_STATES",
    "ApiToken",
    "AuditEvent",
    "EmailToken",
    "EmailTokenPurpose",
    "FindingDecision",
    "FindingGuard",
    "Instance",
    "InstanceStatus",
    "InstanceUsage",
    "Invoice",
    "Job",
    "JobState",
    "Login",
    "LoginChallenge",
    "OrphanMachine",
    "OsType",
    "Plan",
    "ReconcileFinding",
    "RecoveryCode",
    "Role",
    "Snapshot",
    "SnapshotStatus",
    "SshKey",
    "Subscription",
    "SupportTicket",
    "TicketMessage",
    "TicketPriority",
    "TicketStatus",
    "User",
    "WebhookEvent",
    "instance_ssh_keys",
]
