"""Site memory: what a page teaches, the fold, and the template pass."""
import random

from workers.pipeline import process_page
from workers.pipeline.records import Label, LineFingerprints, Memory, RawPage, Segment
from workers.pipeline.sitememory import (TEMPLATE_MIN_PAGES, Limits, MemoryState, SiteState, fold, fold_site, line_digests,
                                         memory_for, normalise, template_pass, window_state)

ARTICLE = "\n\n".join([
    "央行发布五月金融数据",
    "五月末，广义货币余额同比增长百分之八点三，增速比上月末低零点一个百分点，比上年同期低一点三个百分点。",
    "当月人民币贷款增加一万一千五百亿元，同比多增三百二十亿元，其中住户部门贷款增加较多。",
    "分析人士认为，社会融资规模增量偏低主要受表外融资收缩影响，后续政策仍将保持稳健中性的基调。",
])


def page(site: str, n: int, body: str) -> RawPage:
    return RawPage(url=f"https://{site}/a/{n}.html", text=f"首页 | 新闻 | 财经\n\n{body}\n\n版权所有 本站", site=site)


def test_digits_and_dates_are_masked():
    assert normalise("2017年05月22日  10:30") == normalise("2020年1月3日 09:05")


def test_the_same_page_twice_teaches_nothing():
    raw = page("a.cn", 1, ARTICLE)
    seen = process_page(raw).observations.line_fingerprints
    state = fold(MemoryState(), seen)
    assert fold(state, seen).sites["a.cn"].pages == state.sites["a.cn"].pages


def test_a_line_on_every_page_becomes_template_and_the_article_keeps_its_paragraphs():
    state = MemoryState()
    for n in range(TEMPLATE_MIN_PAGES + 2):
        body = ARTICLE.replace("五月", "甲乙丙丁戊己庚辛壬癸"[n] + "五月") + f"\n\n本站推荐：阅读更多财经报道请关注我们的频道，每日更新重要新闻。"
        state = fold(state, process_page(page("a.cn", n, body)).observations.line_fingerprints)
    template = memory_for(state, page("a.cn", 99, ARTICLE)).site_template
    assert template
    result = process_page(page("a.cn", 99, ARTICLE + "\n\n本站推荐：阅读更多财经报道请关注我们的频道，每日更新重要新闻。"),
                          Memory(site_template=template))
    assert "本站推荐" not in result.article.body
    assert "广义货币余额" in result.article.body and result.article.title


def test_a_hostile_site_cannot_take_another_sites_article_content():
    line = ARTICLE.split("\n\n")[1]
    state = MemoryState()
    for n in range(1000):
        junk = f"垃圾页面编号{n}，内容毫无意义，仅用于测试。\n\n{line}"
        state = fold(state, process_page(page("junk.cn", n, junk)).observations.line_fingerprints)
    raw = page("victim.cn", 1, ARTICLE)
    assert process_page(raw, memory_for(state, raw)).article.body == process_page(raw).article.body


def test_the_limits_bound_the_window_the_sites_and_the_template():
    limits = Limits(window_pages=2, min_share=0.5, min_pages=2, max_sites=2)
    state = MemoryState(limits=limits)
    for n in range(3):
        state = fold(state, LineFingerprints(site="a.cn", page=f"p{n}", lines=("nav", f"own{n}")))
    assert len(state.sites["a.cn"].pages) == 2 and state.template("a.cn") == {"nav"}
    for site in ("b.cn", "c.cn"):
        state = fold(state, LineFingerprints(site=site, page="p", lines=("nav",)))
    assert list(state.sites) == ["b.cn", "c.cn"]  # the least recently seen site is forgotten
    assert state.limits == limits


def test_the_template_takes_neither_the_title_nor_a_caption():
    lines = [("站点导航 首页", Label.PARAGRAPH), ("标题", Label.TITLE), ("（图片来源：图库）", Label.CAPTION),
             (ARTICLE.split("\n\n")[1], Label.PARAGRAPH), ("本站推荐阅读", Label.PARAGRAPH)]
    segments = [Segment(index=i, text=text, start=0, end=0, label=label) for i, (text, label) in enumerate(lines)]
    digests = line_digests(segments)
    template = frozenset(d for d, (text, _) in zip(digests, lines) if text != lines[3][0])
    template_pass(segments, digests, template)
    assert [s.label for s in segments] == [Label.NAVIGATION, Label.TITLE, Label.CAPTION, Label.PARAGRAPH, Label.FOOTER]
    assert segments[4].features == {"template": 1, "first": Label.PARAGRAPH, "reason": "site_template"}


def test_the_template_kept_with_the_window_is_the_one_its_counts_give():
    """Revised page by page, the template is always the one recounted from the window (also while the
    window grows past the bar, and for a state rebuilt from its numbered pages)."""
    limits = Limits(window_pages=6, min_share=0.5, min_pages=2)
    rng = random.Random(7)
    state, numbered = SiteState(), []
    for n in range(40):
        lines = tuple(f"line{k}" for k in sorted(rng.sample(range(10), 4)))
        state = fold_site(state, LineFingerprints(site="a.cn", page=f"p{n}", lines=lines), limits)
        numbered.append((n, f"p{n}", lines))
        least = max(limits.min_pages, limits.min_share * len(state.pages))
        assert state.template == {line for line, count in state.counts.items() if count >= least}
        assert window_state(numbered, limits).template == state.template


def test_between_the_template_lines_dropped_prose_is_restored_but_a_list_entrys_summary_is_not():
    # The article lies between the site's template lines: a second part the classifier cut off comes
    # back; the lead under a bulleted teaser of a related list stays the list's.
    paragraphs = ARTICLE.split("\n\n")[1:]
    lines = [("站点导航 首页", Label.NAVIGATION), (paragraphs[0], Label.PARAGRAPH), (paragraphs[1], Label.FOOTER),
             ("* 央行：下半年货币政策保持稳健", Label.RECOMMENDATION), (paragraphs[2], Label.RECOMMENDATION),
             ("版权所有 本站", Label.FOOTER)]
    segments = [Segment(index=i, text=text, start=0, end=0, label=label) for i, (text, label) in enumerate(lines)]
    digests = line_digests(segments)
    template_pass(segments, digests, frozenset((digests[0], digests[-1])))
    assert [s.label for s in segments] == [Label.NAVIGATION, Label.PARAGRAPH, Label.PARAGRAPH, Label.RECOMMENDATION,
                                           Label.RECOMMENDATION, Label.FOOTER]
    assert segments[2].features["reason"] == "site_template_stretch"
