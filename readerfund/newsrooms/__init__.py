"""The newsroom: its name, site, colours, locales, risk countries, retention, its own Stripe keys, and staff."""
