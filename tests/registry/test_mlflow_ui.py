"""Promotion in the MLflow UI, as a person does it: a real `mlflow ui` on the embedded store, the system
Chromium driven by Selenium, the README's clicks (Aliases -> edit -> champion -> save), checked with MlflowClient.

The screenshot of the promoted version's page is kept in tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import tracking
from tests.services import free_port, stop_process_group, venv_tool, wait_until_up

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api")]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture
def mlflow_ui(trained_workspace):
    """`mlflow ui` over the workspace's embedded store (what `make ui` runs), on a free loopback port."""
    workspace, _ = trained_workspace
    port = free_port()
    log = open(workspace / "mlruns" / f"ui-{port}.log", "ab")
    store = f"sqlite:///{workspace / 'mlruns/mlflow.db'}"
    server = subprocess.Popen(
        [venv_tool("mlflow"), "ui", "--backend-store-uri", store, "--host", "127.0.0.1", "--port", str(port)],
        cwd=workspace,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(server, url, 120, "mlflow ui", log.name)
        yield url
    finally:
        stop_process_group(server)


@pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (make test installs them when run as root)",
)
def test_a_person_promotes_the_challenger_to_champion_in_the_mlflow_ui(trained_workspace, mlflow_ui):
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    workspace, result = trained_workspace
    name, version = result["registered"]["name"], result["registered"]["version"]
    client = tracking(workspace)
    assert str(client.get_model_version_by_alias(name, "challenger").version) == version

    options = Options()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        wait = WebDriverWait(browser, 60)
        # Models -> sentences-bsvae -> the version holding @challenger, then the pencil next to Aliases.
        browser.get(f"{mlflow_ui}/#/models/{name}/versions/{version}")
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, 'button[title="Edit aliases"]'))).click()
        field = wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, '[role="dialog"] input[role="combobox"]')))
        field.send_keys("champion")
        time.sleep(0.5)  # the tag list takes the typed alias on Enter once its options have rendered
        field.send_keys(Keys.ENTER)
        wait.until(
            ec.element_to_be_clickable((By.CSS_SELECTOR, '[data-component-id="mlflow.edit-aliases-modal.save-button"]'))
        ).click()
        wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, '[role="dialog"]')))
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "champion"))
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "mlflow-ui-promotion.png"))
    finally:
        browser.quit()

    assert str(client.get_model_version_by_alias(name, "champion").version) == version
    assert str(client.get_model_version_by_alias(name, "challenger").version) == version  # the other alias stays
