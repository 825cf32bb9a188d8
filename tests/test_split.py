"""Splitting raw text into segments in every style scrapers deliver."""
from __future__ import annotations

import json

from tests.conftest import SEED
from workers.renderings import hard_wrap, one_node_per_line
from workers.pipeline.split import split_segments, wrap_width


def texts(raw: str) -> list[str]:
    return [s.text for s in split_segments(raw)]


def test_seed_page_gives_one_segment_per_line(seed_text: str) -> None:
    gold = [json.loads(line) for line in (SEED / "segments.gold.jsonl").read_text(encoding="utf-8").splitlines()]
    segments = split_segments(seed_text)
    assert [s.text for s in segments] == [g["text"].strip() for g in gold]
    assert [s.index for s in segments] == list(range(len(segments)))


def test_offsets_point_into_the_raw_text(seed_text: str) -> None:
    for segment in split_segments(seed_text):
        assert seed_text[segment.start:segment.end] == segment.text


def test_blank_lines_separate_paragraphs() -> None:
    raw = "第一段，说了一件事。\n\n第二段也说了一件事。\n\n\n第三段。"
    assert texts(raw) == ["第一段，说了一件事。", "第二段也说了一件事。", "第三段。"]


def test_hard_wrapped_paragraph_is_joined_back(seed_text: str) -> None:
    paragraphs = [p.strip() for p in seed_text.split("\n\n") if len(p.strip()) > 120][:5]
    raw = hard_wrap("\n\n".join(paragraphs), width=38)
    assert raw.count("\n") > 3 * len(paragraphs)
    assert texts(raw) == paragraphs


def test_wrapped_paragraphs_without_blank_lines_between_them() -> None:
    first = "今年2月，长春市委、市政府创造性提出打造长春国际汽车城，并获得省政府正式批复。"
    second = "随后，长春国际汽车城成为长春高质量发展“四大板块”战略的重要一极，进展迅速。"
    raw = hard_wrap(first, 20) + hard_wrap(first, 20) + hard_wrap(second, 20)
    assert wrap_width(raw.splitlines()) == 20
    joined = "".join(texts(raw))
    assert joined == first + first + second


def test_wrapped_english_words_are_glued_with_a_space() -> None:
    raw = "Compared to the rest of the world, the US economy\nlooks fantastic. Our columnist explains why some\nAmericans can't see it, and what comes next here.\n"
    assert texts(raw) == [
        "Compared to the rest of the world, the US economy looks fantastic. Our columnist explains why some "
        "Americans can't see it, and what comes next here."
    ]


def test_text_nodes_on_their_own_lines_rejoin_into_sentences() -> None:
    raw = one_node_per_line(
        "1至8月，长春汽开区规上工业产值实现2940.8亿元，同比增长14.3%；累计开(复)工投资10亿元以上项目49个。\n"
        "来源：吉林日报\n"
    )
    assert "\n(复)\n" in raw
    assert texts(raw)[0] == "1至8月，长春汽开区规上工业产值实现2940.8亿元，同比增长14.3%；累计开(复)工投资10亿元以上项目49个。"


def test_menu_items_on_their_own_lines_stay_apart() -> None:
    assert texts("首页\n新闻\n体育\n财经\n") == ["首页", "新闻", "体育", "财经"]


def test_bullets_start_new_segments() -> None:
    raw = "主要工作：\n1. 承担地震监测\n2. 负责应急反应\n• 知行楼\n* 首页\n- 条目\n① 第一\n#每日一善#\n"
    assert texts(raw) == ["主要工作：", "1. 承担地震监测", "2. 负责应急反应", "• 知行楼", "* 首页", "- 条目", "① 第一", "#每日一善#"]


def test_bare_bullet_joins_its_item() -> None:
    assert texts("•\n洛宁县:“沃野问农”路线\n•\n青海:卤水成因研究\n") == ["• 洛宁县:“沃野问农”路线", "• 青海:卤水成因研究"]


def test_emoji_traditional_and_fullwidth_punctuation_survive() -> None:
    raw = "✨新生攻略 | 教学楼篇✨\n\n即將邁入第五年，我們常常感嘆！\n\n发布 👍 0 举报 写留言 🖊\n"
    assert texts(raw) == ["✨新生攻略 | 教学楼篇✨", "即將邁入第五年，我們常常感嘆！", "发布 👍 0 举报 写留言 🖊"]


def test_windows_line_endings() -> None:
    raw = "第一段。\r\n\r\n第二段。\r\n"
    segments = split_segments(raw)
    assert [s.text for s in segments] == ["第一段。", "第二段。"]
    assert all(raw[s.start:s.end] == s.text for s in segments)


def test_empty_text_has_no_segments() -> None:
    assert split_segments("") == []
    assert split_segments("\n \n\t\n") == []


def test_text_nodes_of_similar_length_are_not_a_wrap_width() -> None:
    lines = ["伊朗迈赫尔通讯社和路透社20日报道，", "伊朗总统莱希在直升机事故中遇难。", "为创作者平台用户上传并发布内容，"] * 2 + [
        "据美国全国广播公司报道，载有伊朗总统的直升机发生硬着陆事故后，美参议院多数党领袖表示，",
        "已从情报部门获悉，没有证据表明该事件中存在谋杀行为，所以这看起来像是一起事故，",
        "但全面调查仍在进行中，哈马斯本月六日宣布同意斡旋方提出的加沙地带停火提议。",
        "哈马斯、以色列和相关斡旋方在开罗举行停火谈判，九日谈判破裂。",
    ]
    assert wrap_width(lines) is None
    assert wrap_width([line[:18] for line in lines] * 2) == 18


