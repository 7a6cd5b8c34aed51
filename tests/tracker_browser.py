#!/usr/bin/python3
"""tracker_browser - one page of the tracker in headless Chromium.

    tracker_browser.py URL SHOTDIR NAME BUTTON [FIELD=VALUE | -CHECKBOX ...]

Loads URL in a fresh headless Chromium (Debian's chromium and
chromium-driver, through python3-selenium), saves SHOTDIR/NAME-before.png,
fills text fields (FIELD=VALUE, by id) and unticks check boxes (-NAME, by
name), clicks the button with id BUTTON, waits for the next page, and
saves SHOTDIR/NAME-after.png. Prints the text of the page it ends on.
Exit 77 when Selenium or Chromium is missing.
"""
import os
import shutil
import sys
import tempfile

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    sys.exit(77)

url, shots, name, button = sys.argv[1:5]
driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not os.path.exists(driver_path) or not shutil.which("chromium"):
    sys.exit(77)
profile = tempfile.mkdtemp(prefix="pdchrome.")
opts = webdriver.ChromeOptions()
opts.binary_location = shutil.which("chromium")
for flag in ("--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
             "--window-size=800,700"):
    opts.add_argument(flag)
drv = webdriver.Chrome(service=Service(driver_path), options=opts)
try:
    drv.set_page_load_timeout(30)
    drv.get(url)
    os.makedirs(shots, exist_ok=True)
    drv.save_screenshot(os.path.join(shots, name + "-before.png"))
    for arg in sys.argv[5:]:
        if arg.startswith("-"):
            box = drv.find_element(By.NAME, arg[1:])
            if box.is_selected():
                box.click()
        else:
            field, value = arg.split("=", 1)
            drv.find_element(By.ID, field).send_keys(value)
    old = drv.find_element(By.TAG_NAME, "html")
    drv.find_element(By.ID, button).click()
    WebDriverWait(drv, 30).until(lambda d: old != d.find_element(By.TAG_NAME, "html"))
    drv.save_screenshot(os.path.join(shots, name + "-after.png"))
    print(drv.find_element(By.TAG_NAME, "body").text)
finally:
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)
