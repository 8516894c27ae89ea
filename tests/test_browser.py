"""A chapter reruns in JupyterLab: opened as a notebook through jupytext in headless Chromium, Run All, a figure.

The test starts JupyterLab as ``make lab`` does (the settings of ``lab-settings/``, which open markdown files as
"Jupytext Notebook"), on 127.0.0.1 with a token, over a copy of ``book/`` (JupyterLab autosaves what it opens, and
the repository's chapters must not be rewritten by a test). The kernel reads a 16-image folder and a cache of the
test's own, so the chapter computes its study in seconds and the test does not depend on a book build.

Selenium drives the system's Chromium through the system's chromedriver; nothing is downloaded. Without them the
test is skipped, saying what is missing (Debian: ``apt-get install chromium chromium-driver``; ``.ci/run`` does it).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from gradcam_study.data import list_images

from conftest import REPO

pytestmark = pytest.mark.browser

webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -r requirements.txt)")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.remote.webelement import WebElement  # noqa: E402

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
CHROMEDRIVER = shutil.which("chromedriver")
if CHROMIUM is None or CHROMEDRIVER is None:
    pytest.skip(
        "Chromium and chromedriver are needed on PATH (Debian: apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )

#: The chapter rerun: it computes the main study and draws the paper's Figures 1 and 2 from it.
CHAPTER = "grad_cam_family.md"
#: The chapter explains the best-recognised cat and dog of the study, so the small folder holds every cat class
#: (ImageNet 281-285), a few dog breeds (from 151) and a few other classes.
CLASSES = (*range(281, 286), *range(151, 159), 0, 1, 2)
#: Seconds for JupyterLab to answer, for a page to show a notebook, and for Run All: ample (measured on two idle
#: cores: 5, 10 and 20 s), since a busy machine makes them several times slower.
SERVER_START_S = 180
PAGE_LOAD_S = 180
RUN_ALL_S = 600
#: What IPython prints at the top of a traceback; JupyterLab renders an error as stderr with this text in it.
TRACEBACK_MARK = "Traceback (most recent call last)"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Lab:
    """A running JupyterLab: its URL, token and the folder it serves."""

    url: str
    token: str
    root: Path

    def api(self, path: str, method: str = "GET") -> object:
        request = urllib.request.Request(f"{self.url}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body else None


#: What a request to a busy or starting server may raise, to be tried again.
NOT_YET = (urllib.error.URLError, ConnectionError, TimeoutError)


def wait_for(condition: Callable[[], object], timeout_s: float, what: str, interval_s: float = 0.5) -> object:
    """Poll ``condition`` until it returns something truthy; fail saying ``what`` did not happen in time."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = condition()
        except NOT_YET:
            value = None
        if value:
            return value
        time.sleep(interval_s)
    pytest.fail(f"{what} did not happen within {timeout_s:.0f} s")


