"""The TypeScript client proof (sdk/ts): from the gateway's merged OpenAPI document a
client is generated (@hey-api/openapi-ts), compiled with tsc, and its example signs in
and reads a region from the running stack.

Runs in a temporary copy of sdk/ts. ``node_modules`` from ``npm ci`` is kept under
``.data/`` keyed by the lockfile, so later runs skip the install."""

import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from common.reference_data import REPO_ROOT
from tests.auth_helpers import PASSWORD, make_user

SDK = REPO_ROOT / "sdk" / "ts"
CACHE = REPO_ROOT / ".data" / "sdk-ts"
NODE, NPM = shutil.which("node"), shutil.which("npm")

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="node and npm are not on the PATH; the TypeScript client proof needs them",
)


def _run(
    args: list[str], cwd: Path, timeout: float = 240, **env: str
) -> subprocess.CompletedProcess:
    assert NPM is not None
    done = subprocess.run(
        [NPM if args[0] == "npm" else args[0], *args[1:]],
        cwd=cwd,
        env={
            **os.environ,
            "npm_config_update_notifier": "false",
            "npm_config_fund": "false",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return done


def _installed(work: Path) -> None:
    """``npm ci`` once per lockfile; later runs link the kept node_modules."""
    key = hashlib.sha256(
        (SDK / "package-lock.json").read_bytes() + (SDK / "package.json").read_bytes()
    ).hexdigest()[:16]
    kept = CACHE / key / "node_modules"
    if not kept.is_dir():
        done = _run(["npm", "ci", "--no-audit"], work, npm_config_cache=str(CACHE / "npm-cache"))
        assert done.returncode == 0, done.stderr[-3000:]
        staging = CACHE / f"{key}.partial-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(work / "node_modules", staging / "node_modules", symlinks=True)
        try:
            staging.rename(CACHE / key)
        except OSError:  # another run kept the same lockfile's modules first
            shutil.rmtree(staging, ignore_errors=True)
        return
    (work / "node_modules").symlink_to(kept, target_is_directory=True)


def _merged_openapi(gateway: str) -> dict:
    """The merged document once every service answered (they may still be warming up)."""
    deadline = time.monotonic() + 90
    while True:
        document = httpx.get(f"{gateway}/openapi.json", timeout=60).json()
        if not document["info"].get("x-kkb-missing-services") or time.monotonic() > deadline:
            return document
        time.sleep(2)


def test_generated_client_compiles_and_reads_a_region(stack, db_url, tmp_path):
    work = tmp_path / "ts"
    shutil.copytree(SDK, work, ignore=shutil.ignore_patterns("node_modules", "dist", "src"))
    CACHE.mkdir(parents=True, exist_ok=True)
    _installed(work)

    document = _merged_openapi(stack.url("gateway"))
    assert not document["info"].get("x-kkb-missing-services")
    (work / "openapi.json").write_text(json.dumps(document))

    generated = _run(["npm", "run", "generate"], work)
    assert generated.returncode == 0, generated.stdout[-2000:] + generated.stderr[-2000:]
    sdk_source = (work / "src" / "client" / "sdk.gen.ts").read_text()
    # Function names come from the stable operationIds.
    for name in ("gatewayIssueToken", "registryGetRegion", "registrySearchObservations"):
        assert f"export const {name} =" in sdk_source

    built = _run(["npm", "run", "build"], work)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-2000:]
    assert (work / "dist" / "examples" / "list-regions.js").is_file()

    username = make_user(db_url, "village_operator", "61.04.16.2007")
    env = {"KKB_GATEWAY_URL": stack.url("gateway"), "KKB_USERNAME": username}
    ran = _run(
        ["npm", "run", "--silent", "example"],
        work,
        timeout=60,
        KKB_PASSWORD=PASSWORD,
        KKB_REGION="61.04.16.2007",
        **env,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == {
        "code": "61.04.16.2007",
        "name": "Kali Nilam",
        "level": "village",
        "ancestors": ["61", "61.04", "61.04.16"],
    }

    refused = _run(
        ["npm", "run", "--silent", "example"], work, timeout=60, KKB_PASSWORD="wrong", **env
    )
    assert refused.returncode != 0
    assert "invalid_grant" in refused.stderr
