# syntax=docker/dockerfile:1
# GameStore: one image for every process. `docker run IMAGE serve <process>` runs one of them,
# `docker run IMAGE migrate` upgrades every database schema; the default runs the gateway.
# deploy/README.md tells how it is built, run and deployed.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- builder: the package and its locked dependencies, in a virtualenv -------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /build
COPY pyproject.toml requirements.lock README.md ./
COPY src ./src
# The lock pins every dependency (it is `pip freeze` of the test environment): the image runs the
# versions CI tested. Every locked dependency ships a wheel, so no compiler is needed here.
# pip itself is left out of the final image.
RUN pip install --no-cache-dir -c requirements.lock . \
    && pip uninstall --yes pip

# --- runtime: the virtualenv alone, run by an unprivileged user --------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="gamestore" \
      org.opencontainers.image.description="An event-driven game store: gateway, users, games, payments, event store, bus, queue and search" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="${PYTHON_IMAGE}"

# A fixed numeric UID/GID, so that Kubernetes' runAsNonRoot can check it and volumes can be
# owned by it.
RUN groupadd --system --gid 10001 gamestore \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/gamestore \
        --no-create-home --shell /usr/sbin/nologin gamestore \
    && mkdir -p /var/lib/gamestore/data /var/lib/gamestore/logs /var/lib/gamestore/covers \
    && chown -R 10001:10001 /var/lib/gamestore

COPY --from=builder /opt/venv /opt/venv
COPY deploy/docker/healthcheck.py /opt/gamestore/healthcheck.py

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GAMESTORE_BIND_HOST=0.0.0.0 \
    GAMESTORE_HOST=0.0.0.0 \
    GAMESTORE_DATA_DIR=/var/lib/gamestore/data \
    GAMESTORE_LOG_DIR=/var/lib/gamestore/logs

WORKDIR /var/lib/gamestore
USER 10001:10001

# gateway 8000 (public) and 8010 (ops); users 8001, games 8002, payments 8003, psp 8004,
# notifier 8005; ops only: indexer 8006, payment-worker 8007, webhook-function 8008,
# bus-publisher 8009.
EXPOSE 8000-8010

# Liveness of whichever process runs: /healthz on the port that process answers it on
# (deploy/docker/healthcheck.py reads the process name from PID 1's command line).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/opt/venv/bin/python", "/opt/gamestore/healthcheck.py"]

ENTRYPOINT ["gamestore"]
CMD ["serve", "gateway"]
