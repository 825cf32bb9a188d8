"""Assembling labelled segments into a draft: body blocks in order, metadata out of the body."""
from __future__ import annotations

import pytest

from workers.renderings import hard_wrap
from workers.pipeline.assemble import assemble, parse_author, parse_date, parse_source
from workers.pipeline.classify import classify
from workers.pipeline.records import Segment
from workers.pipeline.split import split_segments


def draft_of(raw: str):
    segments = split_segments(raw)
    classify(segments)
    return assemble(segments)


# Byline lines exactly as they appear in the dev corpus.
@pytest.mark.parametrize(
    ("line", "source", "author", "published"),
    [
        ("* 来源：新华社", "新华社", None, None),
        ("* 2023-12-01 14:43", None, None, "2023-12-01T14:43"),
        ("2024年05月10日06:58 | 来源：人民网－人民日报", "人民网－人民日报", None, "2024-05-10T06:58"),
        ("2024-05-13 12:03:10 作者：曹磊 来源: 东方网 选稿：曾炟", "东方网", "曹磊", "2024-05-13T12:03:10"),
        ("发布时间：2024年05月05日 | 字体放大 | 字体缩小", None, None, "2024-05-05"),
        ("[作者: 刘满仓 责任编辑: 杨丹宇 ]", None, "刘满仓", None),
        ('时间：2024.05.11 来源：光明日报 作者：南帆 "分享到："', "光明日报", "南帆", "2024-05-11"),
        ("来源： 光明网-《光明日报》 2024-05-20 03:15", "光明网-《光明日报》", None, "2024-05-20T03:15"),
        ("发稿时间：2024-05-13 06:03:00 来源： 中国青年报", "中国青年报", None, "2024-05-13T06:03:00"),
        ("作者： 涅阳城 2020年01月12日18:32 浏览： 272", None, "涅阳城", "2020-01-12T18:32"),
        ("来源:吉林日报", "吉林日报", None, None),
        ("编辑：毛梦囡", None, "毛梦囡", None),
    ],
)
def test_byline_fields(line: str, source: str | None, author: str | None, published: str | None) -> None:
    assert parse_source(line) == source
    assert parse_author(line) == author
    assert parse_date(line) == published


def test_dates_are_validated_and_never_given_a_zone() -> None:
    assert parse_date("2020年10月12日") == "2020-10-12"
    assert parse_date("2020-13-45") is None
    assert parse_date("2940.8亿元") is None
    assert parse_date("2024-05-20 25:99") == "2024-05-20"


def test_seed_page_draft(seed_text: str) -> None:
    draft = draft_of(seed_text)
    assert draft.title == "【直击2020中德汽车大会】目标:万亿级产业集群——长春国际汽车城建设纪实"
    assert draft.source == "吉林日报"
    assert draft.headings[:2] == ("统筹推进 区域协调", "把握时代趋势的精心抉择")
    assert len(draft.headings) == 6
    texts = [t for _, t in draft.paragraphs]
    assert texts[0] == "10月的北国长春,多姿多彩。"
    assert texts[-1].startswith("眼下,长春国际汽车城已经迈向城市能级提升的新阶段")
    assert not any("来源" in t or "招聘" in t or "热门推荐" in t for t in texts)
    indexes = [i for i, _ in draft.paragraphs]
    assert indexes == sorted(indexes)


def test_wrapped_seed_page_joins_paragraphs(seed_text: str) -> None:
    plain = [t for _, t in draft_of(seed_text).paragraphs]
    wrapped = [t for _, t in draft_of(hard_wrap(seed_text, 38)).paragraphs]
    assert wrapped == plain


def test_byline_becomes_metadata_not_body() -> None:
    raw = (
        "习近平主持召开深入推进长三角一体化发展座谈会\n"
        "* 来源：新华社\n* 作者：\n* 2023-12-01 14:43\n\n"
        "新华社上海11月30日电 中共中央总书记、国家主席、中央军委主席习近平30日上午在上海主持召开深入推进长三角一体化发展座谈会并发表重要讲话。\n\n"
        "中共中央政治局常委、国务院总理李强，中共中央政治局常委、中央办公厅主任蔡奇出席座谈会。\n"
    )
    draft = draft_of(raw)
    assert draft.title == "习近平主持召开深入推进长三角一体化发展座谈会"
    assert (draft.source, draft.author, draft.published) == ("新华社", None, "2023-12-01T14:43")
    assert len(draft.paragraphs) == 2
    assert all("来源" not in t for _, t in draft.paragraphs)


def test_empty_draft() -> None:
    draft = assemble([Segment(index=0, text="首页", start=0, end=2, label="navigation")])
    assert draft.title is None and draft.paragraphs == () and draft.headings == ()
