"""netralitas-monitor: models."""
