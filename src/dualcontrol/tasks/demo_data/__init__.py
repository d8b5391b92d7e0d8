"""The demo plan document (a real plan: Yunnan 2011–2015 and its division of labour)."""
