"""The hub's periodic jobs, in the order `recado tick` and `recado run` start them."""

from __future__ import annotations

from hub.core.billing import ACTIVATIONS_JOB
from hub.core.campaigns_sms import SEND_SMS
from hub.core.campaigns_stale import RELEASE_STALE
from hub.core.lifecycle_jobs import LIFECYCLE_JOBS
from hub.core.report_delivery import MONTHLY_JOB
from hub.core.retention import RETENTION_JOB
from hub.core.scheduler import Job

#: Every periodic job of the hub. Each is idempotent for a given time (see `hub.core.scheduler`).
JOBS: list[Job] = [SEND_SMS, RELEASE_STALE, *LIFECYCLE_JOBS, MONTHLY_JOB, RETENTION_JOB, ACTIVATIONS_JOB]
