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
    assert not at.exception, at.exception
    assert at.title[0].value == "handprop"
    # A page link stores the target page's url path.
    links = {link.proto.page for link in at.get("page_link")}
    assert {"backprop", "softmax", "train"} <= links, links


@pytest.mark.parametrize("path,title", PAGES.items())
def test_page_runs_and_shows_title_and_formula(open_page, path: str, title: str) -> None:
    at = open_page(path)
    assert not at.exception, [e.value for e in at.exception]
    assert any(title.lower() in t.value.lower() for t in at.title), [t.value for t in at.title]
    # Every page opens with math: st.latex, or $...$ in markdown.
    has_latex = len(at.latex) > 0 or any("$" in m.value for m in at.markdown)
    assert has_latex, f"{path} shows no formula"
