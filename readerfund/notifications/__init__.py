"""The outbox: every e-mail queued once by key and sent once by `readerfund worker`, which also runs the
periodic jobs the apps register. Knows no sender: callers queue with services.email_queue."""
