"""The dashboard in a real browser (Playwright with Debian's Chromium; ../shared/TESTING.md).

The app is served in-process by werkzeug on a free port; every test opens its own browser
context (a separate user) and fails on any console error or uncaught page error. Screenshots of
the main views go to docs/screenshots/.

Where /usr/bin/chromium is missing these tests skip, saying how to install it; with CI=true a
missing browser is a failure.
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("MUSCLESIM_CHROMIUM", "/usr/bin/chromium"))
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
TIMEOUT_MS = 20_000

if not CHROMIUM.exists():
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {CHROMIUM} is missing: install it with `apt-get install -y chromium`",
                    pytrace=False)
    pytest.skip(f"browser tests need Chromium at {CHROMIUM}: `apt-get update && apt-get install -y chromium` "
                "(Debian), or set MUSCLESIM_CHROMIUM", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def msd_server():
    """The dashboard on 127.0.0.1:<free port>, in a thread; yields its base URL."""
    import logging

    from werkzeug.serving import make_server

    from dashboard.app import create_app, warm_up

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log in the test output

    app = create_app()
    warm_up()
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def msd_browser():
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS, headless=True)
        yield browser
        browser.close()


class _Errors(list):
    """Console errors and uncaught page errors of the pages it watches."""

    def watch(self, page):
        page.on("console", lambda m: self.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.append(f"page error: {e}"))
        return page

    def check(self):
        found, self[:] = list(self), []
        assert not found, "browser errors:\n" + "\n".join(found)


@pytest.fixture
def msd_errors():
    """Errors of the pages a test opens itself; the test fails on any."""
    errors = _Errors()
    yield errors
    errors.check()


@pytest.fixture(scope="module")
def msd_context(msd_browser):
    """One browser context for the module (its HTTP cache makes page loads faster)."""
    ctx = msd_browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    yield ctx
    ctx.close()


@pytest.fixture
def msd_page(msd_context, msd_errors):
    """A new 1440x900 page (a cold load of the app)."""
    page = msd_errors.watch(msd_context.new_page())
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    page.close()


@pytest.fixture(scope="module")
def _msd_shared(msd_context, msd_server):
    errors = _Errors()
    page = errors.watch(msd_context.new_page())
    page.set_default_timeout(TIMEOUT_MS)
    open_view(page, msd_server)
    yield page, errors
    page.close()


@pytest.fixture
def msd_app(_msd_shared):
    """The app already open in a page shared by several tests (a cold load costs seconds on a
    small machine); :func:`navigate` gives each test its own starting state through the URL, as
    the browser's back/forward buttons would. Fails the test on any browser error."""
    page, errors = _msd_shared
    errors.check()  # errors from an earlier test belong to that test
    yield page
    errors.check()


# --------------------------------------------------------------------------- helpers


def open_view(page, base: str, query: str = "") -> None:
    page.goto(base + "/" + query)
    page.wait_for_selector("#measures-table table")
    settle(page)


def settle(page) -> None:
    """Wait until Dash has no callback in flight (chained callbacks leave short gaps: check twice)."""
    for _ in range(2):
        page.wait_for_function("() => !document.querySelector('._dash-loading-callback')")
        page.wait_for_timeout(120)


def navigate(page, query: str) -> None:
    """Go to ``query`` inside the open app (history.pushState + popstate, like back/forward)."""
    page.evaluate("(q) => { history.pushState({}, '', q || location.pathname); "
                  "dispatchEvent(new PopStateEvent('popstate')); }", query)
    page.wait_for_timeout(50)
    settle(page)


def measure_value(page, name: str) -> str:
    return page.locator(f'#measures-table tr[data-measure="{name}"] td').first.inner_text().strip()


def figure_texts(page, selector: str) -> list[str]:
    """The annotation texts of a plotly figure (SVG text: no innerText)."""
    return page.locator(f"{selector} .annotation-text").evaluate_all("els => els.map(e => e.textContent)")


class CallbackRequests(list):
    """The callback requests (POST /_dash-update-component) a page sends while it is watched."""

    def __init__(self, page):
        super().__init__()
        self.page = page
        page.on("request", self._seen)

    def _seen(self, request) -> None:
        if request.method == "POST" and request.url.split("?")[0].endswith(UPDATE):
            self.append(request.url)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.page.remove_listener("request", self._seen)


UPDATE = "/_dash-update-component"


def slider_thumb(page, muscle: str):
    return page.locator(f'[data-muscle="{muscle}"] [role="slider"]')


