"""Plausible Chinese personal names and phone numbers, drawn from a seeded ``random.Random``."""

import random

#: Surname weights (per mille, rounded), national frequency with a Zhejiang lean for locals.
_SURNAMES = (
    "王71 李70 张67 刘54 陈45 杨31 黄22 赵20 吴20 周19 徐15 孙14 马12 朱12 胡11 郭11 何10 "
    "高10 林10 罗9 郑9 梁9 谢8 宋7 唐7 许7 韩7 冯6 邓6 曹6 彭5 曾5 肖5 田5 董5 袁5 潘5 "
    "于5 蒋5 蔡4 余4 杜4 叶4 程4 苏4 魏4 吕4 丁4 任4 沈3 姚3 卢3 姜3 崔3 钟3 谭3 陆3 汪3 "
    "范3 金3 石3 廖3 贾3 夏3 韦3 付3 方3 白2 邹2 孟2 熊2 秦2 邱2 江2 尹2 薛2 段2 雷2 侯2 "
    "龙2 史2 陶2 黎2 贺2 顾2 毛2 郝2 龚2 邵2 万2 钱2 严2 武2 戴2 孔2 汤2 俞2 施2 章2 楼1 应1"
)
#: Extra weight of surnames common around Hangzhou (local families only).
_LOCAL_BOOST = {
    "陈": 30,
    "王": 10,
    "沈": 15,
    "徐": 10,
    "吴": 10,
    "朱": 8,
    "钱": 8,
    "金": 10,
    "叶": 8,
    "俞": 8,
    "施": 6,
    "章": 8,
    "楼": 6,
    "应": 5,
    "姚": 5,
    "孙": 5,
    "胡": 6,
    "蒋": 5,
    "汪": 5,
}


def _parse(spec: str) -> dict[str, int]:
    return {item[0]: int(item[1:]) for item in spec.split()}


_NATIONAL = _parse(_SURNAMES)
_LOCAL = {name: weight + _LOCAL_BOOST.get(name, 0) for name, weight in _NATIONAL.items()}
_NATIONAL_NAMES, _NATIONAL_WEIGHTS = tuple(_NATIONAL), tuple(_NATIONAL.values())
_LOCAL_NAMES, _LOCAL_WEIGHTS = tuple(_LOCAL), tuple(_LOCAL.values())

