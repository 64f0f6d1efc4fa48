"""A realistic demo district: two communities, a funding round with three fund sources, needs,
organizations, costed proposals, a ballot and a voter registry with some cards issued."""

import csv
import os
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from flask import current_app

from .accounts.models import CLERK, ORG_MEMBER, ORGANIZER, REVIEWER, SUPERVISOR, Membership, User
from .ballots.models import Ballot, BallotItem
from .checkin.models import Assembly
from .communities.models import Community
from .csvsafe import safe_cell
from .extensions import db
from .intake.models import Need
from .organizations.models import APPROVED, Organization
from .proposals.models import LineItem, Proposal
from .registry.credentials import format_short_code, hash_secret, new_short_code, new_token
from .registry.models import Credential, Household, Resident
from .rounds.models import FundingRound, FundSource, RoundCategory
from .timeutil import utcnow

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 (printed for the demo; never used in production)

CATEGORIES = [
    ("elderly", "为老服务"),
    ("greening", "环境绿化"),
    ("safety", "安全设施"),
    ("children", "儿童友好"),
    ("culture", "文体活动"),
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
    "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱"
)
GIVEN = "秀英桂玉兰建华志强海燕丽娟德明国庆淑珍红梅文杰晓峰春花金凤永雪宏伟美玲子涵浩然欣怡俊桐"

NEEDS = [
    ("elderly", "3号楼加装电梯扶手", "楼道台阶陡，老人上下楼需要扶手。", "3号楼"),
    ("elderly", "老年食堂延长开放时间", "希望老年食堂晚餐也能开放。", "社区服务中心"),
    ("greening", "中心花园补种树木", "去年台风后花园缺了好几棵树，夏天没有树荫。", "中心花园"),
    ("safety", "地下车库照明改造", "车库灯光太暗，晚上走路害怕。", "地下车库"),
    ("safety", "电动车集中充电棚", "电动车在楼道充电有火灾隐患，需要集中充电点。", "5号楼旁空地"),
    ("children", "儿童游乐设施更新", "滑梯生锈，地面太硬，孩子容易摔伤。", "儿童乐园"),
    ("culture", "居民书屋添置图书", "书屋的书太旧，希望增加老人和孩子爱看的书。", "居民书屋"),
    ("greening", "垃圾分类亭加装洗手池", "倒完垃圾没地方洗手。", "东门分类亭"),
    ("culture", "广场舞音响限时设备", "音响太吵影响休息，希望装定时限音设备。", "文化广场"),
    ("safety", "小区东门加装无障碍坡道", "轮椅和婴儿车进出困难。", "东门"),
]

PROPOSALS = [
    (
        "加装楼道扶手 (1-6号楼)",
        "elderly",
        "为1-6号楼共24个单元加装不锈钢扶手。",
        320,
        "1-6号楼",
        [("不锈钢扶手", "120", "米", 18000), ("安装人工", "24", "单元", 25000)],
        [0],
    ),
    (
        "中心花园补绿与休息座椅",
        "greening",
        "补种香樟12棵，新增6组休息座椅。",
        900,
        "中心花园",
        [
            ("香樟树苗", "12", "棵", 150000),
            ("休息座椅", "6", "组", 220000),
            ("种植养护", "1", "项", 500000),
        ],
        [2],
    ),
    (
        "地下车库LED照明改造",
        "safety",
        "更换车库灯具为LED感应灯。",
        600,
        "地下车库",
        [("LED感应灯", "80", "盏", 12000), ("线路改造", "1", "项", 800000)],
        [3],
    ),
    (
        "电动车集中充电棚",
        "safety",
        "建设可停放40辆电动车的充电棚，配烟感报警。",
        450,
        "5号楼旁空地",
        [
            ("钢结构车棚", "1", "座", 3500000),
            ("智能充电桩", "4", "台", 600000),
            ("烟感报警", "2", "套", 150000),
        ],
        [4],
    ),
    (
        "儿童乐园安全改造",
        "children",
        "更换滑梯，铺设塑胶地面。",
        300,
        "儿童乐园",
        [("组合滑梯", "1", "套", 2800000), ("塑胶地面", "150", "平方米", 26000)],
        [5],
    ),
    (
        "居民书屋焕新",
        "culture",
        "添置图书800册，更换书架。",
        500,
        "居民书屋",
        [("图书", "800", "册", 3500), ("书架", "6", "个", 90000)],
        [6],
    ),
]


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


