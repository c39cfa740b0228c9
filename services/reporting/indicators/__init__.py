"""Indicator definitions (``catalogue``) and the arithmetic behind them (``formulas``)."""
