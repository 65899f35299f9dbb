"""Every page of the app runs under AppTest without an exception and shows its main content."""

import pytest

PAGES = {
    "pages/home.py": "handprop",
    "pages/backprop.py": "Backprop by hand",
    "pages/softmax.py": "Softmax proofs",
    "pages/train.py": "Train an MLP",
}


def test_home_links_every_page(open_page) -> None:
    at = open_page("pages/home.py")
    assert at.title[0].value == "handprop"
    # A page link stores the target page's url path.
    links = {link.proto.page for link in at.get("page_link")}
    assert {"backprop", "softmax", "train"} <= links, links


@pytest.mark.parametrize("path,title", PAGES.items())
def test_page_runs_and_shows_title_and_formula(open_page, path: str, title: str) -> None:
    at = open_page(path)
    assert any(title.lower() in t.value.lower() for t in at.title), [t.value for t in at.title]
    # Every page opens with math: st.latex, or $...$ in markdown.
    has_latex = len(at.latex) > 0 or any("$" in m.value for m in at.markdown)
    assert has_latex, f"{path} shows no formula"


def test_app_starts_checking_the_softmax_proofs_in_the_background(open_page,
                                                                   monkeypatch) -> None:
    """Any page's first run (here Home's) starts the one thread that checks the Softmax proofs,
    so that nobody opening the Softmax page waits for SymPy."""
    import core.softmax

    monkeypatch.setattr(core.softmax, "_ahead", None)  # as on a fresh server
    open_page("pages/home.py")
    thread = core.softmax._ahead
    assert thread is not None and thread.name == "softmax-check-ahead" and thread.daemon
    assert core.softmax.check_ahead() is thread, "one thread per server, not one per run"
    # With the proofs' digest on disk the thread waits for a page to want the live oracles.
    assert core.softmax.checked_ahead(timeout=300)


def test_page_fixture_fails_on_any_page_exception() -> None:
    """The guard every AppTest of the suite runs under (conftest.fail_on_exceptions) must fail
    on a traceback in a page, also when a widget's own run() brings it."""
    from streamlit.testing.v1 import AppTest

    from tests.conftest import fail_on_exceptions

    at = fail_on_exceptions(AppTest.from_string(
        "import streamlit as st\nif st.button('boom', key='b'):\n    raise ValueError('x')"))
    at.run()
    with pytest.raises(AssertionError, match="x"):
        at.button(key="b").click().run()
