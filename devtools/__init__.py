"""Tooling that runs the platform on one machine: `make run`, `make test` and the
end-to-end tests. Not imported by any project.

- `redis_server`: which Redis to use, and an embedded one when there is none.
- `databases`: create each service's PostgreSQL database when its URL names one.
- `platform`: `Platform`, which sets up, starts, checks and stops every process.
- `run`: `python -m devtools.run`, the platform in the foreground.
- `test_all`: `python -m devtools.test_all`, every test suite, one summary line.
- `production_env`: production settings with generated secrets, for the tests, the
  benchmarks and `make up`'s `.env`.
"""
