"""The root user's virtual MFA device, assigned the only way AWS allows: from the console (IAM's
API cannot give the root user a device). Signs in as root over plain HTTP, walks the Security
credentials page's set-up (name, secret, two consecutive codes) and answers the device's serial
and Base32 seed, for the tests that need root's device without a browser (S3's MFA delete, the
CIS check). The browser walk of the same pages is test_console_root_mfa.py."""

import html
import re
import subprocess

import requests

from conftest import CAIRN
from test_iam import totp

ROOT_PASSWORD = "Root-Passw0rd-for-tests"


def hidden(page, name):
    m = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert m, f"no {name} field in: {page[:2000]}"
    return html.unescape(m.group(1))


def set_root_password(c, password=ROOT_PASSWORD):
    subprocess.run([str(CAIRN), "accounts", "set-password", "--data-dir", str(c.data_dir), *c.cli_args(),
                    "--password", password], check=True, capture_output=True)


def console_session(endpoint, account, password=ROOT_PASSWORD, mfa=""):
    """A signed-in console session (cookies) for the root user."""
    s = requests.Session()
    form = s.get(f"{endpoint}/console/signin", timeout=30).text
    r = s.post(f"{endpoint}/console/signin", timeout=30, data={
        "csrf": hidden(form, "csrf"), "account": account, "username": "", "password": password, "mfa_code": mfa})
    assert r.url.endswith("/console/cloudtrail"), r.text[:2000]
    return s


def assign_root_mfa(endpoint, account, name, now_seconds, password=ROOT_PASSWORD):
    """Assigns a new virtual MFA device `name` to the root user from the console at server time
    `now_seconds`; answers (serial, seed, the step of the last code used)."""
    s = console_session(endpoint, account, password)
    base = f"{endpoint}/console/iam/security-credentials"
    start = s.get(f"{base}/mfa", timeout=30).text
    shown = s.post(f"{base}/mfa", timeout=30, data={"csrf": hidden(start, "csrf"), "device": name}).text
    seed = re.search(r'id="mfa-seed">([A-Z2-7]+)<', shown).group(1)
    serial = hidden(shown, "serial")
    step = int(now_seconds) // 30
    done = s.post(f"{base}/mfa/enable", timeout=30, data={
        "csrf": hidden(shown, "csrf"), "serial": serial, "device": name,
        "code1": totp(seed, step - 1), "code2": totp(seed, step)})
    assert done.url.split("#")[0].endswith("/console/iam/security-credentials"), re.findall(r"role=\"alert\">(.*?)</div>", done.text)
    assert serial in html.unescape(done.text), done.text[-3000:]
    return serial, seed, step
