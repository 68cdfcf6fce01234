"""The shared bottom layer of Tradlyte: typed settings, the NYSE calendar, database openers.

Every other package (ingestion, alerts, serving, streaming, orchestration) may import from here;
`core` imports nothing else of the project.
"""
