"""Wistia Video Insights pipeline: Wistia Stats API -> Bronze -> Silver -> Gold."""

__version__ = "0.1.0"
