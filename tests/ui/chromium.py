#!/usr/bin/python3
"""A real Chromium (Debian's chromium and chromium-driver, through
python3-selenium) with the checks every page of ours gets: axe-core's
WCAG 2.2 AA rules, no sideways scrolling at 390 px, and screenshots at
1280 and 390 px. Shared by the link worker's app (browser.py) and the
dashboard (dashboard.py)."""
import base64
import json
import os
import time

from selenium import webdriver
from selenium.common.exceptions import (StaleElementReferenceException,
                                        WebDriverException)
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]

# axe's "needs review" results, each explained; anything else fails.
INCOMPLETE_OK = {
    # text over the ONS band shading of the SVG charts: axe cannot
    # compute a background under SVG; the labels are #0b0c0c on the
    # palest band colours (contrast above 12:1, checked by hand)
    "color-contrast": "chart text over SVG band shading",
}


class Fail(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Fail(what)


def gone(e):
    """Whether e says its node went with its document. ChromeDriver says
    so in two ways: a stale element reference, or, when it asks for a
    node of a document the frame has just replaced (the node is still
    there, its document no longer in a frame), Chromium's own "does not
    belong to the document" (DOM.resolveNode), passed on as an unknown
    error. Seen while waiting for the next page after a click, a few
    times in a hundred, at any width."""
    return (isinstance(e, StaleElementReferenceException) or
            "does not belong to the document" in str(e))


class Browser:
    def __init__(self, base, profile, axe, shots, extra=()):
        o = webdriver.ChromeOptions()
        for a in ("--headless=new", "--no-sandbox", "--disable-gpu",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--disable-quic", "--window-size=1280,900",
                  "--user-data-dir=" + profile) + tuple(extra):
            o.add_argument(a)
        o.binary_location = "/usr/bin/chromium"
        self.d = webdriver.Chrome(
            service=Service("/usr/bin/chromedriver"), options=o)
        self.d.set_page_load_timeout(30)
        self.base = base
        self.shots = shots
        self.spent = 0.0
        self.axe = open(axe).read() if axe else ""
        self.checked = set()

    def go(self, path):
        self.d.get(self.base + path)

    def fresh(self, act):
        """act(), again when the node it found has gone with its document:
        a page that reloads itself (the sync's progress) can replace the
        document between finding a node and using it. act() must find its
        node itself, so that each try gets the document of the time; the
        error comes before anything is done to the node."""
        for tries in range(5):
            try:
                return act()
            except WebDriverException as e:
                if tries == 4 or not gone(e):
                    raise
                time.sleep(0.2)

    def text(self):
        return self.fresh(
            lambda: self.d.find_element(By.TAG_NAME, "body").text)

    def replaced(self, old):
        """Waits until old, a node of the page before, has gone with its
        document: the next page is in."""
        def is_gone(_):
            try:
                old.is_enabled()
                return False
            except WebDriverException as e:
                if gone(e):
                    return True
                raise
        WebDriverWait(self.d, 20).until(is_gone)

    def has(self, s):
        check(s in self.text(), "the page lacks %r:\n%s" % (s,
              self.text()[:1500]))

    def click(self, el):
        """Clicks, then waits for the next page (never a fixed sleep).
        el is an element, or a locator (By.X, "...")."""
        old = self.d.find_element(By.TAG_NAME, "html")
        if isinstance(el, tuple):
            el = self.d.find_element(*el)
        el.click()
        self.replaced(old)

    def type_into(self, by, what, text):
        """Keys into the field found by (by, what)."""
        self.d.find_element(by, what).send_keys(text)

    # -- checks on every page ---------------------------------------------
    def run_axe(self, what):
        if not self.axe:
            return
        self.d.execute_script(self.axe)
        r = self.d.execute_async_script(
            "var cb=arguments[arguments.length-1];"
            "axe.run(document,{runOnly:{type:'tag',values:arguments[0]}})"
            ".then(function(r){cb({v:r.violations.map(function(x){"
            "return {id:x.id,n:x.nodes.length,html:x.nodes[0].html,"
            "why:x.nodes[0].failureSummary}}),i:r.incomplete.map("
            "function(x){return {id:x.id,html:x.nodes[0].html,"
            "svg:x.nodes.every(function(n){return n.target.join(' ')"
            ".indexOf('svg')>=0||/<(text|tspan)/.test(n.html)})}})})},"
            "function(e){cb({error:String(e)})});", AXE_TAGS)
        check("error" not in r, "axe failed on %s: %s" % (what, r))
        check(not r["v"], "axe: WCAG 2.2 AA violations on %s:\n%s" %
              (what, json.dumps(r["v"], indent=1)))
        for inc in r["i"]:
            check(inc["id"] in INCOMPLETE_OK and inc["svg"],
                  "axe: unexplained incomplete result %s on %s: %s" %
                  (inc["id"], what, inc["html"][:200]))
        print("ok axe %s" % what)

    def narrow(self, on):
        if on:
            self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
                "width": 390, "height": 844, "deviceScaleFactor": 1,
                "mobile": True})
        else:
            self.d.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride",
                                   {})

    def shot(self, name):
        m = self.d.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = m.get("cssContentSize", m["contentSize"])
        png = self.d.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"],
                     "height": min(size["height"], 6000), "scale": 1}})
        with open(os.path.join(self.shots, name + ".png"), "wb") as f:
            f.write(base64.b64decode(png["data"]))

    def all_checks(self, name, refresh=None, shots=False):
        """axe at 1280 px; at 390 px no sideways scrolling; with shots
        set, a screenshot at each width."""
        t = time.time()
        self.run_axe(name)
        if shots:
            self.shot(name + "-1280")
        self.narrow(True)
        try:
            if refresh:
                refresh()
            w = self.d.execute_script(
                "return [document.documentElement.scrollWidth,"
                "document.documentElement.clientWidth]")
            check(w[0] <= 390 and w[0] <= w[1],
                  "%s scrolls sideways at 390 px (scrollWidth %d)" %
                  (name, w[0]))
            if shots:
                self.shot(name + "-390")
        finally:
            self.narrow(False)
        self.checked.add(name)
        self.spent += time.time() - t


