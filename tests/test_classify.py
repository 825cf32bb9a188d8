"""Labelling segments: the reference page line by line, and the signals behind the labels."""
from __future__ import annotations

import json

import pytest

from tests.conftest import SEED
from workers.pipeline.classify import ContentModel, analyse, classify, content_model, forget_lines, signals
from workers.pipeline.records import CONTENT_LABELS, LABELS, NOISE_LABELS, Segment
from workers.pipeline.split import split_segments

IN_ARTICLE = set(CONTENT_LABELS)


@pytest.fixture(scope="module")
def seed_pairs(seed_text: str) -> list[tuple[dict, Segment]]:
    gold = [json.loads(line) for line in (SEED / "segments.gold.jsonl").read_text(encoding="utf-8").splitlines()]
    segments = split_segments(seed_text)
    classify(segments)
    assert len(segments) == len(gold)
    return list(zip(gold, segments))


def labelled(raw: str) -> list[Segment]:
    segments = split_segments(raw)
    classify(segments)
    return segments


def test_every_seed_line_is_on_the_right_side_of_the_article(seed_pairs) -> None:
    wrong = [(g["line"], g["label"], s.label) for g, s in seed_pairs if (g["label"] in IN_ARTICLE) != (s.label in IN_ARTICLE)]
    assert wrong == []


def test_seed_title_headings_and_source(seed_pairs) -> None:
    by_label: dict[str, list[str]] = {}
    for g, s in seed_pairs:
        if g["label"] in ("title", "heading", "source"):
            by_label.setdefault(g["label"], []).append(s.label)
    assert by_label["title"] == ["title"]
    assert by_label["heading"] == ["heading"] * 6
    assert by_label["source"] == ["source"]


def test_seed_noise_lines_get_their_own_class(seed_pairs) -> None:
    noise = [(g["label"], s.label) for g, s in seed_pairs if g["label"] in NOISE_LABELS]
    right = sum(1 for want, got in noise if want == got)
    assert len(noise) > 40
    assert right >= 0.95 * len(noise)


def test_labels_scores_and_features_are_set(seed_pairs) -> None:
    for _, s in seed_pairs:
        assert s.label in LABELS
        assert 0.0 <= s.score <= 1.0
        assert s.features and len(s.features) <= 7
        assert s.features["reason"] in {"model", "title", "byline", "thread_post", "list_page"} or s.features["reason"].startswith(("zone:", "kind:"))


def test_recommendation_list_after_the_article(seed_pairs) -> None:
    entries = [s.label for g, s in seed_pairs if g["label"] == "recommendation"]
    assert entries.count("recommendation") == len(entries)


NAV = "首页\n新闻\n体育\n财经\n登录\n注册\n"
FOOTER = "\n关于我们 | 联系我们\n版权所有 © 2024 京ICP备12345678号\n"


def test_traditional_chinese_article_is_kept() -> None:
    article = (
        "（法新社羅馬19日電） 德國網球好手茲韋列夫（Alexander Zverev）今天以6比4、7比5擊敗智利選手賈瑞（Nicolas Jarry），"
        "在義大利公開賽拿下他2年前在法國公開賽受傷以來最重要的冠軍。\n\n"
        "世界排名第5的茲韋列夫，今天是繼2017年後再度在義大利網賽封王，為下週末登場的法國公開賽做好暖身。\n\n"
        "他2022年在法網男單四強賽時，曾以恐怖角度傷及腳踝。\n\n"
        "他今天在賽後感性地說，「羅馬對我來說是意義非凡地地方。」\n"
    )
    segments = labelled(NAV + "\n義大利公開賽 茲韋列夫封王\n\n" + article + FOOTER)
    kept = [s.text for s in segments if s.label == "paragraph"]
    assert kept == [p for p in article.split("\n\n") if p.strip()] or kept == [p.strip() for p in article.split("\n\n")]
    assert {s.label for s in segments if s.text in ("首页", "登录")} <= set(NOISE_LABELS)
    assert [s.label for s in segments if "ICP" in s.text] == ["footer"]


def test_article_mixing_english_is_kept() -> None:
    paragraphs = [
        "对于第2条，在mac高版本上是不适用的（即容器之间可以通过hostname来访问），虽然翻遍了官方文档，也没找到支持的论据，"
        "只能怀疑是高版本的feature（linux podman版本4.4.1，mac podman版本4.8.3）。",
        "Jenny的公司主营家具五金类产品。那些 Made in China的大件小件，不少是经由红海航线之旅，输送到世界各地的货架上，"
        "进而为祖国每年数十万亿的出口交易额，再添九位数。",
    ]
    segments = labelled(NAV + "\n" + "\n\n".join(paragraphs) + "\n" + FOOTER)
    assert [s.text for s in segments if s.label == "paragraph"] == paragraphs


def test_english_headline_list_is_not_the_article() -> None:
    teasers = "\n".join(
        f"+ News • {i} 小時前\nNvidia stock closes above $1,000 for the first time ever following report {i}"
        for i in range(1, 12)
    )
    article = "路透月度調查顯示，日本企業信心5月保持穩定，但製造業及服務業反映，日圓疲弱帶來的通脹壓力正損害利潤，企業面對原材料價格、勞動力及電費等成本上升。"
    segments = labelled(teasers + "\n\n" + article + "\n")
    assert [s.text for s in segments if s.label in IN_ARTICLE and s.label != "title"] == [article]


