"""A tiny invoicing library: the subject of the aqe-artifacts demo."""
