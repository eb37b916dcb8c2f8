"""``finews run``: the always-on aggregator (issue #7) — scheduling, source health,
alerts, and the process that ties fetching, the site and the web app together."""
