"""The POS badge translates the till's health reasons (static/src/app/till_health_text.js,
run in Node): every reason code the one rule (ru54fz/till_health.py) can emit has a
text there, the blocking codes are the rule's, and every text has its Russian in
i18n/ru.po.

What a cashier would notice if this were wrong: a reason shown as a bare code, or a
blocking condition that does not stop sales before the till is asked."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from ru54fz import till_health

ROOT = Path(__file__).resolve().parents[3]
ADDON = ROOT / "addons" / "optics_pos_ru54fz"
SRC = ADDON / "static" / "src" / "app" / "till_health_text.js"
NODE = shutil.which("node")


@pytest.fixture(scope="module")
def js_table(tmp_path_factory):
    """Run till_health_text.js in Node (Odoo's _t replaced by a sprintf) on one sample
    reason per code; returns {"codes", "blocking", "texts"}."""
    if not NODE:
        pytest.skip("node is not installed")
    code = SRC.read_text()
    stub = (
        "const _t = (s, ...a) => (a.length === 1 && typeof a[0] === 'object')"
        " ? s.replace(/%\\((\\w+)\\)s/g, (m, k) => String(a[0][k]))"
        " : a.reduce((acc, v) => acc.replace('%s', String(v)), s);"
    )
    code = re.sub(
        r'^import \{\s*_t\s*\} from "@web/core/l10n/translation";$', lambda m: stub, code, flags=re.M
    )
    assert "@web/" not in code, "till_health_text.js must stay free of other Odoo imports"
    path = tmp_path_factory.mktemp("posui") / "till_health_text.mjs"
    path.write_text(code)
    samples = [
        {
            "code": c,
            "level": "red",
            "params": {
                "pct": 91,
                "days": 26.5,
                "hours_left": 1.5,
                "seconds": 150,
                "count": 2,
                "minutes": 45,
                "limit_days": 30,
                "limit_hours": 24,
                "limit_seconds": 300,
                "message": "no answer",
                "error_code": "device_unreachable",
            },
        }
        for c in sorted(till_health.CODES)
    ]
    script = (
        f"import * as t from {json.dumps(str(path))};\n"
        f"const samples = {json.dumps(samples)};\n"
        "console.log(JSON.stringify({codes: Object.keys(t.TILL_HEALTH_TEXTS).sort(),"
        " blocking: t.BLOCKING_CODES,"
        " texts: Object.fromEntries(samples.map((r) => [r.code, t.tillHealthText(r)])),"
        " unknown: t.tillHealthText({code: 'no_such_code', params: {}})}));\n"
    )
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return json.loads(out)


def test_every_reason_code_of_the_rule_has_a_text(js_table):
    assert js_table["codes"] == sorted(till_health.CODES)
    assert js_table["unknown"] is None


def test_blocking_codes_are_the_rules(js_table):
    assert sorted(js_table["blocking"]) == sorted(till_health.BLOCKING)


def test_texts_carry_their_params(js_table):
    texts = js_table["texts"]
    assert all(texts[c] and "%s" not in texts[c] and "%(" not in texts[c] for c in texts), texts
    assert "26.5" in texts["ofd_backlog"]
    assert "91" in texts["fn_memory"] and "91" in texts["journal_fill"]
    assert "150" in texts["clock_skew"] and "1.5" in texts["shift_ending"]


def _po_msgids(path):
    """{msgid: msgstr} of a .po file."""
    entries, key, parts = {}, None, {}
    for line in path.read_text().splitlines() + [""]:
        if line.startswith(("msgid ", "msgstr ")):
            key = line.split(" ", 1)[0]
            parts[key] = [json.loads(line[len(key) + 1 :])]
        elif key and line.startswith('"'):
            parts[key].append(json.loads(line))
        else:
            if "msgid" in parts and "msgstr" in parts:
                entries["".join(parts["msgid"])] = "".join(parts["msgstr"])
            key, parts = None, {}
    return entries


def test_every_text_has_its_russian_in_ru_po():
    source = SRC.read_text()
    strings = [json.loads(f'"{s}"') for s in re.findall(r'_t\(\s*"((?:[^"\\]|\\.)*)"', source)]
    assert len(strings) >= len(till_health.CODES)
    po = _po_msgids(ADDON / "i18n" / "ru.po")
    missing = [s for s in strings if not po.get(s)]
    assert not missing, missing


@pytest.fixture(scope="module")
def summarize(tmp_path_factory):
    """ru54fz_service.js's summarizeStatus in Node, its Odoo imports stubbed."""
    if not NODE:
        pytest.skip("node is not installed")
    tmp = tmp_path_factory.mktemp("posui_service")
    stub = (
        "const _t = (s, ...a) => (a.length === 1 && typeof a[0] === 'object')"
        " ? s.replace(/%\\((\\w+)\\)s/g, (m, k) => String(a[0][k]))"
        " : a.reduce((acc, v) => acc.replace('%s', String(v)), s);"
    )
    text = re.sub(
        r'^import \{\s*_t\s*\} from "@web/core/l10n/translation";$',
        lambda m: stub,
        SRC.read_text(),
        flags=re.M,
    )
    (tmp / "till_health_text.mjs").write_text(text)
    service = (ADDON / "static" / "src" / "app" / "ru54fz_service.js").read_text()
    replacements = {
        r'^import \{\s*reactive\s*\} from "@odoo/owl";$': "const reactive = (x) => x;",
        r'^import \{\s*registry\s*\} from "@web/core/registry";$': (
            "const registry = {category: () => ({add: () => null})};"
        ),
        r'^import \{\s*_t\s*\} from "@web/core/l10n/translation";$': stub,
        r'^import \{\s*TillClient,\s*TillError\s*\} from "./till_client";$': (
            "class TillClient {}\nclass TillError extends Error {}"
        ),
        r'^import (\{[^}]*\}) from "./till_health_text";$': r'import \1 from "./till_health_text.mjs";',
    }
    for pattern, repl in replacements.items():
        service, n = re.subn(
            pattern,
            (lambda m, r=repl: m.expand(r)) if "\\1" in repl else (lambda m, r=repl: r),
            service,
            flags=re.M,
        )
        assert n == 1, pattern
    assert "@web/" not in service and "@odoo/" not in service
    (tmp / "ru54fz_service.mjs").write_text(service)

    def run(status):
        script = (
            f"import {{ summarizeStatus }} from {json.dumps(str(tmp / 'ru54fz_service.mjs'))};\n"
            f"console.log(JSON.stringify(summarizeStatus({json.dumps(status)})));\n"
        )
        return json.loads(
            subprocess.run(
                [NODE, "--input-type=module", "-e", script],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout
        )

    return run


def test_the_badge_shows_the_tills_level_and_translated_reasons(summarize):
    health = till_health.evaluate(
        {"shift_open": True, "shift_age_hours": 25, "journal_fill_pct": 85, "ofd_oldest_age_days": 4.5}
    )
    status = {
        "level": health["level"],
        "reasons": health["reasons"],
        "messages": till_health.messages(health),
        "journal": {"fill_pct": 85},
        "ofd": {"backlog": 3, "oldest_age_days": 4.5},
    }
    out = summarize(status)
    assert out["level"] == "red"
    assert out["blockers"] == [
        "The fiscal shift is over 24 hours. A store manager must close the shift (Z report) before selling."
    ]
    assert out["messages"] == [
        "Till journal is 85% full.",
        "The oldest document unconfirmed by the OFD is 4.5 days old.",
    ]
    assert out["metrics"]["ofdBacklog"] == 3 and out["metrics"]["journalFill"] == 85


def test_the_badge_of_a_green_till_and_of_an_unknown_code(summarize):
    assert summarize({"level": "green", "reasons": [], "messages": []})["messages"] == []
    out = summarize(
        {
            "level": "yellow",
            "reasons": [{"code": "from_a_newer_till", "level": "yellow", "params": {}}],
            "messages": ["something new"],
        }
    )
    assert (out["level"], out["messages"], out["blockers"]) == ("yellow", ["something new"], [])
    out = summarize({"level": "red", "messages": ["an older till's message"]})  # no reasons at all
    assert out["messages"] == ["an older till's message"]