def baseline_tilt_text() -> str:

    from dashboard import compute

    return f"{compute.baseline('standing').metrics['pelvic_tilt_deg']:.1f}°"


def shot(page, name: str, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


# --------------------------------------------------------------------------- tests


def test_page_loads_without_console_errors(msd_server, msd_page):
    from dashboard import compute

    open_view(msd_page, msd_server)
    model = compute.get_model()
    assert msd_page.title().startswith("musclesim")
    # a slider and a labelled number box per muscle
    assert msd_page.locator('#tone-controls [role="slider"][aria-label$="resting tone (0 to 1)"]').count() == len(model.muscle_ids)
    assert msd_page.locator('#tone-controls input[type="number"][aria-label$="resting tone (0 to 1)"]').count() == len(model.muscle_ids)
    assert measure_value(msd_page, "pelvic_tilt_deg") == baseline_tilt_text()
    assert msd_page.locator("#message-banner").inner_text().strip() == ""
    # every measure is listed, the side-view ones and the left-right ones in two groups
    assert msd_page.locator("#measures-table tbody tr[data-measure]").count() == len(compute.measures())
    assert msd_page.locator("#measures-table tr.group").count() == 2
    bases = {i.base for i in model.instances}
    assert msd_page.locator("#sagittal-figure .scatterlayer .trace").count() > len(bases)
    assert not msd_page.locator("#frontal-figure").is_visible()  # front and top views on demand
    assert not msd_page.locator("#top-figure").is_visible()
    assert msd_page.locator("#graph-figure .scatterlayer .trace").count() > 8
    # the dropdowns are named by their visible labels, not only by their current value
    assert "why-measure-label" in msd_page.locator("#why-measure-select").get_attribute("aria-labelledby")
    shot(msd_page, "main", full_page=True)


def test_keyboard_moves_left_psoas_and_updates_tilt(msd_app):
    page = msd_app
    navigate(page, "")
    page.locator("#link-sides input").uncheck()  # move the left side only
    try:
        before = measure_value(page, "pelvic_tilt_deg")
        sag_before = figure_texts(page, "#sagittal-figure")
        thumb = slider_thumb(page, "psoas_major_left")
        thumb.focus()
        with CallbackRequests(page) as sent:
            thumb.press("PageUp")
            page.wait_for_function(
                "(b) => document.querySelector('#measures-table tr[data-measure=\"pelvic_tilt_deg\"] td')"
                ".innerText.trim() !== b", arg=before)
            settle(page)
            assert len(sent) == 1, f"one slider change cost {len(sent)} server round trips"
        mid = measure_value(page, "pelvic_tilt_deg")
        for _ in range(2):
            thumb.press("PageUp")
        page.wait_for_function(
            "(b) => document.querySelector('#measures-table tr[data-measure=\"pelvic_tilt_deg\"] td')"
            ".innerText.trim() !== b", arg=mid)
        settle(page)
        assert float(thumb.get_attribute("aria-valuenow")) > 0.2
        assert float(slider_thumb(page, "psoas_major_right").get_attribute("aria-valuenow")) == pytest.approx(0.05)
        assert measure_value(page, "pelvic_tilt_deg") != before
        assert "psoas_major_left=" in page.url and "psoas_major_right" not in page.url
        sag_after = figure_texts(page, "#sagittal-figure")
        assert sag_after != sag_before, "the body figure did not change"
        assert any("pelvic tilt" in t and re.search(r"\([+-]\d", t) for t in sag_after), sag_after
        assert any(t.startswith("psoas major (left)") for t in sag_after), sag_after  # the toned muscle, named
        assert not page.locator("#why-text").is_visible()  # the why panel is closed: nothing explained
        with CallbackRequests(page) as sent:
            page.locator("#why-toggle").click()  # opening it asks the server for the explanation
            page.wait_for_function("() => document.querySelector('#why-text .why-sentence')")
            settle(page)
            assert len(sent) == 1
        assert page.locator("#why-toggle").get_attribute("aria-expanded") == "true" and "why=1" in page.url
        assert "Pelvic tilt" in page.locator("#why-text").inner_text()  # the why panel explains it
        shot(page, "psoas_left_keyboard")
    finally:
        page.locator("#link-sides input").check()


def test_frontal_view_follows_the_one_sided_psoas(msd_app):
    """The front view renders, changes with the left-psoas preset and a slider, shows the
    left crest up and the trunk bending to the left, and says when it has nothing to show."""
    page = msd_app
    navigate(page, "")
    page.locator("#draw-options input[value=front]").check()  # front and top views on demand
    # the change re-renders the options: wait for its round trip before the next click
    page.wait_for_function("() => location.search.includes('front=1')")
    settle(page)
    page.locator("#draw-options input[value=top]").check()
    page.wait_for_function("() => location.search.includes('front=1') && location.search.includes('top=1')")
    settle(page)
    assert page.locator("#frontal-figure").is_visible() and page.locator("#top-figure").is_visible()
    assert "left-right changes drawn ×10" in " ".join(figure_texts(page, "#frontal-figure"))
    assert any("pelvic rotation" in t for t in figure_texts(page, "#top-figure"))
    before = figure_texts(page, "#frontal-figure")
    assert any("obliquity +0.0° (level)" in t for t in before), before
    page.locator('[data-preset="one_sided_psoas"] button').click()
    page.wait_for_function("() => location.search.includes('preset=one_sided_psoas')")
    settle(page)
    page.wait_for_function("() => [...document.querySelectorAll('#frontal-figure .annotation-text')]"
                           ".some(e => e.textContent.includes('left crest up'))")
    after = figure_texts(page, "#frontal-figure")
    assert after != before
    assert any("side-bend +" in t and "to the left" in t for t in after), after
    assert "left crest up" not in measure_value(page, "pelvic_obliquity_deg")  # the table shows the number
    assert measure_value(page, "pelvic_obliquity_deg").startswith("0.")
    page.set_viewport_size({"width": 1440, "height": 1000})  # the whole panel below the sticky header
    try:
        page.evaluate("window.scrollTo(0, 0)")
        page.wait_for_timeout(300)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator(".panel.body").screenshot(path=str(SHOTS / "frontal.png"))
    finally:
        page.set_viewport_size({"width": 1440, "height": 900})
    # a slider moves it further
    thumb = slider_thumb(page, "psoas_major_left")
    page.locator("#link-sides input").uncheck()
    try:
        thumb.focus()
        thumb.press("PageUp")
        page.wait_for_function("(b) => document.querySelector('#frontal-figure .annotation-text') &&"
                               "[...document.querySelectorAll('#frontal-figure .annotation-text')]"
                               ".map(e => e.textContent).join('|') !== b", arg="|".join(after))
        settle(page)
        assert figure_texts(page, "#frontal-figure") != after
    finally:
        page.locator("#link-sides input").check()
    # lying: nothing left-right to show, and the view says so
    navigate(page, "?position=supine&psoas_major_left=0.5&front=1")
    assert any("standing only" in t for t in figure_texts(page, "#frontal-figure"))
    assert "standing only" in page.locator('#measures-table tr[data-measure="pelvic_obliquity_deg"]').inner_text()


def test_linked_sides_move_together(msd_app):
    page = msd_app
    navigate(page, "")
    assert page.locator("#link-sides input").is_checked()
    thumb = slider_thumb(page, "iliacus_left")
    thumb.focus()
    thumb.press("PageUp")
    page.wait_for_function("() => location.search.includes('iliacus=')")
    settle(page)
    right = float(slider_thumb(page, "iliacus_right").get_attribute("aria-valuenow"))
    assert right == pytest.approx(float(thumb.get_attribute("aria-valuenow")))


def test_tightness_by_keyboard(msd_app):
    page = msd_app
    navigate(page, "")
    page.locator("#tightness-section > summary").click()
    thumb = page.locator('#tightness-section [role="slider"]')
    assert "degrees of motion lost" in thumb.get_attribute("aria-label")
    thumb.focus()
    thumb.press("PageUp")
    page.wait_for_function("() => location.search.includes('tight.')")
    settle(page)
    assert "of motion lost" in page.locator("#tightness-list").inner_text()
    assert measure_value(page, "pelvic_tilt_deg") != baseline_tilt_text()
    page.locator("#tightness-clear").click()
    page.wait_for_function("() => !location.search.includes('tight.')")
    page.locator("#tightness-section > summary").click()


def test_preset_loads_and_claim_shows(msd_app):
    from dashboard.presets import preset_by_id

    page = msd_app
    p = preset_by_id("desk_sitter")
    navigate(page, "")
    page.locator('[data-preset="desk_sitter"] button').click()
    page.wait_for_function("() => location.search.includes('preset=desk_sitter')")
    settle(page)
    active = page.locator("#active-preset").inner_text()
    assert p.claim in active
    assert p.articles[0] in active
    assert "Evidence: " + p.evidence_grade in active
    assert re.search(r"Model verdict: (reproduced|partly reproduced|not reproduced|outside the model's scope|"
                     r"no stable posture)", active)
    assert float(slider_thumb(page, "psoas_major_left").get_attribute("aria-valuenow")) == pytest.approx(0.4)
    page.locator("#active-preset").scroll_into_view_if_needed()
    shot(page, "preset_desk_sitter")


def test_url_state_reproduces_the_view(msd_server, msd_page):
    from dashboard import compute

    open_view(msd_page, msd_server, "?psoas_major_left=0.6&measure=lumbar_lordosis_deg&view=body&why=1")
    res = compute.solve({"psoas_major_left": 0.6}, "standing")
    assert float(slider_thumb(msd_page, "psoas_major_left").get_attribute("aria-valuenow")) == pytest.approx(0.6)
    assert measure_value(msd_page, "pelvic_tilt_deg") == f"{res.metrics['pelvic_tilt_deg']:.1f}°"
    assert "lumbar lordosis" in msd_page.locator("#why-measure-select").inner_text()
    assert msd_page.locator("#body-view-select input[value=body]").is_checked()
    assert "Lumbar lordosis" in msd_page.locator("#why-text").inner_text()
    assert "psoas_major_left=0.6" in msd_page.url


def test_two_users_do_not_share_state(msd_server, msd_app, msd_browser, msd_errors):
    ctx_b = msd_browser.new_context(viewport={"width": 1440, "height": 900})  # a second user
    try:
        a = msd_app
        b = msd_errors.watch(ctx_b.new_page())
        b.set_default_timeout(TIMEOUT_MS)
        navigate(a, "?psoas_major_left=0.6")
        open_view(b, msd_server)
        tilt_a, tilt_b = measure_value(a, "pelvic_tilt_deg"), measure_value(b, "pelvic_tilt_deg")
        assert tilt_a != tilt_b
        b.locator('[data-preset="flat_back"] button').click()  # B changes its scenario...
        b.wait_for_function("() => location.search.includes('preset=flat_back')")
        settle(b)
        thumb = slider_thumb(a, "rectus_abdominis_left")  # ...while A moves a slider
        thumb.focus()
        thumb.press("PageUp")
        a.wait_for_function("() => location.search.includes('rectus_abdominis=')")
        settle(a)
        assert "preset" not in a.url and "psoas_major_left=0.6" in a.url
        assert a.locator("#active-preset").inner_text().startswith("No preset loaded")
        assert float(slider_thumb(a, "hamstrings_left").get_attribute("aria-valuenow")) == pytest.approx(0.04)
        assert "flat_back" in b.url and "rectus_abdominis" not in b.url
        assert float(slider_thumb(b, "psoas_major_left").get_attribute("aria-valuenow")) == pytest.approx(0.0)
        assert float(slider_thumb(b, "rectus_abdominis_left").get_attribute("aria-valuenow")) == pytest.approx(0.02)
    finally:
        ctx_b.close()


BAD_URLS = [
    ("?psoas_major_left=7", "must be a number in [0, 1]"),
    ("?nosuch_muscle=0.5", "unknown muscle or group 'nosuch_muscle'"),
    ("?psoas_major_left=banana&%%%=&&=", "must be a number in [0, 1]"),
    ("?%C0%AF%%%garbage&position=moon", "unknown position 'moon'"),
]


def test_bad_url_state_shows_message_and_baseline(msd_server, msd_page):
    """The first bad link is opened cold; the others arrive as browser navigation, which the app
    reads through the same URL callback."""
    baseline = baseline_tilt_text()
    for k, (query, expected) in enumerate(BAD_URLS):
        if k == 0:
            open_view(msd_page, msd_server, query)
        else:
            navigate(msd_page, query)
        banner = msd_page.locator("#message-banner")
        assert banner.is_visible(), query
        assert expected.lower() in banner.inner_text().lower(), query
        assert "baseline" in banner.inner_text() or "using standing" in banner.inner_text().lower()
        assert measure_value(msd_page, "pelvic_tilt_deg") == baseline, query
        if k == 0:
            shot(msd_page, "bad_url")
    navigate(msd_page, "?psoas_major_left=0.6")  # a good link clears the message
    assert msd_page.locator("#message-banner").inner_text().strip() == ""
    assert measure_value(msd_page, "pelvic_tilt_deg") != baseline


def _boxes(page, selector: str) -> list[dict]:
    return page.locator(selector).evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); "
        "return {text: e.textContent, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom}; })")


