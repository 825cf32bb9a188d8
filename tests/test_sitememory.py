"""Site memory: what a page teaches, the fold, and the template pass."""
from workers.pipeline import process_page
from workers.pipeline.records import Memory, RawPage
from workers.pipeline.sitememory import TEMPLATE_MIN_PAGES, MemoryState, fold, memory_for, normalise

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
