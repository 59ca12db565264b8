"""`make load`: a Locust load run against a running platform (README, "Load")."""
