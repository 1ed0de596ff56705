"""Helpers for the browser tests: Debian's chromium through playwright, axe-core checks, keyboard moves.

The portal sends `Content-Security-Policy: default-src 'none'` and the main flow runs with JavaScript off, so
axe-core is injected only into a separate context that has JavaScript on and `bypass_csp=True`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support import ROOT

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-gpu", "--no-first-run"]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
NARROW = {"width": 320, "height": 640}


def require_browser() -> None:
    """Fail, not skip, without Debian's chromium or playwright: `make test` installs both."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed at /usr/bin/chromium (scripts/install-system-packages does it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("the playwright Python package is missing (pip install -e '.[test]')")


def require_axe() -> None:
    """Fail, not skip, without axe-core: a skipped accessibility check would pass unnoticed."""
    if not AXE.exists():
        pytest.fail(f"{AXE.relative_to(ROOT)} is missing: run `npm ci` at the repository root (`make test` does)")


def launch(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


@pytest.fixture
def base_url(installation):
    """`portal serve` on the test's installation, for the browser (import this fixture)."""
    yield from _served(installation.data_dir)


@pytest.fixture
def base_url_and_bodies(installation, tmp_path):
    """As base_url, with every request body the server receives captured at the WSGI layer
    (tests/support/captured_serve.py): the URL, and a function giving the bodies received so
    far (import this fixture)."""
    import sys
    folder = tmp_path / "bodies"
    prefix = [sys.executable, str(ROOT / "tests" / "support" / "captured_serve.py"), str(folder)]
    for url in _served(installation.data_dir, argv_prefix=prefix):
        yield url, lambda: [path.read_bytes() for path in sorted(folder.glob("*.body"))]


def _served(data_dir: Path, argv_prefix: list[str] | None = None):
    from tests.support import start_server
    server = start_server(data_dir, workers=2, argv_prefix=argv_prefix)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        output = server.stop()
        # The server's own output never holds a client's address or user agent, nor what a
        # discloser wrote (the tests plant MARKER).
        assert "HeadlessChrome" not in output and "Mozilla/" not in output
        from tests.conftest import MARKER
        assert MARKER not in output


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium for a test module (import this fixture into it)."""
    require_browser()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def tab_to(page, locator, limit: int = 40) -> None:
    """Press Tab until `locator` has the keyboard focus, as a keyboard user would; fail if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if locator.evaluate("element => element === document.activeElement"):
            return
    raise AssertionError(f"{locator} never received focus after {limit} presses of Tab")


def axe_violations(page) -> list[dict]:
    """Run axe-core over the current page for WCAG 2.0-2.2 A and AA and return its violations."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})
                   .then(r => r.violations.map(v => ({
                       id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                       nodes: v.nodes.map(n => ({target: n.target.join(' '), html: n.html, summary: n.failureSummary}))
                   })))""",
        AXE_TAGS)
    return result


