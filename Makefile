# Every recipe is a one-line wrapper; the tools behind them are described in README.md.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Rewritten by each install, so the venv is rebuilt only when these inputs change.
STAMP := $(VENV)/.installed

.PHONY: venv run test format up down bench load drills clean

# Create the virtualenv and install the pinned requirements and the shared package.
venv: $(STAMP)

$(STAMP): requirements.txt libs/commerce_core/pyproject.toml
	$(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --upgrade pip && $(BIN)/python -m pip install -r requirements.txt -e libs/commerce_core && touch $(STAMP)

# Set up and start every process in the foreground; Ctrl-C stops them all.
run: venv
	$(BIN)/python -m devtools.run

# Run every test suite (select some with ARGS="catalog tests -- -x"); one summary line at the end.
test: venv
	$(BIN)/python -m devtools.test_all $(ARGS)

# Fix formatting and the lint findings ruff can fix by itself (`make test` checks both).
format: venv
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

# The same platform in containers, from compose.yaml, with production settings from .env.
up: .env
	docker compose up --build

# Generated once: secrets, allowed hosts and an admin password for compose (never commit it).
.env:
	$(PYTHON) -m devtools.production_env > .env && echo "wrote .env (the admin password is in it)"

# Stop and remove the containers (the volumes stay).
down:
	docker compose down

# Run the benchmarks; each result prints as a table row.
bench: venv
	$(BIN)/python -m bench

# A Locust load run against a running platform (`make run`): headless, or its web UI with WEB=1.
load: venv
	$(BIN)/python -m locust -f load/locustfile.py $(if $(WEB),,--headless) $(ARGS)

# Break the running platform on purpose, one drill at a time; one table row each, lost events always 0.
drills: venv
	$(BIN)/python -m drills $(ARGS)

# Remove local state (SQLite files) and caches.
clean:
	rm -rf .var .pytest_cache .hypothesis && find . -path ./$(VENV) -prune -o -type d \( -name __pycache__ -o -name .pytest_cache \) -exec rm -rf {} +
