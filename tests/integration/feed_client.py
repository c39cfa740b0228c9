"""Reading the public feed to the end, as a consumer would."""

from typing import Any

import httpx


def read_until_caught_up(
    client: httpx.Client, after: str | None = None, **headers: str
) -> tuple[list[dict[str, Any]], str]:
    """Every event available now after ``after``, and the cursor to continue from."""
    events: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": 200}
        if after:
            params["after"] = after
        resp = client.get("/v1/events", params=params, headers=headers)
        assert resp.status_code == 200, resp.text
        page = resp.json()
        events += page["items"]
        after = page["next_cursor"]
        if not page["has_more"]:
            return events, after
