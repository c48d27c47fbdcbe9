"""The models and their migrations say the same thing."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    # --check exits non-zero when makemigrations would write anything.
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
