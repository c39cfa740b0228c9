"""What the integration layer keeps on ``app.state.integration``."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import Request

from gateway.integration.delivery_rules import RetryPolicy
from gateway.integration.secret_box import SecretBox
from gateway.integration.settings import IntegrationSettings
from gateway.integration.sources import FeedSources
from gateway.integration.ssrf import AddressPolicy


@dataclass
class IntegrationState:
    settings: IntegrationSettings
    sources: FeedSources
    policy: AddressPolicy
    box: SecretBox
    # Senders of this process, told when a subscription has something to send now.
    wake: list[Callable[[set[uuid.UUID]], None]] = field(default_factory=list)

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            base_s=self.settings.webhook_backoff_base_s,
            max_s=self.settings.webhook_backoff_max_s,
            window=timedelta(seconds=self.settings.webhook_retry_window_s),
        )

    def notify(self, subscription_ids: set[uuid.UUID]) -> None:
        for wake in self.wake:
            wake(subscription_ids)


def integration(request: Request) -> IntegrationState:
    return request.app.state.integration
