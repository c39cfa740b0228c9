"""A Dukcapil web-service simulator for tests and demos. Never point it at real data.

It serves the synthetic population of ``services.registry.seed.population.generate``
(the same regency, households, seed and as-of date as ``kkb seed`` gives the same
people) in the answer shapes of DOMAIN.md: ``content`` list with ``lastPage``,
``numberOfElements``, ``totalElements``; errors as ``content[0].RESPON``; uppercase
labels, unpadded region numbers, dd-mm-yyyy dates.

    uvicorn dukcapil_sim.app:create_app --factory --port 8900

Settings (environment): DUKCAPIL_SIM_REGENCY (61.04), DUKCAPIL_SIM_HOUSEHOLDS (2000),
DUKCAPIL_SIM_SEED (1), DUKCAPIL_SIM_AS_OF (ISO date; default today in WIB),
DUKCAPIL_SIM_USER_ID / _PASSWORD / _IP_USER (credentials it accepts),
DUKCAPIL_SIM_DAILY_QUOTA (100000), DUKCAPIL_SIM_ADMIN (1: enable /_sim endpoints).

Test-only admin endpoints under ``/_sim``: switch fault modes (normal, slow, down,
quota_exhausted, bad_credentials, empty), set the quota, load or remove records.
"""

import asyncio
import csv
import difflib
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

import numpy as np
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from common.reference_data import reference_data_dir
from services.registry.dukcapil.breaker import today_wib
from services.registry.dukcapil.mapping import (
    RegistryPerson,
    normalise_text,
    parse_dukcapil_date,
    to_dukcapil,
)
from services.registry.seed.population import Population, generate

LOGIN_FAILED = "Login Gagal"
IP_REJECTED = "IP Address Tidak Sesuai"
QUOTA_EXHAUSTED = "Kuota Akses Hari ini telah Habis"
NOT_FOUND = "Data Tidak Ditemukan"
_CREDENTIAL_KEYS = {"USER_ID", "PASSWORD", "IP_USER", "TRESHOLD", "THRESHOLD", "NIK"}
_SCORED_ELEMENTS = {"NAMA_LGKP", "NAMA_LGKP_IBU", "NAMA_LGKP_AYAH", "ALAMAT", "TMPT_LHR"}


class Mode(StrEnum):
    NORMAL = "normal"
    SLOW = "slow"  # answers after delay_s
    DOWN = "down"  # HTTP 503 to everything
    QUOTA_EXHAUSTED = "quota_exhausted"
    BAD_CREDENTIALS = "bad_credentials"
    EMPTY = "empty"  # answers {}


@dataclass(frozen=True)
class SimSettings:
    regency: str = "61.04"
    households: int = 2000
    seed: int = 1
    as_of: date | None = None
    user_id: str = "sim-user"
    password: str = "sim-password"
    ip_user: str = "127.0.0.1"
    daily_quota: int = 100_000
    admin_enabled: bool = True

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "SimSettings":
        def get(name: str, default: str) -> str:
            return env.get(f"DUKCAPIL_SIM_{name}", default)

        as_of = get("AS_OF", "")
        return cls(
            regency=get("REGENCY", cls.regency),
            households=int(get("HOUSEHOLDS", str(cls.households))),
            seed=int(get("SEED", str(cls.seed))),
            as_of=date.fromisoformat(as_of) if as_of else None,
            user_id=get("USER_ID", cls.user_id),
            password=get("PASSWORD", cls.password),
            ip_user=get("IP_USER", cls.ip_user),
            daily_quota=int(get("DAILY_QUOTA", str(cls.daily_quota))),
            admin_enabled=get("ADMIN", "1") not in ("0", "false", "no"),
        )


class ModeChange(BaseModel):
    mode: Mode
    delay_s: float = Field(default=0.0, ge=0.0, le=120.0)


class QuotaChange(BaseModel):
    daily_quota: int | None = Field(default=None, ge=0)
    used: int | None = Field(default=None, ge=0)


class RecordsChange(BaseModel):
    records: list[dict[str, Any]] = Field(default_factory=list)  # Dukcapil records, by NIK
    remove_niks: list[str] = Field(default_factory=list)


