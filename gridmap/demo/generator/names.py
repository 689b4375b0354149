"""Synthetic Chinese names for demo data: people, roads, buildings, facilities.

Everything here is invented; the character lists are ordinary, common ones so the names read
plausibly, and every draw goes through the caller's numpy Generator so output is reproducible.
"""

from __future__ import annotations

import numpy as np

# Common surnames, roughly in order of frequency (weights below favour the first ones).
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
)
GIVEN_CHARS = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉斌宇浩凯健俊帆帅"
    "旭宁亮飞瑞婷雪琳晶欣佳怡博文轩涵梓萱子豪晨阳思雨嘉琪春梅海波建国志强淑珍凤兰丹立新永成"
)
ROAD_PREFIXES = list(
    "万柳 长安 小河沿 东望 北海 滂江 龙之梦 善邻 和睦 广宜 天后宫 合作 东陵 大什字 北顺城 南顺城"
    " 小北 津桥 新华 文艺 青年 惠工 联合 砂阳 北陵 崇山 黄河 泰山 昆山 岐山 华山 鸭绿江 长江 珠江"
    " 松花江 辽河 浑河 富民 兴工 卫工 建设 重工 保工 北二 北四 南五 十一纬 三经 五爱 青年 团结"
    " 和平 中山 太原 南京 沈州 东北 望花 长青 劳动 工农 育才 丰乐 万寿 二台子 大北 小东 天坛"
    " 榆林 黎明 东塔 前进 上园 金山 汇工 新开河 南运河 五里河 双园 泉园 文化 富强 振兴 长白 白山".split()
)
ROAD_SUFFIXES = ["路", "街", "大街", "路", "街", "大路"]
HIGHWAY_SUFFIX = "公路"


def person_names(rng: np.random.Generator, n: int) -> list[str]:
    """Draw n synthetic 2–3 character personal names (surname + one or two given characters)."""
    weights = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.7
    sur = rng.choice(len(SURNAMES), size=n, p=weights / weights.sum())
    two = rng.random(n) < 0.7
    g1 = rng.integers(0, len(GIVEN_CHARS), size=n)
    g2 = rng.integers(0, len(GIVEN_CHARS), size=n)
    return [
        SURNAMES[s] + GIVEN_CHARS[a] + (GIVEN_CHARS[b] if t else "")
        for s, a, b, t in zip(sur, g1, g2, two, strict=True)
    ]


def phones(rng: np.random.Generator, n: int) -> list[str]:
    """Draw n synthetic mobile numbers '13' + 9 digits."""
    return [f"13{v:09d}" for v in rng.integers(0, 10**9, size=n)]


def road_names(rng: np.random.Generator, n: int) -> list[str]:
    """Draw n distinct plausible road names (prefix + 路/街/大街)."""
    combos = [p + s for p in ROAD_PREFIXES for s in dict.fromkeys(ROAD_SUFFIXES)]
    order = rng.permutation(len(combos))
    names = [combos[i] for i in order[: min(n, len(combos))]]
    while len(names) < n:  # more lines than combinations: number them like 北一路, 北二路…
        names.append(f"{ROAD_PREFIXES[len(names) % len(ROAD_PREFIXES)]}{len(names)}路")
    return names


def short_community_name(name: str) -> str:
    """'永顺社区' -> '永顺社区'; '王家村村民委员会' -> '王家村'; '…居委会' -> '…社区'."""
    for suffix, repl in (("村民委员会", "村"), ("村委会", "村"), ("居民委员会", "社区"),
                         ("居委会", "社区"), ("委员会", ""), ("委会", "")):
        if name.endswith(suffix):
            base = name[: -len(suffix)]
            return base if base.endswith(("村", "社区", "区")) else base + repl
    return name


def estate_name(community: str) -> str:
    """Residential-estate stem for building names: '万泉社区' -> '万泉小区', '王家村' -> '王家村'."""
    if community.endswith("社区"):
        return community[:-2] + "小区"
    return community
