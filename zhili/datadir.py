"""Locate and prepare the data folder (database, secret key, uploads, caches).

The folder comes from ``ZHILI_DATA`` (default ``./zhili-data``). Everything a running
instance writes lives there, so that a town can back it up as one folder.
"""

import os
import secrets
from pathlib import Path


def data_dir() -> Path:
    """Return the data folder, creating it on first use."""
    path = Path(os.environ.get("ZHILI_DATA", "zhili-data")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def secret_file(name: str, nbytes: int = 48) -> str:
    """Return a secret kept in the data folder, generating it (mode 0600) on first run."""
    path = data_dir() / name
    if not path.exists():
        value = secrets.token_urlsafe(nbytes)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(value)
        return value
    return path.read_text().strip()
