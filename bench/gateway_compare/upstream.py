"""A trivial upstream for measuring the gateway alone: a raw ASGI app answering every
request with the same small JSON body, so nearly all CPU time measured is the gateway's.

    uvicorn --factory bench.gateway_compare.upstream:create_app --port PORT
"""

import json

BODY = b'{"code":"61.04.16.2007","name":"Kali Nilam","level":"village"}'
# Enough of an OpenAPI document for the gateway's permission check on the bench path.
OPENAPI = json.dumps(
    {
        "openapi": "3.1.0",
        "info": {"title": "upstream", "version": "0"},
        "paths": {
            "/v1/regions/{code}": {
                "get": {"x-kkb-operation": "registry.region.read", "responses": {}}
            }
        },
    }
).encode()


def create_app():
    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        body = OPENAPI if scope["path"] == "/openapi.json" else BODY
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app
