"""Feature flags and thresholds: the table, session overrides, validation, audit, roles."""

import psycopg
import pytest

import debugloop
from debugloop.config import FLAGS, Settings
from debugloop.errors import DatabaseError, InvalidSettingValue, UnknownSetting, wrap_exceptions


def test_python_flags_are_the_overridable_flags_of_the_table(conn):
    keys = {
        k for (k,) in conn.execute("select key from debugloop.settings where overridable and value_type = 'boolean'")
    }
    assert keys == set(FLAGS)


def test_flags_are_on_by_default_in_sql(conn):
    for flag in FLAGS:
        assert conn.execute("select debugloop.settings_flag(%s)", (flag,)).fetchone()[0] is True


def test_a_session_override_changes_only_that_session(db, conn):
    conn.execute("set debugloop.enable_golden_states = off")
    assert conn.execute("select debugloop.settings_flag('enable_golden_states')").fetchone()[0] is False
    with psycopg.connect(db.url) as other:
        assert other.execute("select debugloop.settings_flag('enable_golden_states')").fetchone()[0] is True


def test_python_settings_override_the_flag_for_the_clients_sessions(db):
    with (
        debugloop.connect(db.url, settings=Settings(enable_stf_extraction=False)) as off,
        debugloop.connect(db.url) as default,
    ):
        assert off.settings.get("enable_stf_extraction") is False
        assert default.settings.get("enable_stf_extraction") is True
        listed = {s.key: s for s in off.settings.list()}
        assert listed["enable_stf_extraction"].value is True  # stored value untouched
        assert listed["enable_stf_extraction"].effective_value is False


def test_a_bad_session_override_is_a_clear_error(conn):
    conn.execute("set debugloop.enable_cost_tracking = 'perhaps'")
    with pytest.raises(InvalidSettingValue) as info, wrap_exceptions():
        conn.execute("select debugloop.settings_flag('enable_cost_tracking')")
    assert "debugloop.enable_cost_tracking" in info.value.message and info.value.field == "value"


def test_unknown_key_is_unknown_setting(dl):
    with pytest.raises(UnknownSetting) as info:
        dl.settings.get("enable_teleportation")
    assert info.value.field == "key" and "enable_teleportation" in info.value.message


def test_set_changes_the_value_for_everyone_and_audits_it(dl, conn):
    changed = dl.settings.set("enable_golden_states", False)
    assert changed.value is False and changed.effective_value is False and changed.updated_by == "postgres"
    assert conn.execute("select debugloop.settings_flag('enable_golden_states')").fetchone()[0] is False
    audit = conn.execute("select key, old_value, new_value, changed_by from debugloop.settings_audit").fetchall()
    assert audit == [("enable_golden_states", True, False, "postgres")]


def test_a_rejected_value_leaves_the_database_as_it_was(dl, conn):
    with pytest.raises(InvalidSettingValue) as info:
        dl.settings.set("enable_golden_states", "sometimes")
    assert "boolean" in str(info.value)
    assert conn.execute("select value from debugloop.settings where key = 'enable_golden_states'").fetchone()[0] is True
    assert conn.execute("select count(*) from debugloop.settings_audit").fetchone()[0] == 0


@pytest.fixture
def threshold(conn):
    """A numeric, non-overridable setting with a range, as later features add them."""
    conn.execute(
        """insert into debugloop.settings (key, value, value_type, overridable, min_value, max_value, description)
           values ('zz_threshold', '0.5', 'numeric', false, 0, 1, 'a test threshold')"""
    )
    conn.commit()
    return "zz_threshold"


def test_range_and_type_of_numeric_settings_are_enforced(dl, threshold):
    assert dl.settings.set(threshold, "0.9").value == 0.9
    for bad in ("1.5", "-0.1", "lots"):
        with pytest.raises(InvalidSettingValue):
            dl.settings.set(threshold, bad)
    assert dl.settings.get(threshold) == 0.9


def test_a_non_overridable_setting_ignores_the_session_setting(conn, threshold):
    conn.execute("set debugloop.zz_threshold = '0.1'")
    assert float(conn.execute("select debugloop.settings_get('zz_threshold')").fetchone()[0]) == 0.5


def test_table_constraints_back_the_function_checks(conn, threshold):
    with pytest.raises(psycopg.errors.CheckViolation, match="settings_value_in_range"):
        conn.execute("update debugloop.settings set value = '7' where key = 'zz_threshold'")
    conn.rollback()
    with pytest.raises(psycopg.errors.CheckViolation, match="settings_value_matches_type"):
        conn.execute("update debugloop.settings set value = '\"yes\"' where key = 'enable_golden_states'")


def _as(conn, role):
    conn.execute(f"set local role {role}")


@pytest.mark.parametrize("role", ["debugloop_agent", "debugloop_reader"])
def test_only_admins_change_settings(conn, role):
    _as(conn, role)
    assert len(conn.execute("select * from debugloop.v_settings").fetchall()) >= 3  # but may read
    with pytest.raises(DatabaseError) as info, wrap_exceptions():
        conn.execute("select debugloop.settings_set('enable_golden_states', 'off')")
    assert info.value.sqlstate == "42501"


def test_admin_changes_settings_but_cannot_forge_the_audit(conn):
    _as(conn, "debugloop_admin")
    conn.execute("select debugloop.settings_set('enable_cost_tracking', 'off')")
    assert conn.execute("select changed_by from debugloop.settings_audit").fetchone()[0] == "debugloop_admin"
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(
            "insert into debugloop.settings_audit (key, old_value, new_value, changed_by) values ('enable_cost_tracking', 'true', 'false', 'x')"
        )
    conn.rollback()
    _as(conn, "debugloop_admin")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("delete from debugloop.settings_audit")
