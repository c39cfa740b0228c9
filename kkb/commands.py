"""Operator commands contributed by the services (``kkb seed``, ``kkb users add`` …)."""

import argparse


def register_commands(sub: argparse._SubParsersAction) -> None:
    """Each service adds its subcommands here as it grows."""
    from gateway.cli import register as register_gateway

    register_gateway(sub)
    from services.registry.cli import register_registry_commands

    register_registry_commands(sub)
    from services.registry.growth_cli import register_growth_commands

    register_growth_commands(sub)
    from services.reporting.cli import register_reporting_commands

    register_reporting_commands(sub)
    from services.registry.dukcapil_cli import register_dukcapil_commands

    register_dukcapil_commands(sub)
