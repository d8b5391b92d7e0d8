"""Background jobs (django-q2 on the platform's database) and the mail outbox that retries."""
