"""Pure billing rules: money, periods, day counts, timelines. Standard library only."""
