"""Helpers shared by the tests, the benchmarks and the scripts (not used by the app):
the app launched for real (`server`), drawings as the app receives them (`sketches`) and
headless Chromium on the canvas (`browser`). They need the dev requirements."""
