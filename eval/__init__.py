"""Evaluation of directive-qa: datasets, metrics, the runner and its reports (see README.md)."""
