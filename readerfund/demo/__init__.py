"""The demo: a sample newsroom and articles, its outbox page, and the processes `readerfund demo` runs (the
Stripe emulator, an SMTP sink, the worker, the web server). Needs the `demo` extra; served only with
READERFUND_DEMO on."""
