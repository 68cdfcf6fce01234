"""The Polygon sandbox: a local server speaking Polygon's REST protocol over a deterministic
universe (real daily prices from bokeh-sampledata plus synthetic tickers) on the NYSE calendar.
A development and test tool: the loader never imports it; the CLI starts it and hands its URL
to the ordinary Polygon path.
"""

# the universe of `make demo`, `tradlyte load --source sandbox`, `tradlyte sandbox serve` and
# `tradlyte run --source sandbox` (TRADLYTE_SANDBOX_SPEC, JSON, replaces it): UniverseSpec fields
DEMO_SPEC = {"n_tickers": 20, "start": "2011-01-03", "end": "2013-03-01", "minute_tickers": 2,
             "minute_sessions": 5}
