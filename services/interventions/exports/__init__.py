"""Bulk export of interventions datasets as streamed NDJSON for the gateway's export job."""
