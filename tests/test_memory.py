"""Site memory's stream layer in-process: the state message, the fold of observations by the site's owner,
and the owner after a rebalance taking up the site's last published state."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from workers.memory import (BadObservation, SiteLearner, Templates, observation_output, read_observation, read_state,
                            read_template, state_message)
from workers.pipeline.records import LineFingerprints, RawPage
from workers.pipeline.sitememory import TEMPLATE_MIN_PAGES
from workers.settings import Settings

SETTINGS = Settings()
SITE = "a.cn"


def seen(n: int) -> LineFingerprints:
    return LineFingerprints(site=SITE, page=f"page{n}", lines=("nav", "footer", f"own{n}"))


class NoBroker(Templates):
    """The reader without its consumer: records are applied by hand."""

    async def caught_up(self) -> None:
        pass


def message(value: bytes, generation: int = 1) -> SimpleNamespace:
    return SimpleNamespace(value=value, generation_id=generation)


async def learn_all(learner: SiteLearner, templates: Templates, ns, generation: int = 1) -> list[list]:
    """Fold observations n of `ns`, applying each published state to the reader as the topic would."""
    answers = []
    for n in ns:
        outputs = await learner.learn(message(observation_output(SETTINGS, seen(n))[2], generation))
        for topic, key, value in outputs:
            assert topic == SETTINGS.topic_templates and key == SITE.encode()
            templates.apply(key.decode(), value)
        answers.append(outputs)
    return answers


def test_the_state_message_carries_the_template_and_the_window():
    assert read_state(b"[]\n[]").pages == () and read_template(b"[]\n[]") == frozenset()
    observation = seen(1)
    assert read_observation(observation_output(SETTINGS, observation)[2]) == observation
    with pytest.raises(BadObservation):
        read_observation(b"not json")


async def test_an_observation_read_again_teaches_nothing_and_publishes_nothing():
    templates = NoBroker(SETTINGS)
    learner = SiteLearner(SETTINGS, templates)
    first = await learn_all(learner, templates, range(TEMPLATE_MIN_PAGES))
    assert all(len(outputs) == 1 for outputs in first)
    assert templates.memory_for(RawPage(url="https://a.cn/x", text="", site=SITE)).site_template == {"nav", "footer"}
    assert await learn_all(learner, templates, [0]) == [[]]  # a replay of a page in the window


async def test_after_a_rebalance_the_owner_goes_on_from_the_published_state():
    templates = NoBroker(SETTINGS)
    await learn_all(SiteLearner(SETTINGS, templates), templates, range(TEMPLATE_MIN_PAGES))
    successor = SiteLearner(SETTINGS, templates)  # another worker, or the same one in a new generation
    [[(_, _, value)]] = await learn_all(successor, templates, [TEMPLATE_MIN_PAGES], generation=2)
    assert len(read_state(value).pages) == TEMPLATE_MIN_PAGES + 1
    assert read_template(value) == {"nav", "footer"}


def test_the_reader_holds_at_most_its_sites_and_counts_their_lines():
    templates = NoBroker(Settings(site_memory_max_sites=2))
    for site in ("a.cn", "b.cn", "c.cn"):
        templates.apply(site, b'["x","y"]\n[]')
    assert list(templates.sites) == ["b.cn", "c.cn"] and templates.template_lines == 4
    templates.apply("b.cn", None)  # a tombstone
    templates.apply("c.cn", b"broken")  # logged and dropped
    assert not templates.sites and templates.template_lines == 0


async def test_the_learner_folds_under_the_configured_limits():
    settings = Settings(site_memory_window_pages=3, site_memory_min_pages=2, site_memory_min_share=0.5)
    templates = NoBroker(settings)
    answers = await learn_all(SiteLearner(settings, templates), templates, range(5))
    last = answers[-1][0][2]
    assert [page for page, _ in read_state(last).pages] == ["page2", "page3", "page4"]  # the window of 3
    assert read_template(answers[1][0][2]) == {"nav", "footer"}  # two pages were enough


def test_the_limits_must_leave_a_template_possible():
    with pytest.raises(ValueError, match="SITE_MEMORY_MIN_PAGES"):
        Settings(site_memory_window_pages=3, site_memory_min_pages=4)