def test_recommendation_header_and_teasers_after_the_article() -> None:
    article = "\n\n".join(
        [
            "习近平在上海调研期间专门召开这次座谈会。座谈会上，国家发展改革委主任郑栅洁、上海市委书记陈吉宁先后发言，就推进长三角一体化发展汇报工作情况、提出意见建议。",
            "听取大家发言后，习近平发表了重要讲话。他指出，长三角一体化发展战略提出并实施5年来，规划政策体系形成并不断完善，现代化产业体系加快建立。",
        ]
    )
    tail = "\n\n相关阅读\n* 电动车多次降价，品质是否有保障？\n* “网络厕所”会造成什么影响？\n* 华强北的二手手机是否靠谱？\n"
    segments = labelled(article + tail)
    assert [s.label for s in segments[-4:]] == ["recommendation"] * 4
    assert [s.label for s in segments[:2]] == ["paragraph", "paragraph"]


def test_ui_chrome_and_byline() -> None:
    segments = labelled(
        "来源：新华社 作者：张三 2023-12-01 14:43\n\n"
        "新华社上海11月30日电 中共中央总书记习近平30日上午在上海主持召开深入推进长三角一体化发展座谈会并发表重要讲话，他强调要完整、准确、全面贯彻新发展理念。\n\n"
        "分享到： 微信 微博 QQ空间\n"
    )
    assert [s.label for s in segments] == ["source", "paragraph", "ui_chrome"]


def test_a_reprint_notice_is_footer() -> None:
    article = "农历腊月初八是腊八节，腊八节要吃腊八粥，豆子那么硬，怎样才能煮出一锅软糯香甜的好粥呢？" * 2
    segments = labelled(f"{article}\n\n本网专稿，未经书面授权请勿转载。\n")
    assert [s.label for s in segments] == ["paragraph", "footer"]


def test_no_segments_is_fine() -> None:
    segments: list[Segment] = []
    classify(segments)
    assert segments == []


def test_content_model_weighs_only_signals_the_classifier_computes(seed_text: str) -> None:
    segments = split_segments(seed_text)
    columns = signals(analyse(segments))
    model = content_model()
    assert set(model.weights) == set(columns) and all(len(column) == len(segments) for column in columns.values())
    probabilities = model.probabilities(columns)
    classify(segments)
    assert all(s.score == p and s.features["p"] == round(p, 3) for s, p in zip(segments, probabilities))


def test_a_line_is_classified_alike_whatever_pages_came_before(seed_text: str) -> None:
    # The passes revise a block's kind (a headline in a row of headlines becomes a teaser); the form
    # kept for a line must stay the line's own, so the next page with that line is unaffected.
    headlines = ["三亚这片海滩为何一夜爆红？游客直呼太美了", "他退休后回村种地，十年后乡亲们都来取经！",
                 "这种早餐千万别再吃了，医生一再提醒注意", "一家三口自驾游遇暴雨，接下来的一幕让人泪目"]
    article = "本市今年新建公园十二座，市民出门五百米就能走进绿地，这是城市更新计划的一部分。" * 3
    pages = [seed_text, "\n\n".join(["城市新添十二座公园", article, *headlines]),
             "\n\n".join(["城市新添十二座公园", headlines[0], article]), seed_text]

    def verdicts(raw: str) -> list[tuple]:
        return [(s.label, s.score, s.features) for s in labelled(raw)]

    after_others = [verdicts(raw) for raw in pages]
    alone = []
    for raw in pages:
        forget_lines()
        alone.append(verdicts(raw))
    assert after_others == alone


def test_content_model_decides_content_by_its_threshold() -> None:
    raw = NAV + "\n" + "\n\n".join(
        [
            "习近平在上海调研期间专门召开这次座谈会。座谈会上，国家发展改革委主任郑栅洁、上海市委书记陈吉宁先后发言，就推进长三角一体化发展汇报工作情况。",
            "听取大家发言后，习近平发表了重要讲话。他指出，长三角一体化发展战略提出并实施5年来，规划政策体系形成并不断完善。",
        ]
    )
    keep_all = ContentModel(weights={}, bias=10.0)
    keep_none = ContentModel(weights={}, bias=-10.0)
    kept = [s.label for s in labelled_with(raw, keep_all) if s.label in IN_ARTICLE]
    assert [s.label for s in labelled_with(raw, keep_none) if s.features["reason"] == "model" and s.label in IN_ARTICLE] == []
    assert kept.count("paragraph") == 2


def test_a_run_the_model_keeps_nothing_of_keeps_its_prose(seed_pairs) -> None:
    paragraphs = [
        "中证网讯 某科技公司6月13日晚间公布中签率。回拨后网下最终发行数量为320万股，占本次发行数量的10.00%，网上最终发行数量为2,880万股。",
        "回拨后，本次网上按市值申购定价发行的中签率0.03%，有效申购倍数为3,324.90797倍。（记者）",
    ]
    segments = labelled_with("\n".join([*NAV.split(), "某科技公司中签率为0.03%", *paragraphs, *FOOTER.split("\n")]),
                             ContentModel(weights={}, bias=-10.0))
    kept = [s for s in segments if s.label in IN_ARTICLE and s.label != "title"]
    assert [s.text for s in kept] == paragraphs
    assert all(s.features["reason"] == "run_prose" and s.features["first"] not in IN_ARTICLE for s in kept)
    # Where the model keeps some of the run, it alone decides the rest.
    assert all(segment.features["reason"] != "run_prose" for _, segment in seed_pairs)


