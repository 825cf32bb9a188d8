"""Site memory's stream layer in-process: the records a page teaches, the fold of observations by the site's
owner, and the owner after a rebalance taking up the site's last published window."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from workers.memory import (SLOT_SEPARATOR, BadObservation, SiteLearner, Templates, observation_output,
                            read_observation, read_page, read_template)
from workers.pipeline.records import LineFingerprints, RawPage
from workers.pipeline.sitememory import TEMPLATE_MIN_PAGES, WINDOW_PAGES, Limits
from workers.settings import Settings

SETTINGS = Settings()
SITE = "a.cn"
SLOT = SLOT_SEPARATOR.encode()  # in a record's key


def seen(n: int) -> LineFingerprints:
    return LineFingerprints(site=SITE, page=f"page{n}", lines=("nav", "footer", f"own{n}"))


class NoBroker(Templates):
    """The reader without its consumer: records are applied by hand."""

    async def caught_up(self) -> None:
        pass


def message(value: bytes, generation: int = 1) -> SimpleNamespace:
    return SimpleNamespace(value=value, generation_id=generation)


async def learn_all(learner: SiteLearner, templates: Templates, ns, generation: int = 1) -> list[list]:
    """Fold observations n of `ns`, applying each published record to the reader as the topic would."""
    answers = []
    for n in ns:
        outputs = await learner.learn(message(observation_output(learner.settings, seen(n))[2], generation))
        for topic, key, value in outputs:
            assert topic == learner.settings.topic_templates and key.partition(SLOT)[0] == SITE.encode()
            templates.apply(key.decode(), value)
        answers.append(outputs)
    return answers


def pages_of(outputs: list) -> list[tuple[int, str]]:
    return [read_page(value)[:2] for _, key, value in outputs if SLOT in key]


def test_an_observation_reads_back_and_a_bad_one_is_refused():
    observation = seen(1)
    assert read_observation(observation_output(SETTINGS, observation)[2]) == observation
    with pytest.raises(BadObservation):
        read_observation(b"not json")


async def test_each_page_taught_is_one_numbered_record_and_the_template_goes_out_when_it_changes():
    templates = NoBroker(SETTINGS)
    answers = await learn_all(SiteLearner(SETTINGS, templates), templates, range(TEMPLATE_MIN_PAGES + 1))
    assert [pages_of(outputs) for outputs in answers] == [[(n, f"page{n}")] for n in range(TEMPLATE_MIN_PAGES + 1)]
    published = [[read_template(v) for _, k, v in outputs if SLOT not in k] for outputs in answers]
    assert published == [[]] * (TEMPLATE_MIN_PAGES - 1) + [[{"nav", "footer"}], []]
    assert [key for _, key, _ in answers[0]] == [SITE.encode() + SLOT + b"0"]


async def test_an_observation_read_again_teaches_nothing_and_publishes_nothing():
    templates = NoBroker(SETTINGS)
    learner = SiteLearner(SETTINGS, templates)
    await learn_all(learner, templates, range(TEMPLATE_MIN_PAGES))
    assert templates.memory_for(RawPage(url="https://a.cn/x", text="", site=SITE)).site_template == {"nav", "footer"}
    assert await learn_all(learner, templates, [0]) == [[]]  # a replay of a page in the window


async def test_after_a_rebalance_the_owner_goes_on_from_the_published_window():
    templates = NoBroker(SETTINGS)
    await learn_all(SiteLearner(SETTINGS, templates), templates, range(WINDOW_PAGES + 3))  # slots 0-2 taken twice
    successor = SiteLearner(SETTINGS, templates)  # another worker, or the same one in a new generation
    [outputs] = await learn_all(successor, templates, [WINDOW_PAGES + 3], generation=2)
    assert pages_of(outputs) == [(WINDOW_PAGES + 3, f"page{WINDOW_PAGES + 3}")]  # numbered on, not from zero
    state = templates.site_state(SITE, Limits())
    assert [page for page, _ in state.pages] == [f"page{n}" for n in range(4, WINDOW_PAGES + 4)]
    assert state.taught == WINDOW_PAGES + 4
    assert await learn_all(successor, templates, [10], generation=2) == [[]]  # still in the window


async def test_the_learner_folds_under_the_configured_limits():
    settings = Settings(site_memory_window_pages=3, site_memory_min_pages=2, site_memory_min_share=0.5)
    templates = NoBroker(settings)
    answers = await learn_all(SiteLearner(settings, templates), templates, range(5))
    assert [key[-1:] for _, key, _ in answers[4] if SLOT in key] == [b"1"]  # page 4 in slot 4 % 3
    assert [page for page, _ in templates.site_state(SITE, Limits(window_pages=3)).pages] == ["page2", "page3", "page4"]
    assert [read_template(v) for _, k, v in answers[1] if SLOT not in k] == [{"nav", "footer"}]


def test_the_limits_must_leave_a_template_possible():
    with pytest.raises(ValueError, match="SITE_MEMORY_MIN_PAGES"):
        Settings(site_memory_window_pages=3, site_memory_min_pages=4)


def test_the_reader_holds_at_most_its_sites_and_counts_their_lines():
    templates = NoBroker(Settings(site_memory_max_sites=2))
    for site in ("a.cn", "b.cn", "c.cn"):
        templates.apply(site, b'["x","y"]')
        templates.apply(site + SLOT_SEPARATOR + "0", b'[0,"p",["x"]]')
    assert list(templates.sites) == ["b.cn", "c.cn"] and list(templates.windows) == ["b.cn", "c.cn"]
    assert templates.template_lines == 4
    templates.apply("b.cn", None)  # a tombstone
    templates.apply("c.cn", b"broken")  # logged and dropped
    assert not templates.sites and templates.template_lines == 0
    templates.apply("c.cn" + SLOT_SEPARATOR + "0", b"broken")
    assert templates.site_state("c.cn", Limits()).pages == ()  # logged; the site starts again
