"""The review web UI (`monitor serve`): server-rendered Jinja2 pages on FastAPI.

`create_app(config, engine)` builds the app. Config keys read: `web.host`, `web.port`,
`web.language` (id|en), `web.secret_key`, `web.cookie_secure`, `web.login_attempts_per_minute`,
`review.claim_minutes`, `review.timezone`, `classifier.threshold`.

Routes: `/login` and `/healthz` are open; `/metrics` answers a logged-in user, a request from a
loopback address, or a request carrying `Authorization: Bearer $MONITOR_METRICS_TOKEN` (when that
variable is set, loopback alone is no longer enough); everything else needs a login.
"""

from monitor.web.app import create_app

__all__ = ["create_app"]