#: Given names by birth cohort and sex: (two-character names, one-character names).
_GIVEN = {
    ("old", "M"): (
        "建国 国庆 德明 志强 国强 建华 金龙 富贵 永福 长根 金海 洪亮 德胜 福林 国荣 水根 建平 "
        "明德 庆华 树林 家兴 海根 忠良 文华 宝根 金宝 正华 茂林 阿土 土根 炳生 荣富 银根 仁海",
        "强 明 华 林 军 勇 福 根 荣 海 生 发",
    ),
    ("old", "F"): (
        "秀英 桂英 玉兰 秀珍 凤英 桂兰 金花 美华 爱珍 彩凤 月娥 素珍 小妹 菊花 兰英 翠花 宝珍 "
        "玉梅 阿花 雪琴 杏花 银娣 金娣 月英 秀兰 梅芳 珠英 彩娥",
        "英 兰 珍 芳 秀 梅 娟 花 琴 凤 娣",
    ),
    ("mid", "M"): (
        "建军 建伟 志刚 海涛 晓东 国华 文斌 卫东 立新 红军 永强 建明 少华 伟民 俊杰 晓峰 海峰 "
        "志明 伟东 建忠 小平 国平 利民 新华 卫国 跃进 振华 金林 荣华 春林 海军 学军",
        "伟 强 军 勇 杰 磊 涛 斌 刚 超 明 辉 鹏 峰 平 飞",
    ),
    ("mid", "F"): (
        "丽华 红梅 晓燕 秀丽 海燕 丽萍 春燕 美玲 晓红 雪芳 玉芬 建英 丽娟 慧敏 小琴 亚萍 月芳 "
        "丽君 彩霞 美娟 红英 卫红 爱华 素芬 建芬 小燕 秋萍 琴芳",
        "丽 芳 敏 静 燕 红 艳 娟 霞 萍 英 琴",
    ),
    ("young", "M"): (
        "浩然 子豪 宇航 俊杰 志豪 鹏飞 家乐 天宇 一鸣 博文 宇轩 晨阳 振宇 嘉豪 俊熙 文杰 浩宇 "
        "明辉 泽宇 思远 凯文 伟杰 家豪 晓宇 俊辉 志远 文博 子健",
        "浩 宇 杰 轩 博 晨 豪 阳 涛 磊 斌 超",
    ),
    ("young", "F"): (
        "婷婷 雪莹 欣怡 佳琪 思琪 梦洁 雨婷 诗雨 晓雯 嘉怡 佳慧 可欣 雅琪 丹丹 静怡 梦婷 雅婷 "
        "佳颖 晓琳 思雨 文静 美琪 倩倩 紫薇 欣然 梦瑶 心怡 慧琳",
        "婷 雪 琳 颖 洁 倩 佳 悦 璐 瑶 晴 蕾",
    ),
    ("kid", "M"): (
        "梓轩 子墨 宇轩 浩宇 奕辰 睿泽 沐阳 俊熙 子睿 皓轩 宸宇 铭泽 瑞霖 明轩 煜城 子轩 一航 "
        "梓豪 浩轩 锦程 逸凡 承泽 嘉树 星辰 宇泽 思源 景行 天佑",
        "宸 睿 泽 轩 辰 昊 烨 翊 霖 铭",
    ),
    ("kid", "F"): (
        "一诺 欣怡 梓涵 诗涵 语桐 子涵 可馨 雨萱 若汐 思彤 芷若 依诺 梓萱 语嫣 沐晴 婉清 安琪 "
        "梓琪 雨桐 佳怡 诗琪 欣妍 芯蕊 可欣 晨曦 紫涵 语汐 梦琪",
        "萱 涵 妍 琪 彤 悦 瑶 桐 诺 汐",
    ),
}
_GIVEN_LISTS = {key: (two.split(), one.split()) for key, (two, one) in _GIVEN.items()}

MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "177",
    "180",
    "181",
    "182",
    "183",
    "186",
    "187",
    "188",
    "189",
    "199",
]


def surname(rng: random.Random, local: bool = True) -> str:
    """Return a surname, weighted by frequency (with a Hangzhou lean when ``local``)."""
    if local:
        return rng.choices(_LOCAL_NAMES, _LOCAL_WEIGHTS)[0]
    return rng.choices(_NATIONAL_NAMES, _NATIONAL_WEIGHTS)[0]


def other_surname(rng: random.Random, avoid: str, local: bool = True) -> str:
    """Return a surname different from ``avoid`` (spouses rarely share one)."""
    while True:
        value = surname(rng, local)
        if value != avoid:
            return value


def _cohort(birth_year: int) -> str:
    if birth_year < 1960:
        return "old"
    if birth_year < 1985:
        return "mid"
    if birth_year < 2008:
        return "young"
    return "kid"


def given_name(rng: random.Random, sex: str, birth_year: int) -> str:
    """Return a given name typical of the person's sex and birth cohort."""
    two, one = _GIVEN_LISTS[(_cohort(birth_year), sex)]
    return rng.choice(one) if rng.random() < 0.2 else rng.choice(two)


def full_name(rng: random.Random, sex: str, birth_year: int, family: str | None = None) -> str:
    return (family or surname(rng)) + given_name(rng, sex, birth_year)


def mobile(rng: random.Random) -> str:
    """Return an 11-digit mainland mobile number."""
    return rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def landline(rng: random.Random, area: str = "0571") -> str:
    """Return a Hangzhou-style 8-digit landline with its area code."""
    return f"{area}-8{rng.randrange(10**7):07d}"