def _overlap(a: dict, b: dict) -> bool:
    return a["x0"] < b["x1"] - 0.5 and b["x0"] < a["x1"] - 0.5 and a["y0"] < b["y1"] - 0.5 and b["y0"] < a["y1"] - 0.5


def _in_view(page, selector: str) -> bool:
    return page.locator(selector).evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.top >= 0 && r.left >= 0 && "
        "r.bottom <= innerHeight && r.right <= innerWidth; }")


def test_projector_lesson_at_1280x720(msd_app):
    """Lesson mode at a projector's 1280x720: only the lesson's sliders, all in view without
    scrolling; label boxes of the side view never overlap (real bounding boxes); everything
    reachable by keyboard: the big sliders (one round trip each), reset, play/pause/step,
    predict-then-reveal, A/B side by side. Saves docs/screenshots/projector.png."""
    from dashboard.lessons import all_controls, lesson_by_id

    page = msd_app
    page.set_viewport_size({"width": 1280, "height": 720})
    try:
        navigate(page, "?lesson=desk_sitter")
        page.wait_for_function("() => document.getElementById('app-root').classList.contains('present')")
        settle(page)
        page.evaluate("window.scrollTo(0, 0)")
        lesson = lesson_by_id("desk_sitter")
        assert "lesson=desk_sitter" in page.url and "predict=1" in page.url
        assert not page.locator("#tone-controls").is_visible()
        rows = {n: page.locator(f'[data-control="{n}"]').is_visible() for n in all_controls()}
        assert {n for n, v in rows.items() if v} == set(lesson.controls), rows
        for n in lesson.controls:  # every slider of the lesson visible without scrolling, and big
            assert _in_view(page, f'[data-control="{n}"] [role="slider"]'), n
            box = page.locator(f'[data-control="{n}"] [role="slider"]').bounding_box()
            assert box["width"] >= 28, box
        assert page.evaluate("document.documentElement.scrollHeight") <= 720
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
        assert lesson.question in page.locator("#lesson-question").inner_text()
        assert measure_value(page, "pelvic_tilt_deg") == "?"  # predict first: hidden
        for sel in ("#sagittal-figure", "#key-measures", "#reveal-button", "#graph-play", "#graph-next"):
            assert _in_view(page, sel), sel

        # keyboard: Tab from the top reaches every control of the lesson
        page.locator("#lesson-select").focus()
        seen = []
        for _ in range(60):
            page.keyboard.press("Tab")
            seen.append(page.evaluate("() => { const e = document.activeElement; return (e.id || '') + '|' + "
                                      "(e.getAttribute('aria-label') || '') + '|' + (e.value || ''); }"))
        flat = " ".join(seen)
        for needle in ("reset-baseline", "reveal-button", "store-a-button", "graph-play", "graph-next",
                       "psoas major resting tone", "iliacus resting tone", "|exaggerate", "|ab", "|up"):
            assert needle in flat, (needle, seen)

        # a big slider by keyboard: one round trip; the hidden answer stays hidden until Reveal
        thumb = page.locator('[data-control="psoas_major"] [role="slider"]')
        thumb.focus()
        with CallbackRequests(page) as sent:
            thumb.press("ArrowRight")
            page.wait_for_function("() => location.search.includes('psoas_major=0.41')")
            settle(page)
            assert len(sent) == 1, sent
        assert measure_value(page, "pelvic_tilt_deg") == "?"
        page.locator("#prediction-choice input[value=up]").focus()
        page.keyboard.press("Space")
        page.wait_for_function("() => document.getElementById('prediction-feedback').innerText.includes('noted: up')")
        page.locator("#reveal-button").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => location.search.includes('reveal=1')")
        settle(page)
        assert measure_value(page, "pelvic_tilt_deg") != "?"
        assert "your prediction matches" in page.locator("#prediction-feedback").inner_text()
        # the lesson's measure split into mechanics and assumed coupling, compactly, in view
        split = page.locator("#split-summary .split-headline")
        assert split.inner_text().startswith("Pelvic tilt +") and "assumed coupling" in split.inner_text()
        assert "evidence: none" in page.locator("#split-summary").inner_text()
        assert _in_view(page, "#split-summary")
        assert page.evaluate("document.documentElement.scrollHeight") <= 720

        # play / pause / step the propagation by keyboard
        label = page.locator("#graph-frame-label")
        page.locator("#graph-next").focus()
        page.keyboard.press("Enter")  # wraps to the first frame
        page.wait_for_function("() => document.getElementById('graph-frame-label').innerText.startsWith('coupling 0')")
        page.locator("#graph-play").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('graph-play').innerText.includes('Pause')")
        page.wait_for_function("() => !document.getElementById('graph-frame-label').innerText.startsWith('coupling 0')")
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('graph-play').innerText.includes('Play')")
        paused = label.inner_text()
        page.wait_for_timeout(900)
        assert label.inner_text() == paused  # paused means paused

        # the label boxes of the side view, as drawn: none overlaps another
        page.locator("#draw-options input[value=exaggerate]").check()
        page.wait_for_function("() => location.search.includes('exaggerate=1')")
        settle(page)
        page.wait_for_timeout(300)
        assert "exaggerated" in page.locator("#sagittal-figure .gtitle").text_content()
        boxes = _boxes(page, "#sagittal-figure .annotation-text-g")
        assert len(boxes) >= 6, boxes  # four measures, two toned muscles, the direction
        for i, a in enumerate(boxes):
            for b in boxes[i + 1:]:
                assert not _overlap(a, b), (a, b)
        assert page.locator("#sagittal-figure .scatterlayer .trace").count() > 10
        shot(page, "projector")

        # A/B side by side: store A, change B, both drawn, labels still apart
        page.locator("#store-a-button").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => document.getElementById('app-root').classList.contains('ab-on')")
        thumb = page.locator('[data-control="iliacus"] [role="slider"]')
        thumb.focus()
        thumb.press("PageUp")
        page.wait_for_function("() => location.search.includes('iliacus=0.5')")
        settle(page)
        page.wait_for_timeout(300)
        assert page.locator("#sagittal-a-figure").is_visible() and page.locator("#sagittal-figure").is_visible()
        a_box = page.locator("#sagittal-a-figure").bounding_box()
        b_box = page.locator("#sagittal-figure").bounding_box()
        assert a_box["x"] + a_box["width"] <= b_box["x"] + 1  # side by side
        assert "A (stored)" in page.locator("#sagittal-a-figure .gtitle").text_content()
        for fig in ("#sagittal-a-figure", "#sagittal-figure"):
            boxes = _boxes(page, f"{fig} .annotation-text-g")
            for i, a in enumerate(boxes):
                for b in boxes[i + 1:]:
                    assert not _overlap(a, b), (fig, a, b)
        assert page.evaluate("document.documentElement.scrollHeight") <= 720
        shot(page, "projector_ab")

        # reset returns to the lesson's start
        page.locator("#reset-baseline").focus()
        page.keyboard.press("Enter")
        page.wait_for_function("() => location.search.includes('psoas_major=0.4&') || "
                               "location.search.includes('psoas_major=0.4&iliacus=0.4')")
        settle(page)
        assert measure_value(page, "pelvic_tilt_deg") == "?" and "a." not in page.url
        page.locator("#presentation-toggle").click()
        page.wait_for_function("() => !document.getElementById('app-root').classList.contains('present')")
    finally:
        page.set_viewport_size({"width": 1440, "height": 900})


