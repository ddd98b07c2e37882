"""The operator's command line run as a real process against the test's store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from nordcert.config import Settings
from nordcert.db import transaction
from nordcert.intel.tables import stix_objects


class Cli:
    def __init__(self, settings: Settings) -> None:
        self.env = {**os.environ, "NORDCERT_HOME": str(settings.home)}
        if settings.database_url:
            self.env["NORDCERT_DATABASE_URL"] = settings.database_url

    def __call__(self, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "nordcert", *args], capture_output=True, text=True, check=False,
                              env=self.env, timeout=120)
        if ok:
            assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def cli(settings: Settings, engine: Engine) -> Cli:
    return Cli(settings)


def count_objects(engine: Engine) -> int:
    with transaction(engine, write=False) as conn:
        return int(conn.execute(select(func.count()).select_from(stix_objects)).scalar_one())
