"""The leaderboard and the report: each benchmark's main score (metrics.py), the summary tables
(summary.py), the HTML page (html.py) with its charts (plots.py), and the end-of-run message (where.py)."""
