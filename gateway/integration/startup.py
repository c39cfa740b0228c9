"""Start and stop the integration layer with the gateway (see gateway/main.py)."""

import asyncio

from fastapi import FastAPI

from gateway.integration.dispatcher import Dispatcher
from gateway.integration.secret_box import SecretBox
from gateway.integration.sender import Sender
from gateway.integration.settings import IntegrationSettings
from gateway.integration.sources import FeedSources
from gateway.integration.ssrf import AddressPolicy, internal_endpoints
from gateway.integration.state import IntegrationState


async def start_integration(app: FastAPI) -> None:
    settings = IntegrationSettings()
    gateway = app.state.settings
    secret = app.state.common.internal_secret
    urls = {"registry": gateway.registry_url, "interventions": gateway.interventions_url}
    internal = await internal_endpoints(
        [gateway.public_url, gateway.registry_url, gateway.interventions_url, gateway.reporting_url]
    )
    state = IntegrationState(
        settings=settings,
        sources=FeedSources(urls, secret, settings.events_source_timeout_s),
        policy=AddressPolicy(
            allow_loopback=settings.webhook_allow_loopback,
            allow_private=settings.webhook_allow_private,
            internal=internal,
        ),
        box=SecretBox(app.state.common.pii_key),
    )
    app.state.integration = state
    if not settings.webhook_enabled:
        return
    sender = Sender(app.state.sessionmaker, settings, state.policy, state.retry, state.box)
    dispatcher = Dispatcher(app.state.sessionmaker, state.sources, settings, sender.wake)
    state.wake.append(sender.wake)
    app.state.webhook_sender = sender
    app.state.background.append(asyncio.create_task(dispatcher.run(app.state.stop)))
    app.state.background.append(asyncio.create_task(sender.run(app.state.stop)))


async def stop_integration(app: FastAPI) -> None:
    sender: Sender | None = getattr(app.state, "webhook_sender", None)
    if sender is not None:
        await sender.aclose()
    await app.state.integration.sources.aclose()
