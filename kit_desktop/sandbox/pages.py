"""HTML pages of the sandbox: a small Kit-like consent page, error pages and a home page."""

from __future__ import annotations

from html import escape

_STYLE = """
:root { color-scheme: light dark; --ink: #1f2328; --muted: #5b6168; --card: #ffffff;
  --bg: #f6f5f2; --line: #e3e1dc; --accent: #fb6970; --accent-ink: #ffffff; }
@media (prefers-color-scheme: dark) { :root { --ink: #eceae6; --muted: #a8a29a;
  --card: #24262a; --bg: #18191b; --line: #3a3c40; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif;
  background: var(--bg); color: var(--ink); }
main { max-width: 32rem; margin: 3rem auto; padding: 2rem; background: var(--card);
  border: 1px solid var(--line); border-radius: 12px; }
.brand { font-weight: 700; letter-spacing: -0.02em; font-size: 1.25rem; }
.brand span { color: var(--accent); }
.badge { display: inline-block; font-size: .75rem; padding: .1rem .5rem; border-radius: 99px;
  border: 1px solid var(--line); color: var(--muted); margin-left: .5rem; vertical-align: middle; }
h1 { font-size: 1.4rem; margin: 1.2rem 0 .5rem; }
p, li { color: var(--muted); }
ul { padding-left: 1.2rem; }
.actions { display: flex; gap: .75rem; margin-top: 1.5rem; }
button { font: inherit; font-weight: 600; padding: .6rem 1.4rem; border-radius: 8px;
  border: 1px solid var(--line); background: transparent; color: var(--ink); cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); }
button:focus-visible { outline: 3px solid var(--ink); outline-offset: 2px; }
a.button { display: inline-block; font-weight: 600; padding: .6rem 1.4rem; border-radius: 8px;
  text-decoration: none; background: var(--accent); color: var(--accent-ink); }
a.button:focus-visible { outline: 3px solid var(--ink); outline-offset: 2px; }
code { font-size: .9em; }
"""


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        '<body><main><div class="brand" aria-label="Kit sandbox">kit<span>.</span>'
        '<span class="badge">sandbox</span></div>'
        f"{body}</main></body></html>"
    )


def page(title: str, body: str) -> str:
    """Return a whole sandbox page around ``body``.

    Args:
        title: The page title (escaped here).
        body: The page's HTML, already escaped by the caller.
    """
    return _page(title, body)


def consent_page(app_name: str, consent_id: str, scope: str) -> str:
    """Return the consent page for one pending authorization request."""
    return _page(
        f"Authorize {app_name} - Kit",
        f"<h1>{escape(app_name)} would like to connect to your Kit account</h1>"
        "<p>This app will be able to:</p><ul>"
        "<li>See your account name and email address</li>"
        "<li>See and manage your subscribers, tags, forms and sequences</li>"
        "<li>See your broadcasts, custom fields and email templates</li></ul>"
        f"<p>Scope: <code>{escape(scope)}</code></p>"
        '<form method="post" action="/oauth/authorize/decision">'
        f'<input type="hidden" name="consent_id" value="{escape(consent_id)}">'
        '<div class="actions">'
        '<button class="primary" type="submit" name="decision" value="allow" id="allow">'
        "Allow</button>"
        '<button type="submit" name="decision" value="deny" id="deny">Deny</button>'
        "</div></form>",
    )


def error_page(title: str, message: str) -> str:
    """Return a Kit-like error page that never links or redirects anywhere."""
    return _page(
        f"{title} - Kit",
        f"<h1>{escape(title)}</h1><p>{escape(message)}</p>"
        "<p>Return to the app you came from and try again.</p>",
    )


def home_page(base_url: str, client_id: str, redirect_uris: tuple[str, ...]) -> str:
    """Return the sandbox's home page: what it is and how to use it."""
    uris = "".join(f"<li><code>{escape(uri)}</code></li>" for uri in redirect_uris)
    return _page(
        "Kit sandbox",
        "<h1>A local Kit sandbox</h1>"
        "<p>This server behaves like Kit's OAuth server and API v4, with practice data. "
        "It is not your real Kit account.</p>"
        f"<p>Authorize: <code>{escape(base_url)}/v4/oauth/authorize</code><br>"
        f"Token: <code>{escape(base_url)}/v4/oauth/token</code><br>"
        f"API: <code>{escape(base_url)}/v4/account</code></p>"
        f"<p>Client ID: <code>{escape(client_id)}</code></p><p>Redirect URIs:</p><ul>{uris}</ul>",
    )
