"""Every notice in domain/ has a renderer: a new Notice subclass without one fails here, not in Slack."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import domain
from domain.core.notices import Notice
from modals.renderers import render


def _notice_classes() -> set[type[Notice]]:
    for module in pkgutil.walk_packages(domain.__path__, "domain."):
        importlib.import_module(module.name)
    found: set[type[Notice]] = set()
    todo = [Notice]
    while todo:
        for sub in todo.pop().__subclasses__():
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return {cls for cls in found if cls.__module__.startswith("domain.")}


def test_every_domain_notice_has_a_renderer():
    notices = _notice_classes()
    assert len(notices) > 30, "walking domain/ should find every notice"
    fallback = render.dispatch(object)
    missing = sorted(f"{cls.__module__}.{cls.__qualname__}" for cls in notices if render.dispatch(cls) is fallback)
    assert missing == [], f"notices without a renderer (register one in modals/): {missing}"


def test_a_notice_without_a_renderer_is_refused():
    class Unrendered(Notice):
        pass

    with pytest.raises(TypeError, match="no renderer for Unrendered"):
        render(Unrendered())