class PopulationIndex:
    """Dukcapil records built on demand from the generated population columns."""

    def __init__(self, population: Population, region_names: Mapping[str, str]) -> None:
        self.population = population
        self.region_names = region_names
        persons = population.persons
        self.by_nik = {nik: i for i, nik in enumerate(persons.nik.tolist()) if nik is not None}
        self.by_kk = {kk: h for h, kk in enumerate(population.households.kk_number.tolist())}
        self._household_start = np.searchsorted(
            persons.household_index, np.arange(len(population.households) + 1)
        )

    def record(self, i: int) -> dict[str, Any]:
        p, hh = self.population.persons, self.population.households
        h = int(p.household_index[i])
        birth_date = p.birth_date[i].item()
        person = RegistryPerson(
            nik=p.nik[i],
            kk_number=hh.kk_number[h],
            full_name=p.full_name[i],
            birth_place=p.birth_place[i],
            birth_date=birth_date,
            sex=int(p.sex[i]),
            religion=int(p.religion[i]),
            marital_status=int(p.marital_status[i]),
            relationship=int(p.relationship[i]),
            education=int(p.education[i]),
            occupation=int(p.occupation[i]),
            mother_nik=p.mother_nik[i],
            mother_name=p.mother_name[i],
            village_code=hh.village_code[h],
            rt=int(hh.rt[h]),
            rw=int(hh.rw[h]),
            dusun=hh.dusun[h],
            address=hh.address[h],
        )
        adult = (self.population.as_of - birth_date).days >= 17 * 365.25
        return to_dukcapil(
            person,
            region_names=self.region_names,
            last_updated=datetime.combine(hh.observed_date[h].item(), time(8, 0)),
            extra={"EKTP_STATUS": "SUDAH REKAM" if adult else ""},
        )

    def members(self, kk_number: str) -> list[int]:
        h = self.by_kk.get(kk_number)
        if h is None:
            return []
        return list(range(int(self._household_start[h]), int(self._household_start[h + 1])))


@dataclass
class SimState:
    settings: SimSettings
    index: PopulationIndex
    mode: Mode = Mode.NORMAL
    delay_s: float = 0.0
    daily_quota: int = 0
    quota_day: date = field(default_factory=today_wib)
    quota_used: int = 0
    calls: int = 0
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)

    def find_nik(self, nik: str) -> dict[str, Any] | None:
        if nik in self.overrides:
            return self.overrides[nik]
        if nik in self.removed or nik not in self.index.by_nik:
            return None
        return self.index.record(self.index.by_nik[nik])

    def find_kk(self, kk_number: str) -> list[dict[str, Any]]:
        found = {}
        for i in self.index.members(kk_number):
            nik = self.index.population.persons.nik[i]
            if nik is not None and nik not in self.removed:
                found[nik] = self.index.record(i)
        for nik, record in self.overrides.items():
            if str(record.get("NO_KK", "")) == kk_number:
                found[nik] = record
            elif nik in found:
                del found[nik]  # moved to another family card
        return list(found.values())

    def take_quota(self) -> bool:
        today = today_wib()
        if today != self.quota_day:
            self.quota_day, self.quota_used = today, 0
        self.quota_used += 1
        return self.quota_used <= self.daily_quota


def page(records: list[dict[str, Any]]) -> dict[str, Any]:
    n = len(records)
    return {
        "content": records,
        "lastPage": True,
        "numberOfElements": n,
        "sort": None,
        "totalElements": n,
        "firstPage": True,
        "number": 0,
        "size": n,
    }


def respon(text: str) -> dict[str, Any]:
    return page([{"RESPON": text}])


def region_names(regency: str) -> dict[str, str]:
    """Names of the regency's province, the regency and everything inside it."""
    province = regency.split(".")[0]
    path = reference_data_dir() / "wilayah" / "wilayah.csv"
    with path.open(encoding="utf-8") as f:
        return {
            row["code"]: row["name"].removeprefix("Kabupaten ").removeprefix("Kota ")
            for row in csv.DictReader(f)
            if row["code"] in (province, regency) or row["code"].startswith(regency + ".")
        }


def regency_villages(names: Mapping[str, str], regency: str) -> list[str]:
    return sorted(code for code in names if code.startswith(regency + ".") and len(code) == 13)


def _field(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name.lower(), body.get(name.upper(), ""))
    return "" if value is None else str(value).strip()


def _same(element: str, given: Any, known: Any, threshold: float) -> str:
    if element in _SCORED_ELEMENTS:
        score = round(
            100
            * difflib.SequenceMatcher(
                None, normalise_text(str(given)), normalise_text(str(known))
            ).ratio()
        )
        return f"{'Sesuai' if score >= threshold else 'Tidak Sesuai'} ({score})"
    if element == "TGL_LHR":
        same = parse_dukcapil_date(given) is not None and parse_dukcapil_date(
            given
        ) == parse_dukcapil_date(known)
    elif str(given).strip().isdigit() and str(known).strip().isdigit():
        same = int(str(given)) == int(str(known))
    else:
        same = normalise_text(str(given)) == normalise_text(str(known))
    return "Sesuai" if same else "Tidak Sesuai"


