"""Static vocabulary of the demo town: its name, offices, tags, place names and business templates.

Everything here is fictional and labelled as demo data; only the county code (杭州市余杭区) and
the ID address codes are real, because validators check them against GB/T 2260.
"""

TOWN_NAME = "清溪镇"
TOWN_LABEL = "清溪镇（演示）"
GOVERNMENT_NAME = "清溪镇人民政府（演示）"
#: Marks demo user accounts (users have no ``data_source`` column); ``.invalid`` never resolves.
DEMO_EMAIL_DOMAIN = "demo.invalid"

#: 杭州市余杭区 (the real county around lon 119.96, lat 30.27) and a fictional town number.
COUNTY_CODE = "330110"
TOWN_DIGITS = "118"
TOWN_CODE = COUNTY_CODE + TOWN_DIGITS + "000"
AREA_PHONE = "0571"

#: (code suffix, name, kind, staff username prefix). Kinds are orgs.choices.DepartmentKind values.
OFFICES = (
    ("DZB", "党政办公室", "office", "dzb"),
    ("ZZZX", "综合治理中心", "office", "zzzx"),
    ("CGB", "城市管理办公室", "office", "cgb"),
    ("STHJ", "生态环境办公室", "office", "sthj"),
    ("YJGL", "应急管理办公室", "office", "yjgl"),
    ("SHSW", "社会事务办公室", "office", "shsw"),
    ("NYNC", "农业农村办公室", "office", "nync"),
    ("GHJS", "规划建设办公室", "office", "ghjs"),
    ("TYJR", "退役军人服务站", "station", "tyjr"),
    ("WHZ", "综合文化站", "station", "whz"),
    ("PCS", "清溪派出所（联络）", "other", "pcs"),
    ("SCJG", "清溪市场监管所", "other", "scjg"),
)
#: The office whose staff lead the town-level grid.
GRID_OFFICE = "ZZZX"

#: (name, category, colour, description). Categories are people.choices.TagCategory values.
TAGS = (
    ("独居老人", "care", "#d63384", "70岁以上且独自居住的老人（演示数据）"),
    ("空巢老人", "care", "#e685b5", "60岁以上、家中无子女同住的老人（演示数据）"),
    ("残疾人", "care", "#6f42c1", "持有残疾人证的居民（演示数据）"),
    ("留守儿童", "care", "#fd7e14", "父母外出务工、由祖辈照料的未成年人（演示数据）"),
    ("低保户", "service", "#20c997", "享受最低生活保障的家庭成员（演示数据）"),
    ("特困人员", "service", "#198754", "特困供养人员（演示数据）"),
    ("退役军人", "service", "#0d6efd", "退役军人（演示数据）"),
    ("重点人员", "key", "#dc3545", "需要重点关注的人员（演示数据）"),
    ("党员", "party", "#c00000", "中共党员（演示数据）"),
)

#: Villages come first in this order, then generated two-character names.
VILLAGE_NAMES = (
    "桃源",
    "青山",
    "石桥",
    "竹坞",
    "枫林",
    "柳塘",
    "梅岭",
    "杏花",
    "荷塘",
    "兰溪",
    "松坪",
    "云岭",
    "龙潭",
    "凤凰",
    "金沙",
    "银湖",
    "新丰",
    "东岙",
    "西坞",
    "南湖",
    "北山",
    "上溪",
    "下洋",
    "高桥",
    "长埭",
    "永安",
    "和睦",
    "兴隆",
    "丰收",
    "福泉",
)
COMMUNITY_NAMES = (
    "清溪",
    "文昌",
    "兴华",
    "凤栖",
    "镇南",
    "锦绣",
    "和平",
    "长乐",
    "春晖",
    "晨光",
    "阳光",
    "嘉园",
)
NAME_FIRST = "桃青石竹枫柳梅杏荷兰松云龙凤金银新东西南北上下高长永安和兴丰福白黄红绿双三五九"
NAME_SECOND = "源山桥坞林塘岭花溪坪潭湖沙岙洋埭睦隆收泉口头庄埠渡港田岗湾园"

#: Street name roots of the communities; variants make them unique within the town.
STREET_ROOTS = (
    "人民",
    "解放",
    "文化",
    "兴业",
    "建设",
    "新华",
    "育才",
    "健康",
    "镇东",
    "镇北",
    "学府",
    "工业",
    "创业",
    "振兴",
    "秋水",
    "桂花",
    "樱花",
    "梧桐",
    "香樟",
    "荷风",
    "青石",
    "古井",
    "石板",
    "纺织",
    "丝绸",
    "茶香",
    "竹韵",
    "兰亭",
    "幸福",
    "富民",
    "安康",
    "仁和",
    "永兴",
    "广场",
    "体育",
    "公园",
    "市心",
    "花园",
    "民主",
    "团结",
)
STREET_VARIANTS = (
    ("路", "街")
    + tuple(f"{d}路" for d in "东西南北中")
    + tuple(f"{n}路" for n in "一二三四五六七八九十")
    + tuple(f"{n}街" for n in "一二三四五六七八九十")
)
ARTERIAL_EW = ("清溪大道", "迎宾大道", "滨溪大道", "兴镇大道", "通济大道", "望湖大道")
ARTERIAL_NS = ("溪源路", "环镇东路", "环镇西路", "锦程路", "宏图路", "云栖路")
COMPOUNDS = (
    "翠苑",
    "锦绣花园",
    "阳光家园",
    "清溪名苑",
    "文昌雅苑",
    "兴华新村",
    "凤栖小区",
    "和平里",
    "金色家园",
    "溪岸花园",
    "春江苑",
    "桂花园",
    "幸福里",
    "安居苑",
    "景秀园",
    "梧桐苑",
)
CN_DIGITS = "一二三四五六七八九十"

