#!/usr/bin/python3
"""The link worker's app in a real Chromium, driven as a person would.

Started by tests/test_ui_browser.c (make check), which sets up a real
pcmdsd, an enrolled client and a running `pcmds ui`, and passes:

  PCMDS_UI_LAUNCH  the single-use launch URL pcmds ui printed
  PCMDS_UI_ROUTES  the router's own table (pcmds ui --routes)
  PCMDS_AXE        axe-core's axe.min.js (installed at build time)
  PCMDS_SHOTS      where screenshots go (1280 and 390 px wide)
  PCMDS_PROFILE    the browser's profile directory (searched afterwards)
  PCMDS_CLIENT_DB  the client's store (to mark a record refused)
  PCMDS_QUARANTINE the tool that marks it (the store is encrypted)
  PCMDS_PASS       the store's passphrase, typed into the unlock page
  PCMDS_NHS        a made-up NHS number typed into the app
  PCMDS_SECRET     a made-up provider name typed into the app

It prints one line per check and "ok" lines; on the first failure it
prints FAIL with the reason and exits 1. The keystrokes of the
keyboard-only referral are reported as "keys referral N".
"""
import base64
import json
import os
import re
import sqlite3
import subprocess
import sys
import time

from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from chromium import Browser, Fail, check

E = os.environ
LAUNCH = E["PCMDS_UI_LAUNCH"]
BASE = LAUNCH.split("/launch")[0]
SHOTS = E["PCMDS_SHOTS"]
NHS = E["PCMDS_NHS"]
SECRET = E["PCMDS_SECRET"]


class App(Browser):
    def __init__(self):
        Browser.__init__(self, BASE, E["PCMDS_PROFILE"], E.get("PCMDS_AXE"),
                         SHOTS)
        self.keys = self.tabs = 0

    # -- pages ------------------------------------------------------------
    def field(self, name):
        return self.d.find_element(By.ID, "f-" + name)

    def value(self, name):
        return self.field(name).get_attribute("value")

    def fill(self, name, text):
        el = self.field(name)
        el.clear()
        el.send_keys(text)

    def chosen(self, css, what):
        """Clicks the choice css finds until it is selected: a click that
        lands while the page is still laid out again (after the
        narrow-width check) can miss it, and the form would then be sent
        without the choice."""
        el = self.d.find_element(By.CSS_SELECTOR, css)
        for _ in range(3):
            el.click()
            try:
                WebDriverWait(self.d, 2).until(lambda d: el.is_selected())
                return
            except TimeoutException:
                pass
        check(el.is_selected(), "%s could not be chosen" % what)

    def pick(self, name, value):
        self.chosen("input[name=%s][value='%s']" % (name, value),
                    "%s=%s" % (name, value))

    def select(self, name, value):
        self.chosen("select[name=%s] option[value='%s']" % (name, value),
                    "%s=%s" % (name, value))

    def submit(self):
        self.click((By.CSS_SELECTOR, "main form button[type=submit]"))

    def path(self):
        return self.d.current_url[len(BASE):]

    # -- the keyboard ------------------------------------------------------
    def press(self, *keys):
        ActionChains(self.d).send_keys(*keys).perform()
        self.keys += len(keys)
        self.tabs += sum(k == Keys.TAB for k in keys)

    def active(self):
        return self.d.execute_script(
            "var a=document.activeElement;return [a.id||'',"
            "(a.textContent||'').trim(),a.tagName];")

    def tab_to(self, want, limit=120):
        """Tab (as a person would) until want (an id, or a link's text)
        has the focus; fails if it cannot be reached by keyboard."""
        for _ in range(limit):
            i, t, _tag = self.active()
            if i == want or t == want:
                return
            self.press(Keys.TAB)
        raise Fail("%r cannot be reached with the keyboard" % want)

    def press_go(self, key):
        """A key that opens the next page (Enter on a link or button)."""
        old = self.d.find_element(By.TAG_NAME, "html")
        self.press(key)
        self.replaced(old)

    def type_keys(self, s):
        for ch in s:
            self.press(ch)

    def shot_clip(self, name, width, height, scale):
        """Part of the page, scaled: the README's picture of the app."""
        png = self.d.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height,
                     "scale": scale}})
        with open(os.path.join(self.shots, name + ".png"), "wb") as f:
            f.write(base64.b64decode(png["data"]))