def labelled_with(raw: str, model: ContentModel) -> list[Segment]:
    segments = split_segments(raw)
    classify(segments, model)
    return segments


def test_training_labels_come_from_the_gold_body() -> None:
    from workers.commands.train_classifier import Page

    prose = "长春国际汽车城成为长春高质量发展“四大板块”战略的重要一极，进展迅速，全市上下齐心协力推动各项工作。"
    page = Page("test", f"首页\n新闻\n\n{prose}\n\n相关阅读\n长春发展迅速\n", f"长春 发展\n{prose}")
    assert page.labels == [False, False, True, False, False]
    assert abs(sum(page.weights) - 1.0) < 1e-9


def test_training_reads_every_page_in_every_rendering_and_holds_its_copies_out_with_it(tmp_path) -> None:
    from workers.commands.train_classifier import load_pages, site_folds
    from workers.renderings import RENDERINGS

    prose = "长春国际汽车城成为长春高质量发展“四大板块”战略的重要一极，进展迅速，全市上下齐心协力推动各项工作。"
    corpus = tmp_path / "pages.jsonl"
    corpus.write_text("".join(json.dumps({"text": f"首页 新闻\n第{k}篇\n{prose}\n", "gold": {"body": prose}},
                                         ensure_ascii=False) + "\n" for k in range(7)), encoding="utf-8")
    pages = load_pages([corpus])
    assert [p.rendering for p in pages[:3]] == ["", *RENDERINGS]
    assert [p.text for p in pages[1:3]] == [render(pages[0].text) for render in RENDERINGS.values()]
    assert all(any(p.labels) for p in pages)
    folds = site_folds(pages)
    by_page = [set(folds[k:k + 3]) for k in range(0, len(pages), 3)]
    assert all(len(f) == 1 for f in by_page)
    assert len({f.pop() for f in by_page}) == 5  # seven pages dealt over five folds


def test_thread_replies_are_kept_and_their_furniture_dropped() -> None:
    raw = "\n\n".join(
        [
            "首页 话题 标签 登录",
            "小明",
            "2021-01-01 10:34:38",
            "可以的 好好休息开开心心过年",
            "点赞",
            "评论",
            "阿花",
            "2021-01-01 10:33:52",
            "元旦快乐！",
            "点赞",
            "评论",
            "老王",
            "2020-12-31 20:45:39",
            "我们放一天上一天再放一天",
            "点赞",
            "评论",
        ]
    )
    segments = labelled(raw)
    kept = {s.text for s in segments if s.label in CONTENT_LABELS}
    assert {"可以的 好好休息开开心心过年", "元旦快乐！", "我们放一天上一天再放一天"} <= kept
    assert not kept & {"点赞", "评论", "小明", "阿花", "老王"}


def test_a_row_of_headlines_is_a_teaser_list() -> None:
    article = "本市今年新建公园十二座，市民出门五百米就能走进绿地，这是城市更新计划的一部分。" * 3
    teasers = [
        "* 三亚这片海滩为何一夜爆红？游客直呼太美了",
        "* 他退休后回村种地，十年后乡亲们都来取经！",
        "* 这种早餐千万别再吃了，医生一再提醒注意",
        "* 一家三口自驾游遇暴雨，接下来的一幕让人泪目",
        "* 月薪三千和月薪三万的人，差别到底在哪里？",
    ]
    segments = labelled("\n\n".join(["城市新添十二座公园", article, *teasers]))
    assert [s.label for s in segments[2:]] == ["recommendation"] * len(teasers)


def test_dated_teaser_list_is_not_a_thread() -> None:
    article = "本市今年新建公园十二座，市民出门五百米就能走进绿地，这是城市更新计划的一部分。" * 3
    entries = [
        ("2024-05-23 17:19:11", "终于说了实话！舰队司令称火箭军完全可以直接击中他们", "懂球帝"),
        ("2024-05-22 09:47:18", "朱婷前脚刚和女排会合，后脚就被俱乐部官宣离队：祝未来好运", "林子说事"),
        ("2024-05-23 18:40:15", "人过七十，走完了这几步就离归去不远了，要有心理准备", "四象八卦"),
        ("2024-05-24 00:08:12", "一文揭秘八年沉浮：总投资超十亿欧！后续还能再分三亿欧", "风过乡"),
    ]
    raw = "\n\n".join(["城市新添十二座公园", article, *(line for entry in entries for line in entry)])
    segments = labelled(raw)
    kept = {s.text for s in segments if s.label in CONTENT_LABELS}
    assert article in kept
    assert not kept & {text for entry in entries for text in entry}



