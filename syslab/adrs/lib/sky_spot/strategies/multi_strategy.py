"""Where leaderboard multi-region strategies import their base class from."""

from sky_spot.strategies.strategy import MultiRegionStrategy

__all__ = ["MultiRegionStrategy"]