def keyboard_referral(app):
    """A whole referral, then its baseline, by keyboard only."""
    app.go("/")
    app.keys = app.tabs = 0
    t0 = time.time()
    app.tab_to("New referral")
    app.press_go(Keys.ENTER)
    check(app.path() == "/referral/new", "Enter on the link: " + app.path())
    app.tab_to("f-nhs_number")
    app.type_keys(NHS)
    # Referred on is today already; the source by typing its label
    app.tab_to("f-source")
    app.type_keys("Gen")
    app.tab_to("f-reasons")          # Loneliness or isolation
    app.press(Keys.SPACE)
    app.tab_to("f-reasons-7")        # Debt or money worries
    app.press(Keys.SPACE)
    app.tab_to("f-service")          # General social prescribing
    app.press(Keys.SPACE)
    app.tab_to("f-age")
    app.type_keys("67")
    app.tab_to("f-gender")           # Female
    app.press(Keys.SPACE)
    app.tab_to("f-ethnicity")
    app.type_keys("BB")              # the second "B...": African
    app.tab_to("f-consent_evaluation")
    app.press(Keys.SPACE)            # Yes
    app.tab_to("Save the referral")
    app.press_go(Keys.ENTER)
    keys, tabs, secs = app.keys, app.tabs, time.time() - t0
    check("/r/" in app.path(), "the referral was not saved:\n" +
          app.text()[:1500])
    app.has("Saved")
    app.has("from General practice for Loneliness or isolation, Debt or "
            "money worries")
    app.has("Black or Black British: African")
    print("keys referral %d (%d of them Tab; %.1f s in the browser)" %
          (keys, tabs, secs))
    ref = app.path()[3:39]
    # the baseline ONS4, by keyboard too
    app.keys = app.tabs = 0
    app.tab_to("ONS4 assessment")
    app.press_go(Keys.ENTER)
    check("stage=baseline" in app.path(), "not the baseline: " + app.path())
    for name, score in (("life_satisfaction", 4), ("worthwhile", 5),
                        ("happy", 3), ("anxious", 7)):
        app.tab_to("f-" + name)
        app.press(Keys.SPACE)            # 0 ...
        for _ in range(score):           # ... and on to the score
            app.press(Keys.ARROW_RIGHT)
    app.tab_to("Save the assessment")
    app.press_go(Keys.ENTER)
    app.has("Saved")
    app.has("Life satisfaction 4, Worthwhile 5, Happiness 3, Anxiety 7")
    print("keys baseline %d (%d of them Tab)" % (app.keys, app.tabs))
    return ref


def bad_input(app, ref):
    """Each form refused keeps what was typed and names the problem."""
    app.go("/referral/new")
    app.fill("nhs_number", NHS)
    app.fill("referred_on", "31/11/2026")
    app.select("source", "pharmacy")
    app.fill("age", "15")
    app.submit()
    app.has("There is a problem")
    app.has("Referred on 2026-11-31 is not a real date (November 2026 has "
            "30 days)")
    app.has("Reasons for referral is required")
    check(app.value("referred_on") == "31/11/2026", "the date was lost")
    check(app.value("age") == "15", "the age was lost")
    check(app.field("source").get_attribute("value") == "pharmacy",
          "the source was lost")
    app.all_checks("referral-refused", shots=True)
    app.go("/r/%s/assess?stage=review" % ref)
    app.fill("assessed_on", "01/01/2020")
    app.pick("life_satisfaction", "6")
    app.submit()
    app.has("Assessed on 2020-01-01 is before the referral date")
    app.has("Worthwhile is required, or declined")
    check(app.d.find_element(By.ID, "f-life_satisfaction-6").is_selected(),
          "the score typed was lost")
    app.all_checks("assess-refused")
    for page, date, want in (
            ("contact", "contact_on", "Mode is required"),
            ("support", "offered_on", "Category is required"),
            ("close", "closed_on", "close without a final assessment")):
        app.go("/r/%s/%s" % (ref, page))
        app.fill(date, "tomorrow")
        app.submit()
        app.has("in the future: dates cannot be later than today")
        app.has(want)
        check(app.value(date) == "tomorrow", "the date typed was lost")
        app.all_checks(page + "-refused")


