#!/usr/bin/python3
"""report_browser - the HTML report in headless Chromium, read back.

    report_browser.py PAGE.html REPORT.json SHOT.png

Opens PAGE.html (file://, with the network off for the page: it must
need nothing else) in a fresh headless Chromium (Debian's chromium and
chromium-driver, through python3-selenium), saves a full-page screenshot
to SHOT.png, and checks what the browser shows against REPORT.json
("postdrip report --json" of the same store): one section per workflow
with its funnel drawn as SVG bars whose numbers are the report's, the
step table's cells, the daily chart's three series, the bounce reasons,
the per-domain complaint rates, and that every SVG was laid out (has a
size). Exit 0 when all agree, 1 with the differences, 77 when Selenium or
Chromium is missing.
"""
import json
import os
import shutil
import sys
import tempfile

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
except ImportError:
    sys.exit(77)

page, report, shot = sys.argv[1:4]
rep = json.load(open(report))
driver_path = shutil.which("chromedriver") or "/usr/bin/chromedriver"
if not os.path.exists(driver_path) or not shutil.which("chromium"):
    sys.exit(77)
profile = tempfile.mkdtemp(prefix="pdchrome.")
opts = webdriver.ChromeOptions()
opts.binary_location = shutil.which("chromium")
for flag in ("--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--user-data-dir=" + profile,
             "--window-size=1280,900", "--proxy-server=127.0.0.1:9",
             "--proxy-bypass-list=<-loopback>"):
    opts.add_argument(flag)
errors = []


def check(what, got, want):
    if got != want:
        errors.append("%s: page shows %r, report says %r" % (what, got, want))


drv = webdriver.Chrome(service=Service(driver_path), options=opts)
try:
    drv.set_page_load_timeout(30)
    drv.get("file://" + os.path.abspath(page))
    # The whole page in one picture.
    height = drv.execute_script("return document.documentElement.scrollHeight")
    drv.set_window_size(1280, min(max(height + 200, 600), 8000))
    os.makedirs(os.path.dirname(shot) or ".", exist_ok=True)
    drv.save_screenshot(shot)
    check("title", drv.title, "postdrip report")

    sections = drv.find_elements(By.CSS_SELECTOR, "section.workflow")
    check("workflow sections", [s.get_attribute("data-workflow") for s in sections],
          [w["workflow"] for w in rep["workflows"]])
    for sec, w in zip(sections, rep["workflows"]):
        name = w["workflow"]
        bars = sec.find_elements(By.CSS_SELECTOR, "svg.funnel rect[data-k]")
        got = {b.get_attribute("data-k"): int(b.get_attribute("data-n")) for b in bars}
        t = w["totals"]
        check(name + " funnel", got, {
            "enrolled": w["enrolled"], "sent": t["sent"], "delivered": t["delivered"],
            "opened": t["opened"], "clicked": t["clicked"], "goals": w["goals"]})
        # The widest bar is the largest stage.
        widths = {b.get_attribute("data-k"): b.rect["width"] for b in bars}
        top = max(got.values())
        if top and any(got[k] == top and widths[k] < max(widths.values()) - 1 for k in got):
            errors.append(name + " funnel: the largest stage is not the widest bar")
        rows = sec.find_elements(By.CSS_SELECTOR, "table.steps tr.step")
        check(name + " steps", [r.get_attribute("data-step") for r in rows],
              [s["step"] for s in w["steps"]])
        for row, s in zip(rows, w["steps"]):
            for cell in row.find_elements(By.CSS_SELECTOR, "td[data-k]"):
                k = cell.get_attribute("data-k")
                if k in s:
                    check("%s/%s %s" % (name, s["step"], k), int(cell.text), s[k])
                elif k in s["rates"]:
                    check("%s/%s %s rate" % (name, s["step"], k),
                          (int(cell.get_attribute("data-count")),
                           int(cell.get_attribute("data-base"))),
                          (s["rates"][k]["count"], s["rates"][k]["base"]))
                    if s["rates"][k]["rate"] is not None:
                        check("%s/%s %s %%" % (name, s["step"], k), cell.text.split()[0],
                              "%.1f%%" % (100 * s["rates"][k]["rate"]))
        for row in sec.find_elements(By.CSS_SELECTOR, "table.links tr.link"):
            link = row.get_attribute("data-link")
            cells = {c.get_attribute("data-k"): int(c.text)
                     for c in row.find_elements(By.CSS_SELECTOR, "td[data-k]")}
            check(name + " link " + link, cells, {
                "human": t["links"][link].get("human", 0),
                "scanner": t["links"][link].get("scanner", 0)})
        for row in sec.find_elements(By.CSS_SELECTOR, "table.exits tr.exit"):
            reason = row.get_attribute("data-reason")
            check(name + " exit " + reason,
                  int(row.find_element(By.CSS_SELECTOR, "td[data-k]").text), w["exits"][reason])
        arms = sec.find_elements(By.CSS_SELECTOR, "table.arms tr.arm")
        check(name + " arms", [a.get_attribute("data-arm") for a in arms],
              [a["arm"] for a in w["arms"]])

    for series, key in (("sent", "sent"), ("human_opens", "human_opens"),
                        ("human_clicks", "human_clicks")):
        line = drv.find_element(By.CSS_SELECTOR, "#daily polyline[data-series='%s']" % series)
        check("daily " + series, [int(v) for v in line.get_attribute("data-values").split(",")
                                  if v != ""], [d[key] for d in rep["daily"]])
        check("daily %s points" % series, len(line.get_attribute("points").split()),
              len(rep["daily"]))
    got = [(g.get_attribute("data-reason"), int(g.get_attribute("data-hard")),
            int(g.get_attribute("data-soft")))
           for g in drv.find_elements(By.CSS_SELECTOR, "#bounces g.reason")]
    check("bounce reasons", got, [(b["reason"], b["hard"], b["soft"])
                                  for b in rep["bounce_reasons"]])
    got = [(r.get_attribute("data-domain"),
            int(r.find_element(By.CSS_SELECTOR, "td[data-k='complaints']").text),
            r.find_element(By.CSS_SELECTOR, "td[data-k='status']").text)
           for r in drv.find_elements(By.CSS_SELECTOR, "table.domains tr.domain")]
    check("sender domains", got, [(d["domain"], d["complaints"], d["status"])
                                  for d in rep["sender_domains"]])
    for svg in drv.find_elements(By.TAG_NAME, "svg"):
        if svg.rect["width"] < 10 or svg.rect["height"] < 10:
            errors.append("an SVG was not laid out: %r" % svg.get_attribute("outerHTML")[:80])
    # Nothing asked for from outside the file.
    names = drv.execute_script(
        "return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    if names:
        errors.append("the page loaded: %r" % names)
finally:
    drv.quit()
    shutil.rmtree(profile, ignore_errors=True)
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