def test_predict_then_reveal(msd_app):
    page = msd_app
    navigate(page, "?psoas_major_left=0.6&predict=1&why=1")
    assert measure_value(page, "pelvic_tilt_deg") == "?"
    assert "after the reveal" in page.locator("#why-text").inner_text()
    assert page.locator("#reveal-button").is_visible()
    page.locator("#prediction-choice input[value=up]").check()
    shot(page, "predict_hidden")
    page.locator("#reveal-button").click()
    page.wait_for_function("() => location.search.includes('reveal=1')")
    settle(page)
    assert measure_value(page, "pelvic_tilt_deg") != "?"
    assert "The model: pelvic tilt" in page.locator("#prediction-feedback").inner_text()
    navigate(page, "")
    assert not page.locator("#reveal-button").is_visible()


def test_graph_steps_and_node_details(msd_app):
    page = msd_app
    navigate(page, "?psoas_major_left=0.6")
    label = page.locator("#graph-frame-label")
    page.wait_for_function("() => document.getElementById('graph-frame-label').innerText === 'posture 100%'")
    page.locator("#graph-next").click()  # wraps to the first frame
    page.wait_for_function("() => document.getElementById('graph-frame-label').innerText.startsWith('coupling 0')")
    page.locator("#graph-next").click()
    page.wait_for_function("() => !document.getElementById('graph-frame-label').innerText.startsWith('coupling 0')")
    frame = label.inner_text()
    page.locator("#graph-play").click()  # plays on from here
    page.wait_for_function("(f) => document.getElementById('graph-frame-label').innerText !== f", arg=frame)
    if "Pause" in page.locator("#graph-play").inner_text():  # still playing (it stops by itself at the end)
        page.locator("#graph-play").click()
    page.wait_for_function("() => document.getElementById('graph-play').innerText.includes('Play')")
    # inspect a node from the keyboard-friendly list
    page.locator("#graph-node-select").click()
    page.keyboard.type("psoas_major_left")
    page.get_by_role("option", name="psoas_major_left", exact=True).click()
    page.wait_for_function("() => document.getElementById('graph-node-details').innerText.includes('Relations')")
    details = page.locator("#graph-node-details").inner_text()
    assert "antagonist" in details or "synergist" in details
    # and by clicking a muscle node in the figure (node traces come last: bones, joints, muscles, measures)
    page.keyboard.press("Escape")
    page.locator("#graph-figure").scroll_into_view_if_needed()
    from dashboard import compute

    G, pos = compute.graph(), compute.graph_positions()
    muscles = [n for n in sorted(pos) if G.nodes[n]["kind"] == "muscle"]
    point = page.locator("#graph-figure .scatterlayer .trace").nth(-2).locator(".point").nth(
        muscles.index("thoracic_extensors_left"))  # top of the column: no arcs nearby
    box = point.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function("() => document.getElementById('graph-node-details').innerText"
                           ".includes('thoracic_extensors_left (muscle)')")
    page.locator("#graph-figure").scroll_into_view_if_needed()
    shot(page, "graph")