def journey(app, ref):
    """Contact, support from the directory, final, find, correct, sync."""
    app.go("/sync")
    app.all_checks("sync")
    app.submit()
    for _ in range(120):
        if "Sync finished" in app.text() or "Sync ended" in app.text():
            break
        time.sleep(0.25)
        app.go("/sync")
    app.has("Sync finished")
    app.has("Everything was sent.")
    app.all_checks("sync-result")
    app.go("/r/%s/contact" % ref)
    app.all_checks("contact")
    app.pick("mode", "home_visit")
    app.fill("minutes", "45")
    app.pick("attended", "yes")
    app.submit()
    app.has("Home visit, 45 min, attended")
    app.go("/r/%s/support" % ref)
    app.all_checks("support")
    app.select("asset", "nh-befriend-01")      # from the synced directory
    app.pick("outcome", "taken_up")
    app.submit()
    app.has("Befriending and social groups (Neighbourhood Befriending "
            "Scheme): Taken up")
    app.go("/r/%s/support" % ref)
    app.select("category", "arts_culture")
    app.fill("provider", SECRET)
    app.pick("outcome", "offered")
    app.submit()
    app.has(SECRET)
    app.go("/r/%s/assess?stage=final" % ref)
    app.all_checks("assess")
    for name, score in (("life_satisfaction", 7), ("worthwhile", 8),
                        ("happy", 6), ("anxious", 3)):
        app.pick(name, str(score))
    app.submit()
    app.has("this assessment and the one before")
    app.has("+3 (better)")          # life satisfaction 4 -> 7
    app.has("-4 (better)")          # anxiety 7 -> 3
    app.has("Both are dated the same day")  # not a pair in the figures
    app.shot_clip("readme-app", 1280, 1560, 0.55)
    # find the person by NHS number, from the caseload
    app.go("/")
    app.all_checks("caseload")
    app.fill("nhs_number", NHS)
    app.click(app.d.find_element(By.CSS_SELECTOR,
                                 "form[action='/find'] button"))
    check(app.path() == "/r/" + ref, "find went to " + app.path())
    check(NHS.replace(" ", "") not in app.d.current_url, "NHS in the URL")
    app.all_checks("timeline")
    # correct the contact from the timeline: the form holds its values
    app.click(app.d.find_element(By.XPATH, "//tr[td[contains(., 'Home "
                                 "visit')]]//a[starts-with(., 'Correct')]"))
    check(app.value("minutes") == "45", "the form lacks the current value")
    app.all_checks("correct")
    app.fill("minutes", "50")
    app.submit()
    app.has("corrects")
    app.has("Minutes 50")
    app.has("Home visit, 50 min, attended")
    # close it (the final is there, so no question), then sync again
    app.go("/r/%s/close" % ref)
    app.all_checks("close")
    app.pick("reason", "goals_met")
    app.submit()
    app.has("closed: Goals met")
    app.go("/sync")
    app.submit()
    for _ in range(120):
        if "Sync finished" in app.text():
            break
        time.sleep(0.25)
        app.go("/sync")
    app.has("Sync finished")
    app.go("/r/" + ref)
    app.has("Stored by the server")
    check("Not sent yet" not in app.text(), "records left unsent")