def test_replies_that_read_like_headlines_are_kept_under_floor_numbers() -> None:
    replies = [
        "这个问题我也遇到过好几次后来换了个版本就好了",
        "楼上说得对我这边升级到新版本以后也没有再出现",
        "请问一下你们用的是哪个版本的驱动程序呢谢谢",
    ]
    question = "我的电脑升级系统以后，打印机就再也连不上了，重装了驱动也没有用，大家有没有遇到过这种情况？" * 2
    floors = [line for k, reply in enumerate(replies, 2) for line in (f"{k}楼", reply)]
    raw = "\n\n".join(["首页 话题 标签 登录", "1楼", question, *floors])
    segments = labelled(raw)
    kept = {s.text for s in segments if s.label in CONTENT_LABELS}
    assert set(replies) <= kept


def test_an_inline_advertisement_ends_at_its_close_button() -> None:
    paragraphs = [
        "斯诺克名将在今年的世锦赛上再次提前出局，这已经是他连续第三年止步于正赛首轮。" * 3,
        "尽管事业曲折，但他的生活依然充实，他在英国经营着自己的球馆，也培养了不少年轻球员。" * 2,
        "他说自己还会继续打下去，因为赢得世界冠军仍然是他一直以来最大的梦想。" * 2,
    ]
    raw = "\n\n".join(["名将再次止步首轮", "来源：新华社", paragraphs[0], "广告", "三十八岁女领导的生活日记曝光", "×", *paragraphs[1:]])
    segments = labelled(raw)
    kept = {s.text for s in segments if s.label in CONTENT_LABELS}
    assert set(paragraphs) <= kept
    assert "三十八岁女领导的生活日记曝光" not in kept


def test_a_header_over_a_numbered_list_heads_the_article_s_list() -> None:
    lead = "本周末全市六十多家景区推出门票半价活动，市民和游客可以提前在官方渠道预约购票。" * 3
    items = [
        "1、东方明珠广播电视塔：成人票原价二百七十九元，活动期间半价，需要提前一天预约。",
        "2、野生动物园：成人票原价一百六十五元，其余单票型均不参加本次半价活动。",
        "3、自然博物馆：成人票原价三十元，学生票和老人票的价格保持不变。",
    ]
    segments = labelled("\n\n".join(["景区门票半价", "来源：东方网", lead, "门票半价优惠景点", *items]))
    kept = {s.text for s in segments if s.label in CONTENT_LABELS}
    assert set(items) <= kept


def test_a_thread_s_title_comes_before_its_first_post() -> None:
    replies = [
        ("alimy", "发展大了的聊天软件毕竟也要受监管，凡是中心化的东西都逃不过"),
        ("henry", "说实话端到端加密并不是大众的刚性需求"),
        ("alimy", "要我说，端密聊天从运营者的角度来看，就是一个需要投入很多成本却很难赚钱的特性，但是用户还是会为潜在的需求买单。" * 2),
    ]
    lines = ["广场 话题 登录 注册", "发现个端到端加密的聊天工具挺有意思", "2023-07-06 23:12"]
    for k, (who, text) in enumerate(replies):
        lines += [who, text, f"2023-07-07 0{k}:41", "0"]
    titles = [s.text for s in labelled("\n\n".join(lines)) if s.label == "title"]
    assert titles == ["发现个端到端加密的聊天工具挺有意思"]


def test_dotted_dates_stamp_replies_too() -> None:
    question = "2020年的直播课即将再次启动，将以案件改写的形式呈现，大家想听哪个领域的专利改写呢？" * 2
    replies = ["想听听关于生物医药类专利的改写", "机械类的最常用也最值得讲", "软件的也希望能够安排一下"]
    lines = ["首页 板块 登录注册", question, "香樟树", "2020.06.09 09:37 发布"]
    for k, reply in enumerate(replies):
        lines += ["网友", f"2020.06.1{k} 11:40 发布", reply, "点赞", "评论", "举报"]
    kept = {s.text for s in labelled("\n\n".join(lines)) if s.label in CONTENT_LABELS}
    assert set(replies) <= kept


def test_a_blog_written_in_short_lines_keeps_its_lines() -> None:
    phrases = [
        "ご訪問ありがとうございます", "バズっているタンクトップを", "ついにわたしも買ってしまいました",
        "袖を通した瞬間に", "鏡の前で叫んでしまいました", "今まで色んなブロガーさんの",
        "画像で見ていたものを", "実際に着てみると本当に素敵で", "大感動してしまいました",
    ] * 8
    raw = "\n".join(["ホーム ブログ ログイン", "身長168cm、骨格ウェーブ、二歳と五歳の兄弟を子育て中のママです。", *phrases, "フォローする"])
    kept = {s.text for s in labelled(raw) if s.label in CONTENT_LABELS}
    assert set(phrases) <= kept


def test_a_numbered_item_with_a_ui_word_is_still_a_step() -> None:
    steps = [
        "1.目前市场上支持生成短链接的网站已经不多了，试运营期间所有功能都可以免费使用。",
        "2.支持批量生成和接口生成，批量单次最多五十条，暂定每天不限次数。",
        "3.支持数据统计和修改原网址功能，支持直连和跳转两种方式。",
        "4.微信内打开的功能正在开发中",
    ]
    closing = "附言：使用后可以提出意见帮助改进，我们会根据大家的反馈不断完善这个工具。"
    kept = {s.text for s in labelled("\n\n".join(["短链接工具上线", "来源：本站", *steps, closing])) if s.label in CONTENT_LABELS}
    assert set(steps) <= kept


