"""What the gateway answers itself: /health, the merged /api/schema/ and its /api/docs/."""
