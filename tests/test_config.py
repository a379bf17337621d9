"""Settings come from DEBUGLOOP_* variables; bad values name their variable."""

import pytest

from debugloop.config import FLAGS, load_settings
from debugloop.errors import ConfigurationError


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for name in list(os.environ):
        if name.startswith("DEBUGLOOP_") or name.upper() in {f.upper() for f in FLAGS}:
            monkeypatch.delenv(name)


def test_defaults_leave_flags_to_the_database(tmp_path):
    settings = load_settings()
    assert settings.database_url is None
    assert settings.flag_overrides() == {}
    assert settings.home.name == "debugloop"


def test_prefixed_and_bare_flag_variables_are_both_read(monkeypatch, tmp_path):
    monkeypatch.setenv("DEBUGLOOP_ENABLE_STF_EXTRACTION", "false")
    monkeypatch.setenv("ENABLE_GOLDEN_STATES", "0")
    monkeypatch.setenv("DEBUGLOOP_HOME", str(tmp_path))
    monkeypatch.setenv("DEBUGLOOP_DATABASE_URL", "postgresql://u@h/d")
    settings = load_settings()
    assert settings.flag_overrides() == {"enable_stf_extraction": False, "enable_golden_states": False}
    assert settings.home == tmp_path
    assert settings.database_url == "postgresql://u@h/d"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DEBUGLOOP_ENABLE_COST_TRACKING", "maybe"),
        ("ENABLE_STF_EXTRACTION", "sometimes"),
        ("DEBUGLOOP_CONNECT_TIMEOUT", "0"),
        ("DEBUGLOOP_POOL_SIZE", "many"),
    ],
)
def test_a_bad_value_names_its_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as info:
        load_settings()
    message = str(info.value)
    assert message.startswith(f"{variable}:")
    assert repr(value) in message
    assert "\n" not in message