def thread_content(posts: list[list[str]]) -> set[str]:
    """What a thread page keeps as content: a menu, a question, then each post's lines."""
    question = "Ruby 的许多特性强烈地偏向对脚本语言的良好支持，在我看来它比别的语言更适合作为脚本语言的默认选择。" * 2
    lines = ["社区 招聘 登录", question, *(line for post in posts for line in post)]
    return {s.text for s in labelled("\n\n".join(lines)) if s.label in CONTENT_LABELS}


def test_a_reply_that_speaks_of_a_floor_is_not_a_stamp() -> None:
    replies = ["引用自哪里呢", "1 楼我的评论被删除了。有什么问题吗？", "恢复了估计是看错了"]
    kept = thread_content([[f"gazeldx #{k} 1 月前", reply] for k, reply in enumerate(replies, 1)])
    assert set(replies) <= kept


def test_a_reply_to_line_under_the_stamp_does_not_hide_the_post() -> None:
    replies = ["最近总有纯英文的机器人", "可能是我那天批量处理看走眼了", "恢复了估计是看错了"]
    kept = thread_content([[f"lehf #{k} 1 月前", "对 gazeldx #3 回复", reply] for k, reply in enumerate(replies, 1)])
    assert set(replies) <= kept


def test_the_stamp_s_furniture_under_it_does_not_hide_the_post() -> None:
    replies = ["顶你，鼠神真的是太弱了，攻击低", "我也遇到过这个问题后来重装就好了", "恢复了估计是看错了"]
    kept = thread_content([[f"发表于 2024-4-{k} 11:52:24", "|", "只看该作者", "- 湖北", reply]
                           for k, reply in enumerate(replies, 1)])
    assert set(replies) <= kept
    assert not kept & {"|", "只看该作者", "- 湖北"}


def test_a_stamp_split_over_lines_does_not_hide_the_post() -> None:
    # One text node a line: the time's number and unit, the buttons and the place each stand alone.
    replies = ["我知道，只有回去翻下之前的网页浏览记录了，大概半年前调过一次", "重装驱动以后就正常了，你也试试看吧", "恢复了估计是看错了，抱歉"]
    kept = thread_content([["沙发 发表于", str(k), "天前", "|", "只看该作者", "来自", "- 重庆", reply]
                           for k, reply in enumerate(replies, 2)])
    assert set(replies) <= kept
    assert not kept & {"天前", "只看该作者", "来自", "- 重庆"}


def test_the_poster_s_place_under_a_stamp_is_not_a_reply() -> None:
    # One text node a line: the place a platform shows beside the time stands alone under it.
    replies = ["重装驱动以后就正常了", "估计是看错了，抱歉", "升级以后也没有再出现"]
    places = ["浙江", "IP属地：广东", "四川"]
    kept = thread_content([[f"2024-04-0{k} 09:36", place, reply] for k, (place, reply) in enumerate(zip(places, replies), 1)])
    assert set(replies) <= kept
    assert not kept & set(places)


def test_a_finished_sentence_that_names_a_button_is_a_reply() -> None:
    replies = ["楼我的评论被删除了。", "请删除的管理员回复下。", "估计是看错了。"]
    kept = thread_content([[f"gazeldx #{k}", "1", "月前", reply] for k, reply in enumerate(replies, 1)])
    assert set(replies) <= kept


def test_a_bulleted_sentence_between_stamps_is_a_reply() -> None:
    replies = [
        "- 关键是普通大众也没啥太值得被在乎的，想到这，就莫名有种安全感～",
        "- 但用户还是会为潜在需求买单。这个特性和买相机送手机非常类似",
        "- 闲的没事瞎琢磨哈，以上纯属个人观点，老铁们当笑话看就好～",
    ]
    kept = thread_content([[f"2023-07-07 0{k}:57", "0", "alimy :上海市", reply] for k, reply in enumerate(replies)])
    assert set(replies) <= kept


def test_an_article_s_dated_byline_is_not_a_post_stamp() -> None:
    # The byline's date and two dated related links are three stamps: the article is not a thread,
    # so the headlines between the byline and the article are not a post.
    article = ["本市今年新建公园十二座，市民出门五百米就能走进绿地，这是城市更新计划的一部分。" * 3,
               "园林部门表示，明年还将继续推进口袋公园建设，让更多老旧小区的居民就近享受绿色空间。" * 2]
    teasers = ["征集现场观众 和搜星一起过五一", "吴君如早产诞下女婴 肥嘟嘟像陈可辛", "陈慧琳戴千万钻饰变身幸福公主"]
    related = [("· 三亚这片海滩为何一夜爆红？游客直呼太美了", "(2005-04-19 10:25AM)"),
               ("· 他退休后回村种地，十年后乡亲们都来取经", "(2004-04-26 02:40AM)")]
    for byline in (["2005-04-27 14:32更新 来源：千龙新闻网"], ["2005-04-27 14:32更新", "来源：千龙新闻网"]):
        raw = "\n\n".join(["首页 新闻 娱乐", "城市新添十二座公园", *byline, "发表评论", "今", "日", "推", "荐",
                            *teasers, *article, "相关报道：", *(line for entry in related for line in entry)])
        kept = {s.text for s in labelled(raw) if s.label in CONTENT_LABELS}
        assert set(article) <= kept
        assert not kept & set(teasers)


