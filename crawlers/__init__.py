"""netralitas-monitor: crawlers."""
