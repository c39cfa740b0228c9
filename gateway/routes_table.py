"""Which service answers which public path. The first segment after /v1 decides."""

SERVICE_BY_SEGMENT: dict[str, str] = {
    "regions": "registry",
    "sites": "registry",
    "lokus": "registry",
    "households": "registry",
    "persons": "registry",
    "life-events": "registry",
    "krs": "registry",
    "search": "registry",
    "duplicates": "registry",
    "growth": "registry",
    "measurements": "registry",
    "dukcapil": "registry",
    "fhir": "registry",
    "interventions": "interventions",
    "reporting": "reporting",
}


def service_for(path: str) -> str | None:
    """``/v1/households/…`` → ``registry``; None for paths no service owns."""
    parts = path.split("/", 3)
    if len(parts) < 3 or parts[1] != "v1":
        return None
    return SERVICE_BY_SEGMENT.get(parts[2])
