"""The gateway's alarm and e-mail settings as deployments pass them (compose and the k8s config
map pass unset ones as ""), the combinations refused by name, and the mail texts (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from polis.alarms.model import Severity
from polis.common.settings import SettingsError, load_settings
from polis.gateway.domain.alarm_mail import DigestLine, alarm_link, digest, immediate
from polis.gateway.domain.alarms import AlarmState, AlarmView, ChangeKind
from polis.gateway.settings import GatewaySettings

pytestmark = pytest.mark.unit

DEPLOYED = {
    "POLIS_GATEWAY_SMTP_HOST": "",
    "POLIS_GATEWAY_SMTP_PORT": "587",
    "POLIS_GATEWAY_SMTP_FROM": "",
    "POLIS_GATEWAY_SMTP_STARTTLS": "true",
    "POLIS_GATEWAY_SMTP_USERNAME": "",
    "POLIS_GATEWAY_SMTP_PASSWORD": "",
    "POLIS_GATEWAY_PUBLIC_URL": "",
    "POLIS_GATEWAY_ALARM_BASELINE_START": "",
    "POLIS_GATEWAY_ALARM_BASELINE_END": "",
}


def test_the_deployed_defaults_mean_no_mail_and_no_baseline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in DEPLOYED.items():
        monkeypatch.setenv(name, value)
    # in production too: an empty password is "none", not a placeholder secret
    monkeypatch.setenv("POLIS_ENVIRONMENT", "production")
    monkeypatch.setenv("POLIS_INFLUX_TOKEN", "a-real-influx-token-value")
    monkeypatch.setenv("POLIS_JWT_SECRET", "x" * 40)
    s = load_settings(GatewaySettings)
    assert s.gateway_smtp_host is None
    assert s.gateway_smtp_password is None
    assert s.gateway_public_url is None
    assert (s.gateway_alarm_baseline_start, s.gateway_alarm_baseline_end) == (None, None)
    assert (s.gateway_alarm_evaluation, s.gateway_alarm_interval_s) == (True, 60.0)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"POLIS_GATEWAY_SMTP_HOST": "smtp.example.org"}, "POLIS_GATEWAY_SMTP_FROM"),
        ({"POLIS_GATEWAY_ALARM_BASELINE_START": "2025-01-01T00:00:00Z"}, "BASELINE"),
        (
            {
                "POLIS_GATEWAY_ALARM_BASELINE_START": "2026-01-01T00:00:00Z",
                "POLIS_GATEWAY_ALARM_BASELINE_END": "2025-01-01T00:00:00Z",
            },
            "POLIS_GATEWAY_ALARM_BASELINE_END",
        ),
        ({"POLIS_GATEWAY_ALARM_INTERVAL_S": "0"}, "POLIS_GATEWAY_ALARM_INTERVAL_S"),
        ({"POLIS_GATEWAY_SMTP_PORT": "smtp"}, "POLIS_GATEWAY_SMTP_PORT"),
    ],
)
def test_bad_combinations_are_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=named):
        load_settings(GatewaySettings)


AT = datetime(2026, 3, 2, 6, 30, tzinfo=UTC)
ALARM = AlarmView(
    id=7,
    rule="energy.after_hours",
    building="school-1",
    subject="",
    points=("larissa/school-1/main/energy",),
    severity=Severity.MAJOR,
    message="building school-1: 31.0 kW over the last 3 unoccupied hours, expected 12.0 kW",
    first_seen=AT,
    last_seen=AT,
    state=AlarmState.ACTIVE,
)


def test_mail_texts() -> None:
    raised = immediate(ChangeKind.RAISED, ALARM, "https://polis.example/")
    assert raised.subject == "[Polis] major alarm raised: energy.after_hours at school-1"
    assert "Subject:    (the building)" in raised.body
    assert "First seen: 2026-03-02 06:30 UTC" in raised.body
    assert "https://polis.example/dashboard/alarm?id=7" in raised.body
    assert alarm_link(None, 7) == "/dashboard/alarm?id=7"
    lines = [
        DigestLine(ChangeKind.CLEARED, AT, ALARM),
        DigestLine(ChangeKind.RAISED, AT.replace(hour=5), ALARM),
    ]
    text = digest(lines, AT.replace(hour=0, minute=0), AT, None)
    assert text.subject == "[Polis] alarm digest: 1 raised, 1 cleared"
    body = text.body.splitlines()
    assert body[0] == "Alarms since 2026-03-02 00:00 UTC, up to 2026-03-02 06:30 UTC."
    assert body.index("Raised (1):") < body.index("Cleared (1):")
    clipped = immediate(ChangeKind.CLEARED, replace(ALARM, subject="z" * 400), None).subject
    assert len(clipped) == 300
    assert clipped.endswith("…")
