"""Integration with other government systems: the public event feed and signed webhooks.

``/v1/events`` merges the registry and interventions change feeds into one stream with
a composite cursor; ``/v1/webhooks/subscriptions`` lets a system client receive the
same events pushed to its own endpoint, signed in the Standard Webhooks style.
"""