def test_a_photo_credit_over_three_lines_is_not_an_author_card() -> None:
    # 新华社记者 ends like an author's role, but the 摄 after it makes it a caption's credit: the
    # paragraph after the photo is still the article.
    paragraphs = ["本市今年新建公园十二座，市民出门五百米就能走进绿地，这是城市更新计划的一部分。" * 3,
                  "园林部门表示，明年还将继续推进口袋公园建设，让更多老旧小区的居民就近享受绿色空间。" * 2,
                  "这是5月20日在城市公园拍摄的市民晨练场景。",
                  "据介绍，新建公园全部免费开放，并配备了健身步道、儿童游乐设施和公共卫生间等便民设施。" * 2]
    raw = "\n\n".join(["城市新添十二座公园", "来源：新华社", *paragraphs[:3], "新华社记者", "李梦馨", "摄", paragraphs[3], "责任编辑：王明"])
    kept = {s.text for s in labelled(raw) if s.label in CONTENT_LABELS}
    assert set(paragraphs) <= kept


def test_a_platform_notice_closes_the_article() -> None:
    article = (
        "据美国全国广播公司报道，载有伊朗总统的直升机发生硬着陆事故后，美参议院多数党领袖表示，已从情报部门获悉，"
        "没有证据表明该事件中存在谋杀行为。伊朗通讯社和路透社二十日报道，伊朗总统在直升机事故中遇难。"
    )
    other = [
        "如果说在中国传唱度最高的歌曲，那这一首歌绝对算得上是家喻户晓，那就是大家熟悉的外婆的澎湖湾。",
        "可能很多人对这个名字不熟悉，但是他的一些耳熟能详的经典作品大家一定知道，比如聚散两依依和乡间小路。",
        "一九六一年，他出生于台湾省的一个军人家庭，自幼受到了良好的教育，从小对唱歌产生了浓厚的兴趣。",
    ]
    raw = "\n\n".join(
        ["美官员否认伊朗直升机事故存在谋杀行为", "2024-05-20 13:09", article,
         "以上内容（包括图片及视频）为创作者平台用户上传并发布，本平台仅提供信息存储服务",
         "31岁在春晚一炮而红，观众都以为他隐退了", "2023-06-01 00:48", *other]
    )
    kept = [s.text for s in labelled(raw) if s.label in CONTENT_LABELS and s.label != "title"]
    assert kept == [article]


def test_dates_inside_a_teaser_list_do_not_end_it() -> None:
    article = "本市今年新建公园十二座，市民出门五百米就能走进绿地，这是城市更新计划的一部分。" * 3
    teasers = [
        "5月21日，港珠澳大桥边检站对外公布，今年经大桥珠海公路口岸出入境旅客突破一千万人次。",
        "新加坡航空公司一架客机21日在飞行过程中遭遇严重气流颠簸，随后紧急降落在泰国曼谷机场。",
        "5月21日，展览“绘动世界”在上海民生现代美术馆新址开幕，再现几代人的童年记忆。",
    ]
    entries = [line for text, day in zip(teasers, ("22", "21", "20")) for line in (text, f"2024-05-{day} 23:27:44")]
    segments = labelled("\n\n".join(["城市新添十二座公园", article, "相关新闻", *entries]))
    assert [s.text for s in segments if s.label in CONTENT_LABELS and s.label != "title"] == [article]



@pytest.mark.parametrize("header", ["热门", "* 招聘"])
def test_a_list_header_in_the_menu_does_not_swallow_the_reviews(header: str) -> None:
    paragraphs = [
        "人生真是一道薛定谔的猫的谜题啊。如果怎么选都不会快乐的话，那活着好像也不过是一场持久战。",
        "当你选择一个人，就要面对社会跟别人不一样的眼光。当你选择跟大部分一样的婚姻生活，就要面对鸡飞狗跳。",
        "人到中年才会发现，不论选择哪条路，每个人都逃脱不了，各有各的好，各有各的不容易。",
    ]
    reviews = [line for i, text in enumerate(paragraphs) for line in (f"用户{i}", "看过", f"2024-04-0{i + 1}", text)]
    segments = labelled("\n\n".join([header, "文娱榜", "要闻榜", *reviews]))
    assert [s.text for s in segments if s.label == "paragraph"] == paragraphs


def test_a_comment_count_on_a_line_of_its_own_still_opens_the_comments() -> None:
    article = "本市今年新建公园十二座，市民出门五百米就能走进绿地，这是城市更新计划的一部分。" * 3
    comment = "家里还装得下吗，人心不足蛇吞象，躺下就睡一张床，吃饭就一个肚子，要那么多钱干什么"
    segments = labelled("\n\n".join([article, "243", "条评论", "花旗Frog不花", comment, "5月16日18:21", "举报"]))
    assert segments[2].label == "comment"
    assert [s.text for s in segments if s.label in CONTENT_LABELS] == [article]