def test_compare_and_export(msd_app):
    import json

    page = msd_app
    navigate(page, "?psoas_major_left=0.6")
    page.locator("#store-a-button").click()
    page.wait_for_function("() => document.getElementById('compare-table').innerText.includes('B − A')")
    page.locator('[data-preset="flat_back"] button').click()
    page.wait_for_function("() => location.search.includes('preset=flat_back')")
    settle(page)
    compare = page.locator("#compare-table").inner_text()
    assert "psoas_major_left 0.6" in compare and "hamstrings_left 0.3" in compare
    with page.expect_download() as dl:
        page.locator("#export-csv").click()
    text = Path(dl.value.path()).read_text()
    assert text.startswith("kind,name,value,baseline,change,unit")
    assert "measure,pelvic_tilt_deg," in text and "tone,hamstrings_left,0.3," in text
    with page.expect_download() as dl:
        page.locator("#export-json").click()
    data = json.loads(Path(dl.value.path()).read_text())
    assert data["tone"]["hamstrings_left"] == 0.3 and "pelvic_tilt_deg" in data["metrics"]
    page.locator("#compare-table").scroll_into_view_if_needed()
    shot(page, "compare")
    page.locator("#clear-a-button").click()
    page.wait_for_function("() => !document.getElementById('app-root').classList.contains('has-a')")
    settle(page)