def test_a_time_stamp_at_the_wrap_width_is_not_wrapped_prose() -> None:
    lines = ["交流网友们都在讨论这件事情了", "鹿小町", "2021-01-01 10:34:38", "元旦快乐", "点赞", "评论"] * 2 + [
        "我是年前彻底放假了，外包释放补偿"
    ]
    segments = split_segments("\n".join(lines))
    assert "2021-01-01 10:34:38" in [s.text for s in segments]


def test_lone_surrogates_become_replacement_characters() -> None:
    raw = "长春国际汽车城进展迅速\ud800。\n下一行"
    segments = split_segments(raw)
    assert segments[0].text == "长春国际汽车城进展迅速\ufffd。"
    assert [(s.start, s.end) for s in segments] == [(0, 13), (14, 17)]
    assert all(s.text.encode("utf-8") for s in segments)


def test_a_closing_quote_on_its_own_line_ends_the_sentence() -> None:
    raw = one_node_per_line("他在赛后说，「罗马对我来说意义非凡。」\n其他人也在看\n")
    assert "\n」\n" in raw
    assert texts(raw) == ["他在赛后说，「罗马对我来说意义非凡。」", "其他人也在看"]


def test_a_close_button_is_a_text_node_of_its_own() -> None:
    raw = one_node_per_line("广告\n三十八岁的她，生活日记曝光\n×\n尽管事业曲折，他的生活依然精彩。\n")
    assert texts(raw) == ["广告", "三十八岁的她，生活日记曝光", "×", "尽管事业曲折，他的生活依然精彩。"]


def test_a_bracketed_aside_stays_inside_its_sentence() -> None:
    raw = one_node_per_line("德国网球好手茲韦列夫 （Alexander Zverev） 今天以6比4、7比5击败智利选手，拿下冠军。\n")
    assert "\n（Alexander Zverev）\n" in raw
    assert texts(raw) == ["德国网球好手茲韦列夫（Alexander Zverev）今天以6比4、7比5击败智利选手，拿下冠军。"]


def test_unfinished_replies_on_text_node_lines_do_not_run_on_together() -> None:
    replies = [
        "您好，请问下为什么我的不管阿里云是否通过，都是审核中啊这个问题困扰了我好几天，一直没有找到原因",
        "您好，我看了源代码，您的配置中少了一项跳过标签的配置，所以导致这个功能一直都没有生效",
        "更新了之后有了配置了，但是还是不能将正常内容自动审核通过，麻烦再帮忙看一下是哪里的问题",
    ]
    segments = texts(one_node_per_line("\n".join(replies * 2) + "\n"))
    assert len(segments) > 1 and max(map(len, segments)) < 150


def test_a_post_stamp_spread_over_lines_is_one_stamp_and_ends_the_title() -> None:
    raw = one_node_per_line(
        "专利直播课程正在筹备中，你期待改写哪个专利呢\n2020.06.09 09:37 发布于 社区管理\n"
        "香樟树\n2020.06.09 09:42 发布\n#1\n想听听关于生物医药类专利的改写\n"
    )
    assert "\n2020.06.09\n09:42\n发布\n#1\n" in raw
    assert texts(raw) == [
        "专利直播课程正在筹备中，你期待改写哪个专利呢",
        "2020.06.09 09:37 发布于",
        "社区管理",
        "香樟树",
        "2020.06.09 09:42 发布 #1",
        "想听听关于生物医药类专利的改写",
    ]


def test_a_date_after_a_field_name_is_that_field_s_value() -> None:
    assert texts("发布时间：\n2024-4-5 23:20:45\n") == ["发布时间：2024-4-5 23:20:45"]


def test_a_list_item_ends_at_its_aside() -> None:
    raw = one_node_per_line("在这里，我们回顾一下，\n• 博客精选文章 (截止2006年8月10日)\n最新评论\n")
    assert texts(raw)[-2:] == ["• 博客精选文章(截止2006年8月10日)", "最新评论"]


def test_a_separator_on_a_line_of_its_own_never_carries_on_a_sentence() -> None:
    raw = one_node_per_line("这里项目用的是mybatis，所以你这里也不需要用jpa\n再睡一夏 | 五天前\n")
    assert "\n|\n" in raw
    assert texts(raw) == ["这里项目用的是mybatis，所以你这里也不需要用jpa再睡一夏", "|", "五天前"]


def test_a_latin_term_on_a_line_of_its_own_stays_inside_its_sentence() -> None:
    raw = one_node_per_line("大家好，我是新人。在我看来几乎从任何一个方面来说 Ruby 都要比 Python 更加合适作为脚本语言的默认选择。\n")
    assert "\nRuby\n" in raw
    assert texts(raw) == ["大家好，我是新人。", "在我看来几乎从任何一个方面来说Ruby都要比Python更加合适作为脚本语言的默认选择。"]
    assert texts("他说，\n这是真的。\n首页\nFlarum\n中文社区\n") == ["他说，这是真的。", "首页", "Flarum", "中文社区"]
