"""RFC 9457 problem+json for every error, rendered once, in the caller's language."""

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from common.i18n import Text, current_lang, tr

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "/problems/"

log = structlog.get_logger()

# Generic titles by status, used when a problem carries no title of its own.
_STATUS_TITLES: dict[int, tuple[str, dict[str, str]]] = {
    400: ("bad_request", {"en": "Bad request", "id": "Permintaan tidak valid"}),
    401: ("unauthorized", {"en": "Authentication required", "id": "Perlu autentikasi"}),
    403: ("forbidden", {"en": "Not allowed", "id": "Tidak diizinkan"}),
    404: ("not_found", {"en": "Not found", "id": "Tidak ditemukan"}),
    405: ("method_not_allowed", {"en": "Method not allowed", "id": "Metode tidak diizinkan"}),
    409: ("conflict", {"en": "Conflict", "id": "Konflik"}),
    412: ("precondition_failed", {"en": "Record has changed", "id": "Data sudah berubah"}),
    413: (
        "payload_too_large",
        {"en": "Request body too large", "id": "Isi permintaan terlalu besar"},
    ),
    415: (
        "unsupported_media_type",
        {"en": "Unsupported media type", "id": "Jenis media tidak didukung"},
    ),
    422: ("validation_error", {"en": "Invalid input", "id": "Masukan tidak valid"}),
    428: (
        "precondition_required",
        {"en": "If-Match header required", "id": "Header If-Match wajib"},
    ),
    429: ("rate_limited", {"en": "Too many requests", "id": "Terlalu banyak permintaan"}),
    500: ("internal_error", {"en": "Internal error", "id": "Kesalahan internal"}),
    503: ("service_unavailable", {"en": "Service unavailable", "id": "Layanan tidak tersedia"}),
}

# Indonesian wording for pydantic's error types; English comes from pydantic itself.
_VALIDATION_ID: dict[str, str] = {
    "missing": "Wajib diisi",
    "int_parsing": "Harus berupa bilangan bulat",
    "float_parsing": "Harus berupa angka",
    "bool_parsing": "Harus berupa true/false",
    "date_from_datetime_parsing": "Harus berupa tanggal (YYYY-MM-DD)",
    "date_parsing": "Harus berupa tanggal (YYYY-MM-DD)",
    "datetime_parsing": "Harus berupa waktu ISO-8601",
    "string_type": "Harus berupa teks",
    "string_too_short": "Terlalu pendek",
    "string_too_long": "Terlalu panjang",
    "string_pattern_mismatch": "Format tidak sesuai",
    "greater_than": "Nilai terlalu kecil",
    "greater_than_equal": "Nilai terlalu kecil",
    "less_than": "Nilai terlalu besar",
    "less_than_equal": "Nilai terlalu besar",
    "literal_error": "Nilai tidak dikenal",
    "enum": "Nilai tidak dikenal",
    "uuid_parsing": "Harus berupa UUID",
    "extra_forbidden": "Kolom tidak dikenal",
    "value_error": "Nilai tidak valid",
    "json_invalid": "JSON tidak valid",
    "model_attributes_type": "Harus berupa objek",
    "dict_type": "Harus berupa objek",
    "list_type": "Harus berupa daftar",
}


class ProblemError(Exception):
    """A domain or protocol error that renders as problem+json.

    ``code`` is the stable machine-readable part (also the last segment of ``type``);
    ``title``/``detail`` may be plain text or ``{"id": ..., "en": ...}``.
    """

    def __init__(
        self,
        status: int,
        code: str | None = None,
        title: Text | None = None,
        detail: Text | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        default_code, default_title = _STATUS_TITLES.get(status, ("error", {"en": "Error"}))
        self.status = status
        self.code = code or default_code
        self.title = title or default_title
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(tr(self.title, "en"))


def not_found(what: Text = "Record") -> ProblemError:
    detail = {
        "en": f"{tr(what, 'en')} not found or outside your region.",
        "id": f"{tr(what, 'id')} tidak ditemukan atau di luar wilayah Anda.",
    }
    return ProblemError(404, "not_found", detail=detail)


def field_error(loc: list[str | int], msg: Text, code: str = "invalid") -> dict[str, Any]:
    return {"loc": loc, "msg": msg, "code": code}


def problem_body(problem: ProblemError, request: Request | None = None) -> dict[str, Any]:
    lang = current_lang.get()
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + problem.code.replace("_", "-"),
        "title": tr(problem.title, lang),
        "status": problem.status,
        "code": problem.code,
    }
    if problem.detail is not None:
        body["detail"] = tr(problem.detail, lang)
    if request is not None:
        body["instance"] = request.url.path
        rid = getattr(request.state, "request_id", None)
        if rid:
            body["request_id"] = rid
    if problem.errors:
        body["errors"] = [
            {**e, "msg": tr(e["msg"], lang)} if "msg" in e else e for e in problem.errors
        ]
    body.update(problem.extra)
    return body


def problem_response(problem: ProblemError, request: Request | None = None) -> JSONResponse:
    return JSONResponse(
        problem_body(problem, request),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _validation_problem(exc: RequestValidationError) -> ProblemError:
    lang = current_lang.get()
    errors = []
    for err in exc.errors():
        kind = err.get("type", "value_error")
        if kind == "json_invalid":
            return ProblemError(
                400,
                "malformed_json",
                {"en": "Malformed JSON", "id": "JSON tidak valid"},
                {
                    "en": "The request body is not valid JSON: "
                    f"{err.get('ctx', {}).get('error', '')}",
                    "id": "Isi permintaan bukan JSON yang valid.",
                },
            )
        msg = err.get("msg", "")
        if lang == "id" and kind in _VALIDATION_ID and kind != "value_error":
            msg = _VALIDATION_ID[kind]
        errors.append({"loc": list(err.get("loc", [])), "msg": msg, "code": kind})
    return ProblemError(
        422,
        "validation_error",
        detail={
            "en": "Some fields are invalid; see errors.",
            "id": "Beberapa isian tidak valid; lihat errors.",
        },
        errors=errors,
    )


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem_response(_validation_problem(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        problem = ProblemError(exc.status_code, headers=dict(exc.headers or {}))
        if exc.status_code == 404:
            problem.detail = {
                "en": f"No route {request.method} {request.url.path}",
                "id": f"Tidak ada rute {request.method} {request.url.path}",
            }
        elif isinstance(exc.detail, str) and exc.detail:
            problem.detail = exc.detail
        return problem_response(problem, request)

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the log with the request id, never to the client.
        log.exception("unhandled_error", path=request.url.path)
        return problem_response(
            ProblemError(
                500,
                detail={
                    "en": "An internal error occurred; quote the request id.",
                    "id": "Terjadi kesalahan internal; sebutkan request id.",
                },
            ),
            request,
        )
