# One image recipe for every Polis service; SERVICE names it (adapter, optimizer, savings,
# gateway, simulator): the workspace package polis-$SERVICE and the module polis.$SERVICE.
#   docker build --build-arg SERVICE=gateway -t polis/gateway .
ARG PYTHON=python:3.11-slim

FROM ${PYTHON} AS build
ARG SERVICE
RUN test -n "$SERVICE" || (echo "build with --build-arg SERVICE=<service>" >&2; exit 1)
RUN pip install --no-cache-dir "uv>=0.5"
WORKDIR /src
COPY pyproject.toml uv.lock .python-version ./
COPY protos protos
COPY services services
COPY building-adapter building-adapter
COPY optimizer optimizer
COPY gateway gateway
RUN uv sync --frozen --no-dev --no-editable --package "polis-$SERVICE"

FROM ${PYTHON}
ARG SERVICE
RUN useradd --system --uid 10001 --home-dir /app polis \
    && printf '#!/bin/sh\nexec python -m "polis.%s" "$@"\n' "$SERVICE" > /usr/local/bin/polis-service \
    && chmod 0755 /usr/local/bin/polis-service
COPY --from=build /src/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 POLIS_LOG_FORMAT=json
WORKDIR /app
USER 10001
ENTRYPOINT ["polis-service"]
