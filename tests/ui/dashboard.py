#!/usr/bin/python3
"""The dashboard in a real Chromium, as a place lead uses it.

Started by tests/test_dashboard_browser.c (make check), which runs a real
pcmdsd with a caseload and passes:

  PCMDS_BASE     the server's https://host:port
  PCMDS_SPKI     the server key's SPKI hash (Chromium trusts it, nothing
                 else: verification stays on)
  PCMDS_CODE     a place lead's one-time code (Newham)
  PCMDS_ROUTES   the router's own table (path, then its methods), one a
                 line
  PCMDS_AXE      axe-core's axe.min.js
  PCMDS_SHOTS    where screenshots go
  PCMDS_PROFILE  the browser's profile directory

The place lead sets a password with the code, signs out, signs in with
the password, reads their own place first (take-up per community asset
included) and then every place; every
HTML page of the router gets axe-core's WCAG 2.2 AA rules and the 390 px
reflow check (no sideways scrolling), with screenshots at both widths.
The server's OpenID Connect provider is configured at a port nobody
listens on: its button is on the sign-in page, and its failure page gets
the same checks. It prints "ok" lines, or FAIL and the reason (exit 1).
"""
import os
import re
import sys

from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By

from chromium import Browser, Fail, check

E = os.environ
PASSWORD = "correct horse battery staple"


def set_password(b):
    b.go("/login")
    b.has("With your password")
    b.click(b.d.find_element(By.LINK_TEXT, "set a password with your code"))
    b.has("Set your dashboard password")
    b.type_into(By.ID, "code", E["PCMDS_CODE"])
    b.type_into(By.ID, "password", "too short")
    b.type_into(By.ID, "again", "too short")
    # the browser's own minlength check would stop it: the server's too
    b.d.execute_script("document.getElementById('password')"
                       ".removeAttribute('minlength')")
    b.click((By.CSS_SELECTOR, "main form button"))
    b.has("at least 12 characters")
    b.all_checks("password-refused")
    b.type_into(By.ID, "code", E["PCMDS_CODE"])
    b.type_into(By.ID, "password", PASSWORD)
    b.type_into(By.ID, "again", PASSWORD)
    b.click((By.CSS_SELECTOR, "main form button"))
    b.has("Your password is set")
    user = re.search(r"user number, (\d+),", b.text()).group(1)
    print("ok password set for user %s" % user)
    b.all_checks("password-set")
    b.click(b.d.find_element(By.LINK_TEXT, "Go to the dashboard"))
    return user


def sign_in(b, user):
    b.go("/dashboard")
    b.click(b.d.find_element(By.CSS_SELECTOR, "form[action='/logout'] "
                                              "button"))
    b.has("Sign in to the pcmds dashboard")
    b.type_into(By.ID, "user", user)
    b.type_into(By.ID, "password", "not the password")
    b.click((By.CSS_SELECTOR, "form[action='/login/password'] button"))
    b.has("The user number or the password is wrong")
    b.all_checks("login-refused")
    b.type_into(By.ID, "user", user)
    b.type_into(By.ID, "password", PASSWORD)
    b.click((By.CSS_SELECTOR, "form[action='/login/password'] button"))
    check(b.d.current_url.endswith("/dashboard"), "signed in at " +
          b.d.current_url)
    print("ok signed in with the password")


def read_dashboard(b):
    b.has("Signed in as")
    heads = [h.text for h in b.d.find_elements(By.TAG_NAME, "h2")]
    # own place first, then every place
    check(heads.index("Newham") < heads.index("Every place"),
          "Newham is not first: %s" % heads)
    b.has("Reach against the population")
    b.has("rate ratio, with 95% interval")
    b.has("The strategy's commitments by place")
    b.has("Month by month")
    # take-up per community asset of their own place's directory
    b.has("Community assets: take-up")
    b.has("Take-up per community asset: Newham")
    rows = b.d.find_elements(By.XPATH, "//caption[@id='t-assets-0']/"
                             "ancestor::table//tbody/tr")
    check(len(rows) >= 2, "the take-up table has %d rows" % len(rows))
    # the first thing a keyboard reaches skips to the figures
    skip = b.d.find_element(By.CSS_SELECTOR, "a.skip")
    check(skip.get_attribute("href").endswith("#main"), "no skip link")
    links = [a.get_attribute("href") for a in
             b.d.find_elements(By.CSS_SELECTOR, "nav a")]
    for href in links:
        frag = href.split("#")[1]
        check(b.d.find_elements(By.ID, frag), "contents link #%s leads "
              "nowhere" % frag)
    # tables carry the all-places row
    rows = b.d.find_elements(By.XPATH, "//caption[@id='t-reach']/"
                             "ancestor::table//tr[@class='all']/th")
    check(rows and rows[0].text == "All places", "no All places row")
    # who is reached: a suppressed group keeps its place in the bar
    b.has("Suppressed")
    print("ok dashboard: own place first, %d contents links" % len(links))


def provider_down(b):
    """The organisation's sign-in, its provider unreachable."""
    b.go("/login")
    button = b.d.find_element(By.CSS_SELECTOR,
                              "form[action='/login/oidc'] button")
    check(button.text == "Sign in with NHS Care Identity Service 2",
          "the provider's button says %r" % button.text)
    b.click(button)
    b.has("The server could not reach NHS Care Identity Service 2")
    b.has("sign in with your password")
    b.all_checks("oidc-unreachable", shots=True)
    print("ok provider down: a page saying so")


def every_route(b):
    routes = [l.split(None, 1) for l in open(E["PCMDS_ROUTES"]) if
              l.strip()]
    n = 0
    for path, methods in routes:
        if "GET" not in methods or path.startswith(("/v1", "/healthz",
                                                    "/metrics")) or \
                path.endswith(".css"):
            continue
        b.go(path)
        name = "dash-" + (re.sub(r"[^a-z]+", "-", path).strip("-") or
                          "root")
        b.all_checks(name, shots=True)
        n += 1
    b.go("/dashboard?from=2026-13")
    b.has("These figures cannot be shown")
    b.all_checks("dash-bad-period", shots=True)
    print("ok routes %d" % n)


def main():
    b = Browser(E["PCMDS_BASE"], E["PCMDS_PROFILE"], E.get("PCMDS_AXE"),
                E["PCMDS_SHOTS"], ("--ignore-certificate-errors-spki-list=" +
                                   E["PCMDS_SPKI"],))
    try:
        user = set_password(b)
        read_dashboard(b)
        sign_in(b, user)
        read_dashboard(b)
        provider_down(b)
        every_route(b)
    except (Fail, WebDriverException, AssertionError, ValueError,
            AttributeError) as e:
        import traceback
        print("FAIL %s" % str(e).split("Stacktrace:")[0])
        print("".join(traceback.format_tb(e.__traceback__)[-3:]))
        try:
            b.shot("dash-failure")
            print("page at failure: %s\n%s" % (b.d.current_url,
                                               b.text()[:3000]))
        except Exception:
            pass
        b.d.quit()
        return 1
    b.d.quit()
    print("ok pages checked %d (%.0f s of checks)" % (len(b.checked),
                                                    b.spent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
