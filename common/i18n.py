"""Language negotiation: Indonesian (id) and English (en)."""

from contextvars import ContextVar

SUPPORTED = ("id", "en")
Text = str | dict[str, str]

current_lang: ContextVar[str] = ContextVar("current_lang", default="en")


def negotiate(accept_language: str | None, default: str = "en") -> str:
    """Pick id or en from an Accept-Language header, honouring q-values."""
    if not accept_language:
        return default
    best, best_q = default, -1.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        lang = tag.strip().lower().split("-")[0]
        if lang in SUPPORTED and q > best_q:
            best, best_q = lang, q
    return best


def tr(text: Text, lang: str | None = None) -> str:
    if isinstance(text, str):
        return text
    lang = lang or current_lang.get()
    return text.get(lang) or text.get("en") or next(iter(text.values()))