def _create_staff(community_a: Community, community_b: Community, org: Organization) -> list[str]:
    """Demo accounts, one per role; all share the printed demo password."""
    accounts = [
        ("admin", "系统管理员", True, []),
        ("organizer", "幸福里社区书记", False, [(community_a, ORGANIZER)]),
        ("reviewer", "评审委员", False, [(community_a, REVIEWER)]),
        ("supervisor", "居民监督委员会", False, [(community_a, SUPERVISOR)]),
        ("clerk", "计票员", False, [(community_a, CLERK)]),
        ("org", "邻里互助社工", False, [(community_a, ORG_MEMBER)]),
        ("organizer-b", "枫桥社区书记", False, [(community_b, ORGANIZER)]),
    ]
    for username, display, is_admin, roles in accounts:
        user = User(
            username=username,
            display_name=display,
            is_admin=is_admin,
            organization_id=org.id if username == "org" else None,
        )
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        db.session.flush()
        for community, role in roles:
            db.session.add(Membership(user_id=user.id, community_id=community.id, role=role))
    return [a[0] for a in accounts]


def _registry(community: Community, rng: random.Random, buildings: int) -> list[Household]:
    households = []
    counter = 0
    for building in range(1, buildings + 1):
        for unit in (1, 2):
            for floor in range(1, 7):
                for door in (1, 2):
                    household = Household(
                        community_id=community.id,
                        building=f"{building}栋",
                        unit=f"{unit}单元",
                        room=f"{floor}0{door}",
                    )
                    db.session.add(household)
                    households.append(household)
                    db.session.flush()
                    for _ in range(rng.choice((1, 2, 2, 3))):
                        counter += 1
                        birth = rng.randint(1935, 2012)
                        db.session.add(
                            Resident(
                                community_id=community.id,
                                household_id=household.id,
                                external_ref=f"{community.slug.upper()}-{counter:05d}",
                                name=_name(rng),
                                birth_year=birth,
                                residence_status=rng.choice(
                                    ("registered", "registered", "resident")
                                ),
                                eligible=birth <= 2008,
                            )
                        )
    return households


def _review_history(proposals: list[Proposal]) -> None:
    """Approved demo proposals carry what approval leaves behind: a version and a review."""
    from .proposals.checks import automatic_checks
    from .proposals.models import ProposalVersion, Review
    from .proposals.versions import snapshot

    reviewer = db.session.scalar(db.select(User).filter_by(username="reviewer"))
    for proposal in proposals:
        db.session.refresh(proposal)
        checks = automatic_checks(proposal)
        frozen = snapshot(proposal)
        frozen["checks"] = checks
        db.session.add(ProposalVersion(proposal_id=proposal.id, number=1, snapshot=frozen))
        db.session.add(
            Review(
                proposal_id=proposal.id,
                version=1,
                reviewer_id=reviewer.id if reviewer else None,
                decision="approve",
                comment="符合本轮规则，预算合理。",
                automatic_checks=checks,
            )
        )
    db.session.flush()