def describe_violations(name: str, violations: list[dict]) -> str:
    lines = [f"{name}: {len(violations)} axe violation(s)"]
    for v in violations:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:5]:
            lines.append(f"      at {node['target']}: {node['html'][:160]}")
            for detail in (node["summary"] or "").splitlines():
                lines.append(f"        {detail}")
        if len(v["nodes"]) > 5:
            lines.append(f"      ... and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


def horizontal_overflow(page) -> dict | None:
    """At the current viewport, None if nothing scrolls sideways; otherwise the widths and the widest culprits."""
    info = page.evaluate(
        """() => {
            const width = window.innerWidth;
            const scroll = document.documentElement.scrollWidth;
            if (scroll <= width) return null;
            const culprits = [];
            for (const el of document.body.querySelectorAll('*')) {
                const r = el.getBoundingClientRect();
                let clipped = false;
                for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
                    if (getComputedStyle(a).overflowX !== 'visible') { clipped = true; break; }
                }
                if (!clipped && r.right > width + 0.5 && r.width > 0) {
                    culprits.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
                                  (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ').join('.') : '') +
                                  ' right=' + Math.round(r.right));
                }
            }
            return {viewportWidth: width, scrollWidth: scroll, culprits: culprits.slice(0, 8)};
        }""")
    return info


def dump(obj) -> str:
    return json.dumps(obj, indent=2)


FOCUS_WALK_JS = """
() => {
  // One step of a keyboard walk: describe the focused element and how visible its focus indicator is.
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const parse = c => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
                       const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
                       return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                     return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const backgroundAt = (x, y) => {
    for (const e of document.elementsFromPoint(x, y)) {
      if (e === el || el.contains(e)) continue;
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const s = getComputedStyle(el);
  const r = el.getBoundingClientRect();
  const name = el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
               (el.getAttribute('name') ? '[name=' + el.getAttribute('name') + ']' : '') +
               ' "' + (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40) + '"';
  const key = el.getAttribute('data-keyboard-walk') || el.outerHTML.slice(0, 200);
  const width = parseFloat(s.outlineWidth) || 0;
  if (s.outlineStyle === 'none' || width < 2) {
    return {name, key, contrast: 0, why: 'no outline of 2px or more'};
  }
  const colour = parse(s.outlineColor);
  const off = (parseFloat(s.outlineOffset) || 0) + width + 2;
  const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
  const points = [[r.left - off, cy], [r.right + off, cy], [cx, r.top - off], [cx, r.bottom + off]]
    .filter(([x, y]) => x >= 0 && y >= 0 && x < innerWidth && y < innerHeight);
  const contrasts = points.map(([x, y]) => ratio(colour, backgroundAt(x, y)));
  return {name, key, contrast: contrasts.length ? Math.min(...contrasts) : 21,
          why: 'focus outline contrast against what surrounds it'};
}
"""

FOCUSABLE_JS = """
() => Array.from(document.querySelectorAll(
      'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select:not([disabled]), ' +
      'textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])'))
    .filter(e => { const s = getComputedStyle(e); return s.visibility !== 'hidden' && s.display !== 'none'; })
    // Nor what a closed <details> folds away (it has no box until opened); its <summary> is reached.
    .filter(e => !e.checkVisibility || e.checkVisibility())
    .map((e, i) => { const html = e.outerHTML.slice(0, 200); e.setAttribute('data-keyboard-walk', String(i)); return html; })
"""


def keyboard_problems(page) -> list[str]:
    """Walk the page with Tab from the top: every control must be reached, each showing a focus outline of
    at least 2 px with 3:1 contrast against what surrounds it (WCAG 1.4.11, 2.1.1, 2.4.7)."""
    expected = page.evaluate(FOCUSABLE_JS)
    # Start where a fresh visit starts: before the first element of the page.
    page.evaluate("""() => { const start = document.createElement('span'); start.id = 'keyboard-walk-start';
                               start.tabIndex = -1; document.body.prepend(start); start.focus(); }""")
    seen: list[str] = []
    problems: list[str] = []
    for _ in range(len(expected) + 3):
        page.keyboard.press("Tab")
        step = page.evaluate(FOCUS_WALK_JS)
        if step is None:
            break
        if step["key"] in seen:
            break
        seen.append(step["key"])
        if step["contrast"] < 3:
            problems.append(f"{step['name']}: {step['why']} ({step['contrast']:.2f}:1, needs 3:1)")
    # Leave the page at rest for the checks that follow: the walk may end on the skip link, which
    # shows over the header while focused.
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    page.evaluate("""() => { document.getElementById('keyboard-walk-start').remove();
                               document.querySelectorAll('[data-keyboard-walk]')
                                 .forEach(e => e.removeAttribute('data-keyboard-walk')); }""")
    missed = [html for i, html in enumerate(expected) if str(i) not in seen]
    if missed:
        problems.append("never reached with Tab: " + "; ".join(missed))
    return problems


class served:
    """A WSGI application served on loopback in a thread of the test's own process, for the browser:
    `with served(app) as url:`. In-process, so what the test patched (a catalogue, a clock) holds
    for the server too; `portal serve` has its own process (base_url)."""

    def __init__(self, wsgi_app) -> None:
        from werkzeug.serving import make_server
        self._server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)

    def __enter__(self) -> str:
        import threading
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return f"http://127.0.0.1:{self._server.server_port}"

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._thread.join()


class AnswerLost:
    """A playwright route handler: the first POST reaches the portal, but its answer never reaches
    the page (the connection drops on the way back); `statuses` holds what the portal answered."""

    def __init__(self) -> None:
        self.statuses: list[int] = []

    def __call__(self, route):
        if route.request.method != "POST" or self.statuses:
            return route.continue_()
        self.statuses.append(route.fetch().status)
        route.abort()
