"""Stand-in for the `configargparse` package, which leaderboard strategies import for type hints."""

from argparse import ArgumentParser, Namespace

__all__ = ["ArgumentParser", "Namespace"]
