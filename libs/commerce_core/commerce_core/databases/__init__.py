"""Database backends: Django's own, with what a busy service needs on top."""
