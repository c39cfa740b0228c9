"""Operator commands contributed by the services (``kkb seed``, ``kkb users add`` …)."""

import argparse


def register_commands(sub: argparse._SubParsersAction) -> None:
    """Each service adds its subcommands here as it grows."""
    from gateway.cli import register as register_gateway

    register_gateway(sub)
