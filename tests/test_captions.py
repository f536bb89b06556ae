"""The large-print captions page: served on 127.0.0.1 only, from its own files, with the last exchanges."""

import html
import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from assistant.captions import KEPT, CaptionsPage
from test_listen import Listener, ask

CHROMIUM = shutil.which("chromium")
PAGE_FILES = sorted((Path(__file__).resolve().parent.parent / "assistant" / "captions").glob("page.*"))


def get(url: str, host: str | None = None):
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return opener.open(request, timeout=5)


def test_the_page_serves_its_files_and_the_last_exchanges_on_localhost_only():
    with CaptionsPage(0) as page:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", page.url)
        for number in range(KEPT + 2):
            page.publish(f"question {number}", f"answer {number}", urgent=number == KEPT + 1)
        page.status("Listening.")
        html = get(page.url).read().decode()
        assert 'aria-live="polite"' in html
        captions = json.loads(get(page.url + "captions.json").read())
        assert captions["status"] == "Listening."
        assert [e["heard"] for e in captions["exchanges"]] == [f"question {n}" for n in range(2, KEPT + 2)]
        assert captions["exchanges"][-1]["urgent"] is True
        with pytest.raises(urllib.error.HTTPError, match="403"):
            get(page.url, host="attacker.example")
        with pytest.raises(urllib.error.HTTPError, match="404"):
            get(page.url + "elsewhere")


@pytest.mark.parametrize("path", PAGE_FILES, ids=lambda p: p.name)
def test_the_page_loads_nothing_from_elsewhere(path):
    assert PAGE_FILES, "the page's files are missing"
    assert not re.findall(r"https?:|//[a-z]|@import|url\(", path.read_text(encoding="utf-8"))


def chromium(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Headless Chromium, run for one page; `--virtual-time-budget` lets the page poll a few times first."""
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=3000", *args],
        capture_output=True, text=True, timeout=timeout, check=True,
    )  # fmt: skip


def shown_text(dom: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", dom))


def text_line_heights(png: Path, left: int) -> list[int]:
    """The heights in pixels of the lines of light text on the page's black, right of `left`."""
    light = np.asarray(Image.open(png).convert("L"))[:, left:] > 128
    rows = light.any(axis=1)
    heights, run = [], 0
    for ink in rows:
        if ink:
            run += 1
        elif run:
            heights.append(run)
            run = 0
    return heights + [run] if run else heights


@pytest.mark.heavy
@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/setup installs it with the test extras)")
def test_the_page_shows_a_spoken_session_live_in_a_real_browser(pulse_server, tmp_path):
    env = {**pulse_server.client_env(), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    listener = Listener(env, "--captions-page", "0")
    try:
        url = listener.error_line("Captions page:").split()[-1]
        listener.wait_listening()
        before = shown_text(chromium("--dump-dom", url).stdout)
        reply = ask(pulse_server, listener, "what_is_cytokine_release_syndrome")
        dom = chromium("--dump-dom", url).stdout
        after = shown_text(dom)
        screenshot = tmp_path / "captions.png"
        chromium(f"--screenshot={screenshot}", "--window-size=1280,1000", "--hide-scrollbars", url)
    finally:
        listener.stop()

    assert reply["intent"] == "cytokine-release-syndrome"
    assert "Assistant:" in before and "You said:" not in before, before
    assert 'aria-live="polite"' in dom
    assert f"You said: {reply['transcript']}" in after and reply["answer"][:60] in after, after
    assert after.index(reply["answer"][:60]) < after.index("Assistant:"), "the newest exchange is not on top"
    # Large print: from the top of its tallest letter to the bottom of its lowest, a line measured
    # 31 px for the 32 px status and 40 px for the 40 px captions; at a browser's default 16 px, 19.
    heights = text_line_heights(screenshot, left=60)
    assert len(heights) >= 4 and min(heights) >= 28, heights