def test_a_page_without_prose_keeps_its_longest_list() -> None:
    contents = [
        "目录",
        "中国特色社会主义政治经济学视角下的现代化道路",
        "张素峰",
        "坚持人民至上的观念认知、制度支撑及运行机制",
        "陈家刚;陈凌宇",
        "论发展全过程人民民主与新时代民生建设",
        "杨渊浩;程竹汝",
        "中华优秀传统文化与马克思主义中国化的三次飞跃",
        "张卫波",
    ]
    segments = labelled("\n\n".join([*NAV.split(), *contents, *FOOTER.split("\n")]))
    assert [s.text for s in segments if s.label in CONTENT_LABELS] == contents


def test_a_short_item_of_figures_is_not_outweighed_by_a_list_of_photo_captions() -> None:
    item = "人民币兑美元中间价6.3733元，上一交易日中间价6.3674，官方收盘价报6.3676，夜盘收盘报6.3715。"
    captions = ["北京：走进高考阅卷现场", "航拍江西南昌龙舟竞渡迎端午", "夕阳下卢日尼基体育场美不胜收",
                "纽约餐饮业“拥抱”球迷商机", "河北沙河：光伏进厂 屋顶“生金”", "北京八达岭长城进入旅游旺季"]
    segments = labelled("\n".join([*NAV.split(), "人民币中间价下调59点", item, "* 热门文章", "精彩图片", *captions]))
    assert segments[len(NAV.split()) + 1].features["kind"] == "near"
    assert [s.text for s in segments if s.label in CONTENT_LABELS and s.label != "title"] == [item]


def test_prose_under_an_advertising_header_after_the_article_is_not_the_article() -> None:
    article = [
        "德國網球好手茲韋列夫今天以6比4、7比5擊敗智利選手賈瑞，在義大利公開賽拿下他受傷以來最重要的冠軍。",
        "世界排名第5的茲韋列夫，今天是繼2017年後再度在義大利網賽封王，為下週末登場的法國公開賽做好暖身。",
    ]
    ads = [
        "台灣藝人庾澄慶及伊能靜，曾結婚9年嘅2人育有1子，喺美國紐約大學帝勢藝術學院畢業典禮上同框出現，一家三口喜笑顏開。",
        "近日被指蜜運中的李佳芯親回感情狀況，患病中的她激減10磅以致看起了很憔悴、很瘦，情況令人擔心，不少網友留言打氣。",
        "根據世界衛生組織國際癌症研究總署，一級致癌物是指有充足證據證明其具有致癌性的物質，生活中常見的黃曲霉素毒性極強。",
    ]
    segments = labelled("\n\n".join([*article, "廣告", *ads]))
    assert [s.text for s in segments if s.label == "paragraph"] == article


def test_committed_weights_are_what_training_makes(tmp_path) -> None:
    """The model is reproducible: the training command, run again, writes the committed weights."""
    from workers.commands.train_classifier import main as train
    from workers.pipeline.classify import MODEL_PATH

    out = tmp_path / "model.json"
    train(["--no-cv", "--out", str(out)])
    assert json.loads(out.read_text(encoding="utf-8")) == json.loads(MODEL_PATH.read_text(encoding="utf-8"))


def test_records_after_the_run_continue_the_article() -> None:
    intro = "本市文化和旅游局组织六十多家景区在旅游日前后推出门票半价优惠，市民和游客可以通过官方渠道购票，具体如下。"
    note = "备注：仅限成人散客票参加半价活动，老人和儿童的优惠价格不变，团体票不参加本次活动。"
    names = ["滨江观光塔", "森林动物园", "自然博物馆", "海洋水族馆", "古镇景点联票", "植物园", "影视乐园", "鲜花港"]
    records = []
    for k, name in enumerate(names, 1):
        records += [f"{k}、{name}", f"成人票原价：{60 + 10 * k}元", f"游客咨询电话：5879{k:04d}", *([note] if k % 3 == 0 else [])]
    lines = [*NAV.split(), "旅游日六十多家景区门票半价", intro, *records, *FOOTER.strip().split("\n")]
    page = analyse(split_segments("\n".join(lines)))
    assert page.run == (lines.index(intro), lines.index(records[-1]))
    kept = {s.text for s in labelled("\n".join(lines)) if s.label in CONTENT_LABELS}
    assert {line for line in records if line[0].isdigit()} <= kept
    assert not kept & set(FOOTER.split("\n"))


def test_an_author_s_card_at_the_article_s_end_is_its_metadata() -> None:
    article = ["商务部6月5日消息，1—4月，中国服务进出口延续高增长态势，服务进出口总额同比增长百分之十五。",
               "商务部服贸司负责人称，以美元计，服务进出口、出口和进口增速分别为百分之十七、十二和十九。"]
    card = ["张文扬 经济观察报记者", "经济观察报 要闻部记者", "常驻北京，跟踪商务部各项政策及产业发展动态，重点关注对外贸易。"]
    segments = labelled("\n".join([*NAV.split(), "服务进出口延续高增长", *article, *card, *FOOTER.strip().split("\n")]))
    assert [s.text for s in segments if s.label == "paragraph"] == article
    assert [(s.label, s.features["reason"]) for s in segments if s.text in card] == [("source", "author_card")] * 3
    # A role alone on its line names nobody: the prose after it is the article's.
    segments = labelled("\n".join(["服务进出口延续高增长", article[0], "编辑", article[1]]))
    assert [s.text for s in segments if s.label == "paragraph"] == article


