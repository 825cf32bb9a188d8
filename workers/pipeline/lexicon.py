"""The word lists the classifier and the assembler recognise page furniture by, kept once, as data.

The patterns of classify.py and assemble.py are built from these lists (trafilatura keeps its
lists the same way); a new word goes here and every pattern that uses it picks it up.
Simplified and Traditional spellings stand side by side.
"""
from __future__ import annotations

# Field names of a byline or a date line: "来源：新华社 作者：张三 编辑：李四".
SOURCE_FIELDS = ("来源", "來源", "来自", "出处")
AUTHOR_FIELDS = ("作者", "撰文", "文", "记者", "記者", "责任编辑", "責任編輯", "编辑", "編輯", "责编")
TIME_FIELDS = ("发布时间", "發布時間", "发稿时间", "发表时间", "发表于", "发布于", "时间", "時間", "日期")
OTHER_BYLINE_FIELDS = ("通讯员", "摄影", "攝影", "选稿", "校对", "审核", "原标题")
# Words that, standing beside byline fields, end the value before them ("作者：张三 浏览：12").
BYLINE_NEIGHBOURS = ("浏览", "字体", "分享")
# The fields that name where a piece comes from and who made it: a date beside one dates an article.
NAMING_FIELDS = SOURCE_FIELDS + tuple(f for f in AUTHOR_FIELDS if f != "文") + OTHER_BYLINE_FIELDS
# Every field a byline line may open with (the classifier's source line); "文" alone is too common
# a character to open a line with.
BYLINE_FIELDS = NAMING_FIELDS + TIME_FIELDS

# Words of page chrome: buttons, menus, counters' units. In a short line they make it UI.
UI_WORDS = (
    "登录 登入 登錄 注册 註冊 分享 举报 舉報 评论 評論 回复 回覆 点赞 收藏 关注 關注 转发 打印 "
    "字号 字体 返回 扫一扫 掃一掃 二维码 客户端 下载 下載 上一篇 下一篇 上一页 下一页 阅读原文 "
    "阅读全文 展开 收起 查看更多 加载更多 写留言 留言 纠错 点击 浏览 阅读量 搜索 订阅 复制链接 "
    "微信 微博 QQ 赞 踩 跳转 首页 首頁 菜单 导航 切换 全部 更多 App app APP"
).split()
# A count of people, views or items (12 人, 300 次, 5 条).
COUNTER_UNITS = ("人", "次", "条")
# A forum post's stamp furniture: buttons and floor names around a poster's time, each of which
# stands on a line of its own when a scraper writes one text node a line.
POST_FURNITURE = ("只看该作者", "只看楼主", "倒序浏览", "阅读模式", "电梯直达", "来自", "楼主", "沙发", "板凳", "地板")
# Where a poster writes from, as platforms show it beside the time (IP属地：浙江): the provincial-level
# divisions by their short names.
POSTER_PLACES = (
    "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建", "江西",
    "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古",
    "广西", "西藏", "宁夏", "新疆", "香港", "澳门",
)

# Headers of recommendation lists.
_RELATED = ("相关", "相關")
_RELATED_THINGS = ("阅读", "閱讀", "文章", "新闻", "新聞", "链接", "问题", "内容", "视频", "资讯", "话题", "推荐")
_MAY_LIKE = ("可能", "可能还", "可能還")
_LIKED = ("想看", "喜欢", "喜歡", "感兴趣", "感興趣")
RECOMMENDATION_HEADERS = (
    "推荐", "推薦",
    *(a + b for a in _RELATED for b in _RELATED_THINGS),
    "类似问题", "延伸阅读", "猜你", "热门", "熱門", "热点", "热搜", "热文", "热榜", "排行",
    "也在看", "都在看", "看了又看", "为你", "往期",
    *(a + b for a in _MAY_LIKE for b in _LIKED),
    "还想看", "還想看",
    *("更多" + b for b in ("文章", "新闻", "资讯", "内容", "精彩")),
)
ADVERT_WORDS = ("广告", "廣告", "推广", "招聘", "诚聘", "赞助", "商务合作", "详情页", "立即咨询", "免费预约",
                "优惠", "抢购", "加盟")
# Footer lines: copyright, licences, legal notices, links to the site's own pages (matched
# ignoring case).
FOOTER_WORDS = (
    "版权所有", "版權所有", "copyright", "©", "ICP", "备案", "公网安备", "违法和不良信息", "不良信息举报",
    "联系我们", "关于我们", "免责声明", "隐私政策", "用户协议", "服务条款", "网站地图",
    "未经授权", "未经许可", "未经书面授权", "未经书面许可", "不得转载", "禁止转载", "请勿转载", "all rights reserved",
)
# Labels that open a line announcing what is attached below it (附：招生专业及考试科目, 附件：…).
ATTACHMENT_LABELS = ("附", "附件", "附表", "附录", "附錄")
# A publishing platform's notice that the text above is a user's post.
PLATFORM_NOTES = ("仅提供信息存储", "系信息发布平台", "用户上传并发布")
# A comment section's header: a count or a qualifier before the word for comments.
COMMENT_NOUNS = ("评论", "回复", "留言")
COMMENT_QUALIFIERS = ("网友", "全部", "热门", "最新", "精彩")
# An image caption or credit: these words anywhere, or these endings.
CAPTION_WORDS = ("图为", "图片来源", "图源", "圖片", "配图", "（图", "(图", "图：", "图/")
CAPTION_ENDINGS = ("摄", "摄）")

# Characters that are function words on their own (particles, pronouns, prepositions, copulas,
# conjunctions, negations), Simplified and Traditional, and a few Japanese particles. Their share
# of a block's CJK characters separates running text from headlines and link lists: the stoplist
# idea of jusText (whose lists come from each language's most frequent words) at the character
# level, which needs no tokeniser.
FUNCTION_CHARS = (
    "的了是在和也就都而及与这那有着被把让给向从对于以为因由将并但又还更很其之所我你他她它们不没要会能可"
    "吗呢吧啊個們這為與對從還會沒讓給嗎のにはをがでとも"
)
