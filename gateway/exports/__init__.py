"""Asynchronous bulk export: jobs in the gateway's schema, datasets streamed from the
services that own them into files, downloaded by expiring signed links."""
