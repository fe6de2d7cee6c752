"""The leader's alarm jobs, built from the settings: evaluation (when a catalogue is set and
evaluation is on), the baseline expectations it uses, and the e-mail outbox (when an SMTP
host is set)."""

from __future__ import annotations

from functools import partial

from polis.common.catalogue import Catalogue, load_catalogue
from polis.common.logging import get_logger
from polis.gateway.application.alarm_facts import Baselines, Spans
from polis.gateway.application.alarm_job import AlarmJob, Leader
from polis.gateway.application.alarm_ports import Evaluator, Expectations
from polis.gateway.application.context import Services
from polis.gateway.coordination.leader import Job
from polis.gateway.coordination.mail_outbox import MailOutbox, MailStore
from polis.gateway.settings import GatewaySettings
from polis.gateway.smtp_mail import SmtpSender
from polis.gateway.state import GatewayState

log = get_logger(__name__)


def default_evaluator(settings: GatewaySettings, catalogue: Catalogue) -> Evaluator:
    """The engine over the readings in InfluxDB (the adapter's raw bucket)."""
    from polis.alarms.evaluator import AlarmEvaluator
    from polis.common.influx import InfluxStore

    return AlarmEvaluator(
        catalogue, InfluxStore.from_settings(settings), time_scale=settings.clock_speed
    )


def after_hours_spans(catalogue: Catalogue) -> Spans:
    """The unoccupied hours energy.after_hours judges, per building, at a time."""
    from polis.alarms.bindings import bind
    from polis.alarms.rules.energy import after_hours_spans as spans

    return partial(spans, bind(catalogue))


def evaluation_job(
    settings: GatewaySettings,
    services: Services,
    savings: Expectations,
    leader: Leader | None,
    evaluator: Evaluator | None = None,
) -> AlarmJob | None:
    if not settings.gateway_alarm_evaluation:
        return None
    if settings.catalogue is None:
        log.warning("alarm rules not evaluated: no POLIS_CATALOGUE")
        return None
    catalogue = load_catalogue(settings.catalogue)
    start, end = settings.gateway_alarm_baseline_start, settings.gateway_alarm_baseline_end
    buildings = [b.id for b in catalogue.buildings]
    baselines = Baselines(
        savings,
        buildings,
        (start, end) if start is not None and end is not None else None,
        catalogue.timezone,
        after_hours_spans(catalogue),
    )
    return AlarmJob(
        services,
        evaluator or default_evaluator(settings, catalogue),
        buildings,
        baselines,
        leader=leader,
        public_url=settings.gateway_public_url,
        plans_timeout_s=2 * settings.grpc_deadline_s,
    )


def mail_outbox(settings: GatewaySettings, state: GatewayState) -> MailOutbox | None:
    if settings.gateway_smtp_host is None or settings.gateway_smtp_from is None:
        return None
    sender = SmtpSender(
        host=settings.gateway_smtp_host,
        port=settings.gateway_smtp_port,
        sender=settings.gateway_smtp_from,
        starttls=settings.gateway_smtp_starttls,
        username=settings.gateway_smtp_username,
        password=settings.gateway_smtp_password,
        timeout_s=settings.gateway_smtp_timeout_s,
    )
    return MailOutbox(
        state.services.db,
        MailStore(state.engine, state.clock.now),
        sender,
        state.clock.now,
        max_attempts=settings.gateway_mail_max_attempts,
        backoff_s=settings.gateway_mail_backoff_s,
        public_url=settings.gateway_public_url,
    )


def alarm_jobs(
    settings: GatewaySettings,
    state: GatewayState,
    savings: Expectations,
    leader: Leader,
    evaluator: Evaluator | None = None,
) -> list[Job]:
    """Evaluation every ``POLIS_GATEWAY_ALARM_INTERVAL_S`` of the Polis clock (the jobs sleep
    on the wall clock), baselines refreshed as often, and the mail outbox."""
    jobs: list[Job] = []
    every_s = state.clock.wall_seconds(settings.gateway_alarm_interval_s)
    job = evaluation_job(settings, state.services, savings, leader, evaluator)
    if job is not None:
        # Baselines apart: a day's fits take seconds per building and must not delay rounds.
        jobs += [
            Job("alarm-baselines", every_s, job.refresh_baselines),
            Job("alarms", every_s, job.run_once),
        ]
    outbox = mail_outbox(settings, state)
    if outbox is not None:
        jobs.append(Job("alarm-mail", settings.gateway_mail_poll_s, outbox.run_once))
    return jobs
