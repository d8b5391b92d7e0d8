"""Time series that live for years: monthly partitions, retention and hourly/daily roll-ups of the
raw monitoring tables (HJ 212 minute and real-time data, metering readings)."""
