"""One module per group of finding kinds."""
