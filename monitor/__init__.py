"""netralitas-monitor: monitor."""
