"""Behind a proxy that terminates TLS, a request counts as secure when the proxy says the
client used HTTPS, and only when the deployment says such a proxy is in front."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import django
django.setup()
from django.test import RequestFactory
request = RequestFactory().get("/", HTTP_X_FORWARDED_PROTO="https")
print(request.is_secure())
"""


def forwarded_https_is_secure(trust: str | None) -> bool:
    env = {k: v for k, v in os.environ.items() if k != "TRUST_X_FORWARDED_PROTO"}
    env["DJANGO_SETTINGS_MODULE"] = "cxgear.settings"
    if trust is not None:
        env["TRUST_X_FORWARDED_PROTO"] = trust
    done = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1] == "True"


def test_x_forwarded_proto_is_trusted_only_when_the_deployment_says_so():
    assert forwarded_https_is_secure("true")
    assert not forwarded_https_is_secure("false")
    assert not forwarded_https_is_secure(None)