def refused(app, ref):
    """A record the server refused: listed, explained, fixed by a form."""
    db = sqlite3.connect(E["PCMDS_CLIENT_DB"])
    cid = db.execute("SELECT id FROM record_states WHERE kind = 'contact' "
                     "AND referral = ? AND state = 'sent'",
                     (ref,)).fetchone()[0]
    db.close()
    # the reason is sealed in the store: written as sync writes it
    subprocess.run([E["PCMDS_QUARANTINE"],
                    os.path.dirname(E["PCMDS_CLIENT_DB"]), cid,
                    json.dumps([{"code": "E_RANGE", "field": "minutes",
                                 "message": "Minutes must be a whole number "
                                 "from 1 to 600; got 900"}])], check=True)
    app.go("/quarantine")
    app.has("Minutes must be a whole number from 1 to 600; got 900")
    app.all_checks("quarantine")
    app.click(app.d.find_element(By.PARTIAL_LINK_TEXT, "Fix it"))
    app.has("The server refused this record")
    app.has("Error: Minutes must be a whole number")
    app.all_checks("correct-refused")
    app.go("/rec/%s/void" % cid)
    app.all_checks("void")
    app.submit()
    app.has("Reason is required when voiding")
    app.all_checks("void-refused")
    return cid


def every_route(app, ref, rec):
    """axe, narrow layout and shots on every GET route of the router's
    own table (not a list written here), and the error pages."""
    routes = [re.match(r"^(.*?)\s+(/\S*)\s+(.*)$", l).groups()
              for l in open(E["PCMDS_UI_ROUTES"]) if l.strip()]
    for methods, pattern, _what in routes:
        if "GET" not in methods or pattern in ("/app.css", "/app.js"):
            continue
        path = pattern.replace("{referral}", ref).replace("{record}", rec)
        name = "route-" + (re.sub(r"[^a-z]+", "-", pattern.replace(
            "{referral}", "R").replace("{record}", "X").lower()).strip("-")
            or "home")
        if pattern == "/launch":
            path = "/launch?k=used"        # the used-link page
        app.go(path)
        app.all_checks(name, shots=True)
    app.go("/no/such/page")
    app.all_checks("not-found")
    app.go("/r/00000000-0000-4000-8000-000000000000")
    app.all_checks("no-such-referral")
    app.go("/")
    app.fill("nhs_number", "943 476 5918")
    app.click(app.d.find_element(By.CSS_SELECTOR,
                                 "form[action='/find'] button"))
    app.has("Modulus 11")
    app.all_checks("find-refused")
    print("ok routes %d" % len(routes))


def main():
    app = App()
    try:
        app.d.get(LAUNCH)
        check(app.d.current_url == BASE + "/", "launch left the URL at " +
              app.d.current_url)
        # the store is locked: the first page asks for its passphrase
        app.has("Unlock the records")
        app.all_checks("unlock", shots=True)
        app.d.find_element(By.ID, "passphrase").send_keys("not the one")
        app.submit()
        app.has("wrong passphrase")
        app.d.find_element(By.ID, "passphrase").send_keys(E["PCMDS_PASS"])
        app.submit()
        app.has("Caseload")
        t = time.time()
        ref = keyboard_referral(app)
        bad_input(app, ref)
        print("time forms %.1f s" % (time.time() - t))
        journey(app, ref)
        print("time journey %.1f s" % (time.time() - t))
        rec = refused(app, ref)
        every_route(app, ref, rec)
        print("time routes %.1f s" % (time.time() - t))
        # the app closes from its own button
        app.go("/")
        app.click(app.d.find_element(By.CSS_SELECTOR, "form.quit button"))
        app.has("The app is closed")
    except (Fail, WebDriverException, AssertionError) as e:
        import traceback
        print("FAIL %s" % str(e).split("Stacktrace:")[0])
        print("".join(traceback.format_tb(e.__traceback__)[-3:]))
        try:
            app.shot("failure")
            print("page at failure: %s\n%s" % (app.d.current_url,
                  app.text()[:3000]))
        except Exception:
            pass
        app.d.quit()
        return 1
    app.d.quit()
    print("ok pages checked %d (%.0f s of checks)" % (len(app.checked),
                                                    app.spent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
