# The debugloop package (CLI, migrations, the outbox relay) for docker-compose.yml.
# Two stages: the first builds the wheel from what pyproject.toml packs into it (the
# package, the SQL folders, the bundled agent logs); the second installs that wheel
# and its dependencies only, so the sources stay out of the image.
# tests/test_packaging.py builds a wheel from exactly what this file COPYs.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY python ./python
COPY db ./db
COPY functions ./functions
COPY triggers ./triggers
COPY examples/agent-logs ./examples/agent-logs
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY --from=build /wheels /wheels
# with the relay extra (kafka-python, redis): the same image runs `debugloop relay`
RUN pip install --no-cache-dir "$(ls /wheels/*.whl)[relay]" \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 debugloop
USER debugloop
WORKDIR /home/debugloop
ENTRYPOINT ["debugloop"]
CMD ["--help"]
