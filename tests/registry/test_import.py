"""Registry CSV import: encodings, all-or-nothing with line numbers, re-import updates."""

import pytest

from civicvote.extensions import db
from civicvote.registry.models import Household, Resident
from civicvote.registry.services import ImportRejected, import_registry
from tests import factories

ZH = (
    "编号,姓名,楼栋,单元,房号,出生年份,居住状态\n"
    "A001,王秀英,1栋,1单元,101,1950,户籍\n"
    "A002,李建华,1栋,1单元,101,1952,常住\n"
    "A003,张小明,2栋,,302,2015,户籍\n"
)
EN = (
    "external_ref,name,building,unit,room,birth_year,residence_status,eligible\n"
    "B1,Chen Jie,3栋,2单元,501,1980,registered,yes\n"
    "B2,Zhou Min,3栋,2单元,502,1985,resident,no\n"
)


def _residents(community):
    return {
        r.external_ref: r
        for r in db.session.scalars(db.select(Resident).filter_by(community_id=community.id))
    }


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        lambda text: text.encode("gb18030"),
        lambda text: text.replace("\n", "\r\n").encode("gb18030"),
    ],
    ids=["utf-8", "utf-8-bom", "gb18030", "gb18030-crlf"],
)
def test_chinese_headers_in_each_encoding(app, encode):
    community = factories.community()
    result = import_registry(community, encode(ZH))
    db.session.commit()
    assert result.ok and (result.created, result.households_created) == (3, 2)
    residents = _residents(community)
    assert residents["A001"].name == "王秀英"
    assert residents["A001"].household_id == residents["A002"].household_id
    assert residents["A002"].residence_status == "resident"
    assert residents["A003"].household.unit == ""
    assert residents["A003"].household.address == "2栋-302"


def test_english_headers_and_eligible_flag(app):
    community = factories.community()
    assert import_registry(community, EN).ok
    db.session.commit()
    residents = _residents(community)
    assert residents["B1"].eligible is True
    assert residents["B2"].eligible is False


def test_bad_rows_are_listed_and_nothing_is_written(app):
    community = factories.community()
    text = (
        "编号,姓名,楼栋,单元,房号,出生年份,居住状态,投票资格\n"
        "C1,好人,1栋,1单元,101,1960,户籍,是\n"  # line 2: fine
        "C2,,1栋,1单元,102,1960,户籍,是\n"  # line 3: no name
        "C3,某某,1栋,1单元,103,19x0,户籍,是\n"  # line 4: bad year
        "C4,某某,1栋,1单元,104,1960,外星,是\n"  # line 5: bad status
        "C1,重复,1栋,1单元,105,1960,户籍,是\n"  # line 6: duplicate reference
        "C6,某某,1栋,1单元,106,1960,户籍,也许\n"  # line 7: bad flag
        '"C7","名字\n跨行",1栋,1单元,107,1960,户籍,是\n'  # lines 8-9: fine (quoted newline)
        "C8,某某,1栋,1单元," + "9" * 30 + ",1960,户籍,是\n"  # line 10: room too long
    )
    result = import_registry(community, text.encode("gb18030"))
    assert [e.line for e in result.errors] == [3, 4, 5, 6, 7, 10]
    assert "6" not in result.errors[0].message  # each message is about its own row
    assert "2" in result.errors[3].message  # the duplicate names the first line
    db.session.rollback()
    assert _residents(community) == {}
    assert db.session.scalar(db.select(db.func.count(Household.id))) == 0


def test_missing_columns_and_unreadable_files_are_refused(app):
    community = factories.community()
    with pytest.raises(ImportRejected):
        import_registry(community, "姓名,楼栋\n王,1栋\n".encode())
    with pytest.raises(ImportRejected):
        import_registry(community, b"")
    with pytest.raises(ImportRejected):
        import_registry(community, b"\xff\xfe\x00\x00garbage\x81")
    with pytest.raises(ImportRejected):
        import_registry(community, b"a" * (2 * 1024 * 1024 + 1))