def verify(record: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, str]:
    threshold = float(_field(body, "TRESHOLD") or _field(body, "THRESHOLD") or 80)
    verdicts = {"NIK": "Sesuai"}
    for element, given in body.items():
        name = element.upper()
        if name in _CREDENTIAL_KEYS:
            continue
        verdicts[name] = _same(name, given, record.get(name, ""), threshold)
    return verdicts


def create_app(
    settings: SimSettings | None = None, population: Population | None = None
) -> FastAPI:
    """The simulator; ``population`` overrides the one generated from the settings."""
    settings = settings or SimSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        names = region_names(settings.regency)
        pop = population or generate(
            settings.regency,
            settings.households,
            regency_villages(names, settings.regency),
            settings.seed,
            as_of=settings.as_of or today_wib(),
        )
        app.state.sim = SimState(
            settings=settings,
            index=PopulationIndex(pop, names),
            daily_quota=settings.daily_quota,
        )
        yield

    app = FastAPI(title="Dukcapil simulator (synthetic data)", lifespan=lifespan)

    def state(request: Request) -> SimState:
        return request.app.state.sim

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/dukcapil/get_json/{institution_path:path}/{method}")
    async def dukcapil(method: str, request: Request) -> Response:
        sim = state(request)
        sim.calls += 1
        if sim.mode is Mode.DOWN:
            return Response(status_code=503, content="Service Unavailable")
        if sim.mode is Mode.SLOW:
            await asyncio.sleep(sim.delay_s)
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _json(respon(LOGIN_FAILED))
        if (
            sim.mode is Mode.BAD_CREDENTIALS
            or _field(body, "user_id") != settings.user_id
            or _field(body, "password") != settings.password
        ):
            return _json(respon(LOGIN_FAILED))
        if _field(body, "ip_user") != settings.ip_user:
            return _json(respon(IP_REJECTED))
        if not sim.take_quota() or sim.mode is Mode.QUOTA_EXHAUSTED:
            return _json(respon(QUOTA_EXHAUSTED))
        if sim.mode is Mode.EMPTY:
            return _json({})

        if method == "CALL_NIK":
            record = sim.find_nik(_field(body, "nik"))
            return _json(page([record]) if record else respon(NOT_FOUND))
        if method == "CALL_KK":
            records = sim.find_kk(_field(body, "no_kk"))
            return _json(page(records) if records else respon(NOT_FOUND))
        if method == "CALL_VERIFY_BY_ELEMEN":
            record = sim.find_nik(_field(body, "nik"))
            return _json(page([verify(record, body)]) if record else respon(NOT_FOUND))
        raise HTTPException(status_code=404, detail=f"unknown method {method}")

    def admin(request: Request) -> SimState:
        if not settings.admin_enabled:
            raise HTTPException(status_code=404)
        return state(request)

    @app.post("/_sim/mode")
    async def set_mode(change: ModeChange, request: Request) -> dict[str, Any]:
        sim = admin(request)
        sim.mode, sim.delay_s = change.mode, change.delay_s
        return {"mode": sim.mode, "delay_s": sim.delay_s}

    @app.post("/_sim/quota")
    async def set_quota(change: QuotaChange, request: Request) -> dict[str, Any]:
        sim = admin(request)
        if change.daily_quota is not None:
            sim.daily_quota = change.daily_quota
        if change.used is not None:
            sim.quota_used = change.used
        return {"daily_quota": sim.daily_quota, "used": sim.quota_used}

    @app.post("/_sim/records")
    async def change_records(change: RecordsChange, request: Request) -> dict[str, int]:
        sim = admin(request)
        for record in change.records:
            nik = str(record.get("NIK", "")).strip()
            if not nik:
                raise HTTPException(status_code=422, detail="every record needs a NIK")
            sim.overrides[nik] = record
            sim.removed.discard(nik)
        for nik in change.remove_niks:
            sim.overrides.pop(nik, None)
            sim.removed.add(nik)
        return {"overrides": len(sim.overrides), "removed": len(sim.removed)}

    @app.post("/_sim/reset")
    async def reset(request: Request) -> dict[str, str]:
        sim = admin(request)
        sim.mode, sim.delay_s = Mode.NORMAL, 0.0
        sim.daily_quota, sim.quota_used, sim.calls = settings.daily_quota, 0, 0
        sim.overrides.clear()
        sim.removed.clear()
        return {"mode": sim.mode}

    @app.get("/_sim/stats")
    async def stats(request: Request) -> dict[str, Any]:
        sim = admin(request)
        return {
            "mode": sim.mode,
            "calls": sim.calls,
            "quota_used": sim.quota_used,
            "daily_quota": sim.daily_quota,
            "persons": len(sim.index.population.persons),
            "households": len(sim.index.population.households),
            "as_of": sim.index.population.as_of.isoformat(),
        }

    return app


def _json(payload: dict[str, Any]) -> Response:
    return JSONResponse(payload)
