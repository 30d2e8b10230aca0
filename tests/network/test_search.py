"""Finding facilities by id, name and the places they serve, whole words first
(Network.find, parcelnet find)."""

from __future__ import annotations

from tests.conftest import run_cli


def test_english_city_name_finds_its_centre_and_stations_before_lookalikes(cn_gravity):
    hit = cn_gravity.find("hangzhou", limit=None)
    ids = hit["facility_id"].tolist()
    assert ids[0] == "C3301"                                   # "Hangzhou sorting centre"
    hangzhou = [i for i in ids if i.startswith("S3301")]       # Xihu, Shangcheng, ... stations
    assert len(hangzhou) >= 10
    last_hangzhou = max(ids.index(i) for i in hangzhou)
    # Changzhou and Zhangzhou contain "hangzhou" but only inside a word: after all of Hangzhou
    for other in ("C3204", "C3506"):
        assert other in ids and ids.index(other) > last_hangzhou
    assert set(hit["match"].iloc[:len(hangzhou) + 1]) <= {1, 2}


def test_chinese_names_find_the_same_places(cn_gravity):
    ids = cn_gravity.find("杭州", limit=None)["facility_id"].tolist()
    assert "C3301" in ids and "S330106" in ids
    assert all(i == "C3301" or i.startswith("S3301") for i in ids)
    assert cn_gravity.find("西湖区")["facility_id"].iloc[0] == "S330106"
    assert cn_gravity.find("C3301")["match"].iloc[0] == 0


def test_find_by_kind_and_limit_on_the_command_line(capsys, cn_gravity, tmp_path):
    from parcelnet.network.pnf import write_pnf
    net = write_pnf(cn_gravity, tmp_path / "cn")
    code, out, _ = run_cli(capsys, "find", net, "杭州", "--kind", "station", "--limit", "3", "--json")
    import json
    rows = json.loads(out)
    assert code == 0 and len(rows) == 3 and all(r["kind"] == "station" for r in rows)
    code, _, err = run_cli(capsys, "find", net, "nowhere-at-all")
    assert code == 1 and "no facility id or name contains" in err