def test_reimport_updates_and_never_duplicates(app):
    community = factories.community()
    import_registry(community, ZH.encode())
    db.session.commit()
    first = _residents(community)
    changed = ZH.replace(
        "A002,李建华,1栋,1单元,101,1952,常住", "A002,李建华,4栋,1单元,201,1952,迁出"
    )
    result = import_registry(community, changed.encode("gb18030"))
    db.session.commit()
    assert (result.created, result.updated, result.unchanged) == (0, 1, 2)
    after = _residents(community)
    assert set(after) == set(first)
    assert after["A002"].id == first["A002"].id
    assert after["A002"].household.address == "4栋-1单元-201"
    assert after["A002"].residence_status == "moved_out"
    assert db.session.scalar(db.select(db.func.count(Resident.id))) == 3


def test_import_is_audited(app):
    from civicvote.audit.models import AuditEvent

    community = factories.community()
    import_registry(community, ZH.encode())
    db.session.commit()
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="registry.import"))
    assert event.after["created"] == 3 and event.community_id == community.id


def test_import_records_each_residents_before_and_after(app, client):
    from civicvote.audit.models import AuditEvent

    community = factories.community()
    import_registry(community, ZH.encode())
    db.session.commit()
    first = db.session.scalar(db.select(AuditEvent).filter_by(action="registry.import"))
    assert first.before is None
    assert first.after["residents"]["A001"] == {
        "household": "1栋-1单元-101",
        "name": "王秀英",
        "birth_year": 1950,
        "residence_status": "registered",
        "eligible": True,
    }
    # A002 moves out (no longer may vote), A003 is renamed, A004 is new, A001 is unchanged.
    changed = (
        ZH.replace(
            "A002,李建华,1栋,1单元,101,1952,常住", "A002,李建华,4栋,1单元,201,1952,迁出"
        ).replace("A003,张小明", "A003,张晓明")
        + "A004,赵六,5栋,,101,1990,户籍\n"
    )
    result = import_registry(community, changed.encode())
    db.session.commit()
    assert (result.created, result.updated, result.unchanged) == (1, 2, 1)
    event = db.session.scalar(
        db.select(AuditEvent).filter_by(action="registry.import").order_by(AuditEvent.id.desc())
    )
    assert event.before == {
        "residents": {
            "A002": {
                "name": "李建华",
                "household": "1栋-1单元-101",
                "residence_status": "resident",
            },
            "A003": {"name": "张小明"},
        }
    }
    assert event.after["residents"] == {
        "A002": {"name": "李建华", "household": "4栋-1单元-201", "residence_status": "moved_out"},
        "A003": {"name": "张晓明"},
        "A004": {
            "household": "5栋-101",
            "name": "赵六",
            "birth_year": 1990,
            "residence_status": "registered",
            "eligible": True,
        },
    }
    assert event.after["made_ineligible"] == ["A002"]
    assert (event.after["created"], event.after["updated"], event.after["unchanged"]) == (1, 2, 1)
    # Read by an administrator: a sentence and each resident's fields, not JSON.
    factories.user("root", is_admin=True)
    factories.login(client, "root")
    page = client.get(f"/admin/audit/{event.id}", headers={"Accept-Language": "zh-CN"})
    html = page.get_data(as_text=True)
    assert "新增 1 人，修改 2 人，其中 1 人失去投票资格" in html
    assert "<del>常住</del> → <ins>已迁出</ins>" in html
    assert '"residents"' not in html and "\\u" not in html


def test_registries_of_two_communities_stay_apart(app):
    one, two = factories.community(), factories.community()
    import_registry(one, ZH.encode())
    import_registry(two, ZH.encode())
    db.session.commit()
    assert len(_residents(one)) == len(_residents(two)) == 3