@pytest.fixture(scope="module")
def small_sample(imagenet_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's images of :data:`CLASSES`, in the sample's own layout (``<wnid>_<name>.JPEG`` files)."""
    folder = tmp_path_factory.mktemp("images")
    chosen = [image for image in list_images(imagenet_sample) if image.label in CLASSES]
    for image in chosen:
        shutil.copy2(image.path, folder / image.path.name)
    assert len(chosen) == len(CLASSES), "the sample lacks some of the test's classes"
    return folder


@pytest.fixture(scope="module")
def lab(small_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab over a copy of ``book/``, with the settings ``make lab`` installs; stopped, kernels first."""
    scratch = tmp_path_factory.mktemp("lab")
    root = scratch / "book"
    shutil.copytree(REPO / "book", root)
    # One setting of the test's own: every cell stays in the page (JupyterLab's default windowing leaves cells
    # scrolled far out of view unrendered), so that the test reads every prompt and output.
    tracker = scratch / "user-settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}))
    token = secrets.token_hex(16)
    port = free_port()
    env = {
        **os.environ,
        "GRADCAM_STUDY_DATA": str(small_sample),
        "GRADCAM_STUDY_CACHE": str(scratch / "cache"),
        "GRADCAM_STUDY_PROFILE": "quick",
        # A preview of the 16 images: the deletion/insertion curves on 3 of them, not on all 16, so that Run All
        # stays well inside RUN_ALL_S on two busy cores (the study explains 15 layers in one pass).
        "GRADCAM_STUDY_LIMIT": "16",
        # The kernel imports this checkout's package, as the tests do.
        "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO / "src"), os.environ.get("PYTHONPATH")))),
        # The user's own JupyterLab settings and workspaces must not change what the test sees.
        "JUPYTERLAB_SETTINGS_DIR": str(scratch / "user-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(scratch / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
        "PATH": os.pathsep.join((str(Path(sys.executable).parent), os.environ.get("PATH", ""))),
    }
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.app_settings_dir={REPO / 'lab-settings'}",
    ]
    if os.geteuid() == 0:
        command.append("--allow-root")
    log = (scratch / "jupyterlab.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    running = Lab(f"http://127.0.0.1:{port}", token, root)

    def answers() -> object:
        if server.poll() is not None:
            pytest.fail(f"JupyterLab exited with status {server.returncode}:\n{(scratch / 'jupyterlab.log').read_text()}")
        return running.api("/api/status")

    try:
        wait_for(answers, SERVER_START_S, "JupyterLab answering")
        yield running
    finally:
        if server.poll() is None:
            try:
                for kernel in running.api("/api/kernels") or []:
                    running.api(f"/api/kernels/{kernel['id']}", method="DELETE")
            except NOT_YET:
                pass  # the server is stopped below all the same; its own shutdown stops its kernels
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[webdriver.Chrome]:
    """Headless Chromium driven by the system's chromedriver: given its path, Selenium does not run Selenium Manager,
    which would otherwise look for (and download) a driver."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,1000", f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    except WebDriverException as error:
        pytest.fail(f"Chromium did not start through {CHROMEDRIVER}: {error.msg}")
    try:
        yield driver
    finally:
        driver.quit()


@dataclass(frozen=True)
class RunOutcome:
    """What the notebook shows once Run All has finished."""

    prompts: list[str]
    images: int
    errors: list[str]


def shown_notebook(driver: webdriver.Chrome) -> WebElement | None:
    """The notebook on screen (JupyterLab keeps other open documents in the page, hidden)."""
    return next((panel for panel in driver.find_elements(By.CSS_SELECTOR, ".jp-NotebookPanel") if panel.is_displayed()),
                None)


def open_as_notebook(driver: webdriver.Chrome, lab: Lab, name: str) -> WebElement:
    """Open ``name`` the way a reader does, by its path, and wait until it shows as a notebook with its kernel."""
    kernels_before = len(lab.api("/api/kernels"))
    # ?reset: a fresh workspace, so that no notebook opened earlier is restored beside this one.
    driver.get(f"{lab.url}/lab/tree/{name}?reset&token={lab.token}")

    # The settings make a markdown file open as a notebook; without them it would open in the text editor.
    def notebook() -> WebElement | None:
        panel = shown_notebook(driver)
        return panel if panel is not None and panel.find_elements(By.CSS_SELECTOR, ".jp-CodeCell") else None

    panel = wait_for(notebook, PAGE_LOAD_S, f"{name} opening as a notebook with code cells")
    wait_for(lambda: len(kernels := lab.api("/api/kernels")) > kernels_before
             and all(kernel["execution_state"] == "idle" for kernel in kernels), PAGE_LOAD_S,
             f"a kernel for {name} being ready")
    return panel


def run_all(driver: webdriver.Chrome, lab: Lab, panel: WebElement) -> RunOutcome:
    """Run → Run All Cells from the menu bar, wait until no cell of ``panel`` is queued or running, read its outputs."""
    driver.find_element(By.XPATH, "//div[contains(@class, 'lm-MenuBar-itemLabel') and text()='Run']").click()
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "li[data-command='runmenu:run-all']"), 10,
             "the Run menu opening")[0].click()

    def prompts() -> list[str]:
        return [p.text.strip() for p in panel.find_elements(By.CSS_SELECTOR, ".jp-CodeCell .jp-InputArea-prompt")]

    # A queued or running cell shows [*]: done when none does and the kernel is idle (a failing cell clears the
    # queue, so Run All also ends there).
    wait_for(lambda: any(p != "[ ]:" for p in prompts()), 30, "Run All starting")
    wait_for(lambda: "[*]:" not in prompts() and all(k["execution_state"] == "idle" for k in lab.api("/api/kernels")),
             RUN_ALL_S, "Run All finishing")
    stderr = panel.find_elements(
        By.CSS_SELECTOR, ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    return RunOutcome(
        prompts=prompts(),
        images=len(panel.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output img")),
        errors=[output.text for output in stderr if TRACEBACK_MARK in output.text],
    )


def test_chapter_reruns_in_jupyterlab(browser: webdriver.Chrome, lab: Lab) -> None:
    outcome = run_all(browser, lab, open_as_notebook(browser, lab, CHAPTER))
    assert not outcome.errors, f"{CHAPTER} raised in JupyterLab:\n" + "\n\n".join(outcome.errors)
    assert outcome.prompts and all(p[1:-2].isdigit() for p in outcome.prompts), \
        f"not every code cell of {CHAPTER} ran: {outcome.prompts}"
    assert outcome.images >= 2, f"{CHAPTER} drew {outcome.images} figures in JupyterLab, expected Figures 1 and 2"


def test_a_failing_cell_is_seen(browser: webdriver.Chrome, lab: Lab) -> None:
    """The check above can fail: the traceback of a notebook whose first cell raises is found.

    (Whether its next cell then runs depends on timing: the kernel aborts only the requests it has already received.)
    """
    header = (REPO / "book" / CHAPTER).read_text().split("---\n", 2)[1]
    (lab.root / "failing.md").write_text(
        f"---\n{header}---\n\n# Fails\n\n```{{code-cell}} ipython3\nraise RuntimeError('deliberate')\n```\n\n"
        "```{code-cell} ipython3\nprint('after the error')\n```\n"
    )
    outcome = run_all(browser, lab, open_as_notebook(browser, lab, "failing.md"))
    assert len(outcome.errors) == 1 and "RuntimeError: deliberate" in outcome.errors[0], outcome.errors
