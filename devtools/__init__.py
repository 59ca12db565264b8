"""Tooling that runs the platform on one machine: `make run`, `make test`, the
end-to-end tests, the drills and the benchmarks. Not imported by any project.

- `supervisor`: the one process supervisor: children in their own process groups,
  always stopped, their output behind their names.
- `launcher`: `Platform`, which sets up, starts, checks and stops every process of
  the platform, through the supervisor.
- `commands`: the command lines of a project's web process and event worker.
- `redis_server`: which Redis to use, and an embedded one when there is none.
- `databases`: create each service's PostgreSQL database when its URL names one.
- `brokers`: emptying the event queues of a RabbitMQ broker a run owns.
- `production_env`: production settings with generated secrets, for the tests, the
  benchmarks and `make up`'s `.env`.
- `journeys`: what a client of the platform does (tests, drills).
- `browser`: the headless Chromium of the browser tests.
- `run`: `python -m devtools.run`, the platform in the foreground.
- `test_all`: `python -m devtools.test_all`, every test suite, one summary line.
"""