SPLIT_RE = re.compile(r"^(?P<label>.+?) (?P<total>[+-]\d+\.\d)° = (?P<mech>[+-]\d+\.\d)° mechanics (?P<op>[+−]) "
                      r"(?P<coup>\d+\.\d)° assumed coupling$")


def shown_split(page, selector: str = "#split-summary") -> tuple[float, float, float]:
    """(total, mechanics, coupling) as a split headline prints them."""
    text = page.locator(f"{selector} .split-headline").inner_text().strip()
    m = SPLIT_RE.match(text)
    assert m, text
    coup = float(m["coup"]) * (-1.0 if m["op"] == "−" else 1.0)
    return float(m["total"]), float(m["mech"]), coup


def test_split_of_raised_psoas_and_the_coupling_toggle(msd_app):
    """Raise psoas major (both sides) to 0.3 with its number box: the measures panel, the table
    and the why panel show pelvic tilt's change as mechanics + assumed coupling, the parts adding
    to the total and matching ms.simulate(...).split; the neural-coupling toggle (keyboard, one
    round trip, in the URL) switches the coupling off: its part shows 0 and the mechanics is
    what it was. Saves docs/screenshots/split.png at 1280x720."""
    import musclesim as ms
    from dashboard import compute

    page = msd_app
    settle(page)  # an earlier test's last click may still be in flight: let it land first
    navigate(page, "?why=1")  # the why panel open
    page.wait_for_function("() => location.search === '?why=1' && "
                           "!document.querySelector('#split-summary .split-headline')")
    assert page.locator("#coupling-toggle input").is_checked()
    assert "Neural coupling" in page.locator("#coupling-toggle label").inner_text()
    box = page.locator('[data-muscle="psoas_major_left"] input[type="number"]')
    box.fill("0.3")
    box.press("Tab")  # commits the typed value (linked: both sides)
    page.wait_for_function("() => location.search.includes('psoas_major=0.3')")
    settle(page)
    page.wait_for_function("() => document.querySelector('#split-summary .split-headline')")
    total, mech, coup = shown_split(page)
    assert page.locator("#split-summary .split-headline").inner_text().startswith("Pelvic tilt +")
    assert mech + coup == pytest.approx(total, abs=1e-9)  # the shown parts add up to the shown total
    want = ms.simulate(compute.get_model(), tone={"psoas_major": 0.3}).split["pelvic_tilt_deg"]
    assert total == pytest.approx(want["total"], abs=0.05 + 1e-9)
    assert mech == pytest.approx(want["mechanics"], abs=0.05 + 1e-9)
    assert coup == pytest.approx(want["coupling"], abs=0.1 + 1e-9)  # rounded so the parts add: one step
    assert coup > 1.0  # with the coupling on it carries a real share of the tilt
    evidence = page.locator("#split-summary .split-evidence").inner_text()
    assert evidence == "assumed coupling — estimate, unsourced; evidence: none"
    row = page.locator('#measures-table tr[data-measure="pelvic_tilt_deg"] td')
    assert [row.nth(i).inner_text().strip() for i in (1, 2, 3)] == [f"{total:+.1f}°", f"{mech:+.1f}°", f"{coup:+.1f}°"]
    assert shown_split(page, "#why-text") == (total, mech, coup)  # the why panel says the same
    assert "guess, not a measurement" in page.locator("#why-text .split-words").inner_text()
    page.set_viewport_size({"width": 1280, "height": 720})
    try:
        page.evaluate("() => { window.scrollTo(0, 0); document.getElementById('tone-controls').scrollTop = 0; }")
        page.mouse.move(4, 84)  # no button hovered in the picture
        page.wait_for_timeout(400)
        assert _in_view(page, "#split-summary") and _in_view(page, "#coupling-toggle")
        shot(page, "split")
    finally:
        page.set_viewport_size({"width": 1440, "height": 900})

    # the toggle, by keyboard: one round trip; the coupling's part is 0, the mechanics unchanged
    toggle = page.locator("#coupling-toggle input")
    toggle.focus()
    with CallbackRequests(page) as sent:
        page.keyboard.press("Space")
        page.wait_for_function("() => location.search.includes('coupling=0')")
        settle(page)
        assert len(sent) == 1, f"the toggle cost {len(sent)} server round trips"
    assert not toggle.is_checked()
    total_off, mech_off, coup_off = shown_split(page)
    assert coup_off == 0.0 and mech_off == total_off
    assert page.locator("#split-summary .split-headline").inner_text().endswith("+ 0.0° assumed coupling")
    want_off = ms.simulate(compute.get_model(), tone={"psoas_major": 0.3}, coupling=False).change["pelvic_tilt_deg"]
    assert total_off == pytest.approx(want_off, abs=0.05 + 1e-9)
    assert total_off == mech  # the mechanics is the coupling-off change
    assert "switched off" in page.locator("#split-summary .split-evidence").inner_text()
    assert measure_value(page, "pelvic_tilt_deg") == f"{ms.simulate(compute.get_model(), tone={'psoas_major': 0.3}, coupling=False).metrics['pelvic_tilt_deg']:.1f}°"
    assert "psoas_major=0.3" in page.url and "coupling=0" in page.url

    # the link reproduces it; a bad value is a message, with the coupling left on
    navigate(page, "?psoas_major=0.3&coupling=0")
    assert not page.locator("#coupling-toggle input").is_checked() and shown_split(page)[2] == 0.0
    navigate(page, "?psoas_major=0.3&coupling=maybe")
    banner = page.locator("#message-banner")
    assert banner.is_visible() and "coupling=maybe" in banner.inner_text()
    assert "neural tone coupling" in banner.inner_text()
    assert page.locator("#coupling-toggle input").is_checked() and shown_split(page) == (total, mech, coup)
    toggle.focus()
    page.keyboard.press("Space")  # and off, then on again, by keyboard
    page.wait_for_function("() => location.search.includes('coupling=0')")
    settle(page)
    page.keyboard.press("Space")
    page.wait_for_function("() => !location.search.includes('coupling')")
    settle(page)
    assert toggle.is_checked() and shown_split(page) == (total, mech, coup)
