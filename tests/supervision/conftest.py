from __future__ import annotations

import pytest

from tests.api.conftest import others, ours  # noqa: F401
from tests.live_server import (  # noqa: F401
    browser,
    daphne_process,
    daphne_server,
    fake_cloud_api,
    page,
)


@pytest.fixture(autouse=True)
def _quick_passwords(request, settings):
    # The live server checks passwords with the real hasher: browser tests keep it.
    if request.node.get_closest_marker("browser"):
        return
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