def test_a_post_s_stamp_split_into_lines_holds_no_record_fields() -> None:
    article = "本市今年新建公园十二座，市民出门五百米就能走进绿地，这是城市更新计划的一部分。" * 3
    replies = []
    for k, name in enumerate(["gazeldx", "msl12", "ZG", "客栈小K"], 1):
        replies += [f"{name} #{k}", "1", "月前", "2", "个赞", "谢谢分享，这个办法我试过了，确实可以解决问题，非常感谢楼主的耐心解答。"]
    page = analyse(split_segments("\n".join(["城市新添十二座公园", article, *replies])))
    assert page.record_fields == frozenset()


def test_a_row_of_questions_is_a_passage_not_a_teaser_list() -> None:
    article = "本市今年新建公园十二座，市民出门五百米就能走进绿地，这是城市更新计划的一部分。" * 3
    questions = [
        "直播课即将再次启动，将以案件改写的形式呈现，大家想参加直播课程吗？",
        "大家期待李老师下一次改写哪个案子，又想听哪一类专利的讲解呢？",
        "大家对于直播课程的时间安排和形式有什么想法或者建议呢？",
        "这些问题通通都可以在下面留言反馈，我们会认真看每一条意见！",
    ]
    segments = labelled("\n".join(["城市新添十二座公园", article, *questions]))
    assert all(s.features["kind"] != "teaser" for s in segments[2:])
    assert {s.text for s in segments if s.label in CONTENT_LABELS} >= set(questions)


def test_a_list_word_after_a_colon_is_a_field_s_value_not_a_header() -> None:
    article = "本市今年新建公园十二座，市民出门五百米就能走进绿地，这是城市更新计划的一部分。" * 3
    segments = labelled("\n\n".join(["城市新添十二座公园", article, "支持以下标签：ad：广告引流", "热门推荐：", "相关阅读"]))
    assert [s.features["kind"] for s in segments[2:]] == ["short", "header", "header"]


def test_a_short_signed_article_outweighs_a_sentence_of_chrome_and_the_list_after_it() -> None:
    # jusText's context rule in the run's values: a finished sentence of some prose beside prose
    # counts in full. And an editor's line after the prose has closed the article, however short:
    # a list header after it damps the prose under it.
    chrome = "由发文数量、读者评价、转载次数、收藏人数等多项指标综合计算得出，等级越高，代表作者在本站的影响力与可信程度越大。"
    article = [
        "新华社上海5月8日电，今天上海证券交易所公布数据，沪市成交额达到四千亿元。",
        "市场人士认为，成交回暖与近期出台的一系列稳市场政策密切相关，投资者信心有所恢复。",
        "当日沪指收涨1.2%，深成指涨0.8%。",
    ]
    teasers = [
        "震惊！这位明星的减肥方法，究竟有多离谱啊！",
        "夏季清仓大促来袭！原价千元的外套只要两百！",
        "三十年前的老照片曝光，你还能认出几个人吗！",
        "身高一米八的他，每天只吃两顿饭，却越来越胖！",
    ]
    raw = "\n".join(["首页", "财经", "作者主页", chrome, "关注", "沪市成交额回升至四千亿元", "2024-05-08 10:20",
                     *article, "（编辑：王明）", "大家都在看", *teasers])
    segments = split_segments(raw)
    page = analyse(segments)
    start, end = page.run
    assert [s.text for s in segments[start:end + 1]] == article
    assert all(b.damped for b in page.blocks[-len(teasers):])
    classify(segments)
    assert [s.text for s in segments if s.label == "paragraph" and s.text != chrome] == article


def test_a_table_the_article_announces_at_its_end_is_the_articles() -> None:
    # A table one cell a line reads as a menu to the model; the line that ends the article and
    # announces it (附：…) makes it the article's, up to the page's own lines after it.
    article = [
        "本报讯 记者从市教育局获悉，今年全市普通高校专升本考试将于5月中旬举行，报名工作已经开始。",
        "考生须在规定时间内登录报名系统填写信息，逾期不再补报。",
        "各招生院校今年共设十二个专业，比去年增加两个，招生计划总数与去年持平，专业和考试科目见下表。",
        "附：2024年招生专业及考试科目",
    ]
    table = ["专业名称", "招生人数", "考试科目", "金融学", "30", "高等数学", "会计学", "45", "管理学原理", "法学", "20", "法学基础"]
    footer = ["关于我们", "联系我们", "版权所有 未经授权不得转载"]
    raw = "\n\n".join(["首页", "新闻", "教育", "专升本考试5月中旬举行", "2024-03-02 09:00", *article, *table, *footer])
    segments = labelled(raw)
    kept = {s.text: s.features["reason"] for s in segments if s.label in IN_ARTICLE}
    assert {cell: kept.get(cell) for cell in table} == {cell: "announced" for cell in table}
    assert all(line not in kept for line in footer)