def load_demo(seed: int = 2026) -> str:
    """Load the demo district into an empty database; returns a short summary for the console."""
    if db.session.scalar(db.select(Community).limit(1)) is not None:
        return "The database already holds data; the demo was not loaded again."
    rng = random.Random(seed)
    community_a = Community(
        slug="xingfuli",
        name="幸福里社区",
        district="苏州市姑苏区",
        address="幸福路88号",
        description="建于1998年的老小区，1,200余户，老年人口占三成。",
    )
    community_b = Community(
        slug="fengqiao",
        name="枫桥社区",
        district="苏州市姑苏区",
        address="枫桥路12号",
        description="新建商品房小区，年轻家庭较多。",
    )
    db.session.add_all([community_a, community_b])
    db.session.flush()

    org = Organization(
        name="姑苏邻里互助社工服务中心",
        registration_number="52320508MJ1234567X",
        contact_name="陈晓",
        contact_phone="0512-65000000",
        field_of_work="为老服务、社区营造",
        status=APPROVED,
    )
    db.session.add(org)
    db.session.flush()
    staff = _create_staff(community_a, community_b, org)

    round_a = FundingRound(
        community_id=community_a.id,
        name="2026年度为民服务专项资金",
        year=2026,
        phase="ballot",
        budget_fen=20_000_000,
        per_project_cap_fen=8_000_000,
        vote_unit="household",
        allocation_rule="greedy",
        notice_days=7,
        description="社区为民服务专项资金，由居民议事会投票决定用途。",
    )
    round_a.categories = [
        RoundCategory(code=c, name=n, position=i) for i, (c, n) in enumerate(CATEGORIES)
    ]
    round_a.fund_sources = [
        FundSource(
            name="为民服务专项资金", kind="general", amount_fen=15_000_000, donor="姑苏区财政"
        ),
        FundSource(
            name="社区基金会·为老专项",
            kind="restricted",
            amount_fen=3_000_000,
            categories=["elderly"],
            per_project_cap_fen=2_000_000,
            donor="幸福里社区基金会",
        ),
        FundSource(
            name="共建单位配捐",
            kind="matching",
            amount_fen=2_000_000,
            match_ratio_percent=100,
            donor="苏州某银行姑苏支行",
        ),
    ]
    round_b = FundingRound(
        community_id=community_b.id,
        name="2026年度社区微基金",
        year=2026,
        phase="intake",
        budget_fen=20_000_000,
        vote_unit="resident",
    )
    round_b.categories = [
        RoundCategory(code=c, name=n, position=i) for i, (c, n) in enumerate(CATEGORIES)
    ]
    round_b.fund_sources = [
        FundSource(name="为民服务专项资金", kind="general", amount_fen=20_000_000)
    ]
    db.session.add_all([round_a, round_b])
    db.session.flush()

    needs = []
    channels = ("online", "online", "visit", "paper", "assembly")
    for index, (category, title, description, place) in enumerate(NEEDS):
        need = Need(
            community_id=community_a.id,
            round_id=round_a.id,
            tracking_code=f"D{index + 1:03d}{rng.randrange(10**5):05d}",
            title=title,
            description=description,
            category_code=category,
            place=place,
            channel=channels[index % len(channels)],
            status="accepted" if index < 7 else "new",
            support_count=rng.randint(3, 60),
        )
        db.session.add(need)
        needs.append(need)
    db.session.flush()

    proposals = []
    for title, category, summary, beneficiaries, location, items, need_indexes in PROPOSALS:
        proposal = Proposal(
            round_id=round_a.id,
            organization_id=org.id,
            title=title,
            summary=summary,
            beneficiaries_count=beneficiaries,
            beneficiaries_desc="本社区居民",
            location=location,
            start_date=date(2026, 3, 1),
            end_date=date(2026, 9, 30),
            category_code=category,
            implementer=org.name,
            status="approved",
            version=1,
        )
        for position, (description, quantity, unit, unit_cost) in enumerate(items):
            total = int(Decimal(quantity) * unit_cost)
            proposal.line_items.append(
                LineItem(
                    position=position,
                    description=description,
                    quantity=Decimal(quantity),
                    unit=unit,
                    unit_cost_fen=unit_cost,
                    total_fen=total,
                )
            )
        proposal.total_fen = sum(item.total_fen for item in proposal.line_items)
        proposal.needs = [needs[i] for i in need_indexes]
        db.session.add(proposal)
        proposals.append(proposal)
    db.session.flush()
    _review_history(proposals)

    ballot = Ballot(
        round_id=round_a.id,
        title="2026年度居民议事会投票",
        method="approval",
        mode="mixed",
        status="draft",
        min_choices=1,
        max_choices=3,
        quorum_kind="households_percent",
        quorum_value=50,
        pass_threshold_percent=50,
        results_visible_live=True,
    )
    ballot.items = [BallotItem(proposal_id=p.id, position=i) for i, p in enumerate(proposals)]
    db.session.add(ballot)
    db.session.flush()
    db.session.add(
        Assembly(
            ballot_id=ballot.id,
            title="2026年度居民议事会",
            place="社区服务中心二楼会议室",
            starts_at=utcnow().replace(microsecond=0) + timedelta(days=3),
        )
    )

    households_a = _registry(community_a, rng, buildings=6)
    _registry(community_b, rng, buildings=3)

    # Cards for building 1: the tokens exist only in the CSV written now, as a real print run.
    cards_path = Path(current_app.instance_path) / "demo-cards.csv"
    cards_path.parent.mkdir(parents=True, exist_ok=True)
    cards_path.unlink(missing_ok=True)  # made again, readable by its owner only: it holds tokens
    fd = os.open(cards_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["voter", "token", "short_code"])
        for household in households_a[:24]:
            token, short = new_token(), new_short_code()
            db.session.add(
                Credential(
                    ballot_id=ballot.id,
                    voter_key=f"h{household.id}",
                    token_hash=hash_secret(token),
                    short_code_hash=hash_secret(short),
                )
            )
            writer.writerow([safe_cell(household.address), token, format_short_code(short)])
    db.session.commit()

    residents = db.session.scalar(db.select(db.func.count(Resident.id)))
    return (
        f"Demo district loaded: 2 communities, {len(needs)} needs, {len(proposals)} proposals, "
        f"{len(households_a)} households and {residents} residents in the registry.\n"
        f"Staff accounts ({', '.join(staff)}) all use the password: {DEMO_PASSWORD}\n"
        f"24 voter cards were issued; their tokens are in {cards_path}"
    )