#: Public buildings of the town centre, handed to communities in order.
TOWN_PUBLIC_BUILDINGS = (
    GOVERNMENT_NAME,
    "清溪镇中心小学（演示）",
    "清溪镇卫生院（演示）",
    "清溪镇中心幼儿园（演示）",
    "清溪镇文化中心（演示）",
    "清溪镇初级中学（演示）",
)

OCCUPATIONS_VILLAGE = (
    ("务农", 22),
    ("茶农", 6),
    ("企业职工", 20),
    ("个体经营", 9),
    ("外出务工", 12),
    ("建筑工人", 6),
    ("驾驶员", 4),
    ("电商从业者", 4),
    ("教师", 2),
    ("医护人员", 1),
    ("村干部", 1),
    ("无业", 8),
)
OCCUPATIONS_COMMUNITY = (
    ("企业职工", 30),
    ("个体经营", 12),
    ("公务员", 3),
    ("教师", 4),
    ("医护人员", 3),
    ("服务业", 12),
    ("快递员", 3),
    ("外卖骑手", 3),
    ("网约车司机", 2),
    ("自由职业", 5),
    ("社区工作者", 1),
    ("无业", 8),
)
OCCUPATIONS_FLOATING = (
    ("工厂工人", 30),
    ("建筑工人", 12),
    ("快递员", 8),
    ("外卖骑手", 8),
    ("餐饮服务员", 10),
    ("个体经营", 12),
    ("保洁员", 5),
    ("保安", 4),
    ("装修工", 6),
    ("无业", 5),
)
OUTSIDE_EMPLOYERS = (
    "杭州某电子科技有限公司",
    "余杭区某物流有限公司",
    "杭州某服装有限公司",
    "某建筑工程有限公司",
    "杭州某食品有限公司",
    "某快递网点",
    "杭州某机械制造有限公司",
    "某家政服务公司",
)

#: Business templates: (weight, unit kind, name stems, suffixes, industry, where).
#: ``where`` is "village", "community" or "any". Unit kinds map to USCC prefixes in codes.py.
BUSINESS_TEMPLATES = (
    (14, "individual", ("五金", "日杂", "百货", "烟酒"), ("店", "商行"), "F", "any"),
    (10, "individual", ("面馆", "小吃", "土菜馆", "快餐"), ("",), "H", "any"),
    (6, "individual", ("理发", "美发"), ("店", "工作室"), "O", "any"),
    (5, "individual", ("家电维修", "摩托车维修", "汽车修理"), ("部", "店"), "O", "any"),
    (5, "individual", ("超市", "便利店"), ("",), "F", "any"),
    (4, "individual", ("农资", "种子"), ("店", "经营部"), "F", "village"),
    (3, "individual", ("水果", "生鲜"), ("店",), "F", "community"),
    (3, "individual", ("药房",), ("",), "F", "community"),
    (
        8,
        "enterprise",
        ("机械", "五金制品", "塑料制品", "纺织", "服饰", "竹木制品"),
        ("有限公司", "厂"),
        "C",
        "any",
    ),
    (3, "enterprise", ("建材", "装饰工程"), ("有限公司",), "E", "any"),
    (3, "enterprise", ("物流", "运输"), ("有限公司",), "G", "any"),
    (3, "enterprise", ("电子商务", "网络科技"), ("有限公司",), "I", "community"),
    (2, "enterprise", ("农业开发", "茶业"), ("有限公司",), "A", "village"),
    (2, "enterprise", ("物业管理",), ("有限公司",), "K", "community"),
    (2, "enterprise", ("酒店", "民宿"), ("",), "H", "any"),
    (2, "cooperative", ("茶叶", "蔬菜", "水果", "竹笋", "养殖"), ("专业合作社",), "A", "village"),
    (1, "social", ("养老服务中心", "托育中心"), ("",), "Q", "community"),
    (1, "social", ("老年人协会", "志愿者协会"), ("",), "S", "any"),
)
#: Shop name stems (人名字号 and place words) put in front of a template stem.
SHOP_PREFIXES = (
    "兴旺",
    "顺发",
    "鑫源",
    "永盛",
    "利民",
    "惠民",
    "阿强",
    "老张",
    "红星",
    "金鑫",
    "恒通",
    "友谊",
    "乐购",
    "家和",
    "美佳",
    "华联",
    "宏达",
    "隆昌",
    "万福",
    "同心",
    "春风",
    "新时代",
    "好运",
    "聚福",
)
