"""The demo province, built by code (reproducible): real divisions and targets, synthetic units."""
