"""Bulk export of registry datasets as streamed NDJSON for the gateway's export job."""
