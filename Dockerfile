# The debugloop package (CLI, migrations; later the outbox relay) for docker-compose.yml.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY python ./python
COPY db ./db
COPY functions ./functions
COPY triggers ./triggers
RUN pip install --no-cache-dir . && useradd --create-home debugloop
USER debugloop
ENTRYPOINT ["debugloop"]
CMD ["--help"]
