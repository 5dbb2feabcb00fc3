"""lrsci: checks, by really training networks, claims about learning-rate schedules."""
__version__ = "0.1.0"
