"""Where the shared reference data (WHO growth tables, Kemendagri region codes) lives.

The data is kept outside the repository in ``../shared/data`` (the project's ground
truth, laid beside every clone and CI run); ``KKB_REFERENCE_DATA`` points elsewhere,
e.g. a mounted volume in containers.
"""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def reference_data_dir() -> Path:
    configured = os.environ.get("KKB_REFERENCE_DATA")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        raise FileNotFoundError(
            f"reference data not found at {path}; set KKB_REFERENCE_DATA to the folder "
            "holding who-growth-standards/ and wilayah/"
        )
    return path
