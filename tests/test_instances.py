"""Instances are found by id or by the name given to ``%amc connect ... name=``."""

from __future__ import annotations

import pytest

from amc_magic.errors import ConfigurationError
from amc_magic.history import HistoryStore
from amc_magic.instances import resolve_target

ENVIRON = {"AMC_CLIENT_ID": "id", "AMC_CLIENT_SECRET": "secret", "AMC_REFRESH_TOKEN": "refresh"}


@pytest.fixture
def store(tmp_path):
    store = HistoryStore.from_url(f"sqlite:///{tmp_path / 'history.sqlite'}")
    yield store
    store.close()


def save(store: HistoryStore, instance_id: str, name: str | None) -> None:
    store.save_instance(instance_id, entity_id="ENTITY1", marketplace_id="ATVPDKIKX0DER", api_url="https://amc.test", name=name)


def test_an_instance_is_found_by_its_id_or_its_name_in_any_case(store) -> None:
    save(store, "amcteam01", "Team EU")
    save(store, "amcother01", None)

    for given in ("amcteam01", "Team EU", "team eu", " TEAM EU "):
        target = resolve_target(given, lambda: store, ENVIRON)
        assert (target.name, target.ref.instance_id) == ("amcteam01", "amcteam01"), given
    with pytest.raises(ConfigurationError, match="Unknown AMC instance 'Team US'"):
        resolve_target("Team US", lambda: store, ENVIRON)


def test_a_name_two_instances_share_asks_for_the_id(store) -> None:
    save(store, "amcteam01", "Team")
    save(store, "amcteam02", "team")

    with pytest.raises(ConfigurationError, match=r"2 instances are named 'Team' \(amcteam01, amcteam02\)") as info:
        resolve_target("Team", lambda: store, ENVIRON)
    assert info.value.hint == "Give the instance id instead."
    assert resolve_target("amcteam02", lambda: store, ENVIRON).ref.instance_id == "amcteam02"
