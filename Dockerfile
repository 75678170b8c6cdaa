FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY protos protos
COPY salesflow salesflow
COPY services services
COPY workflows workflows
RUN pip install --no-cache-dir .
USER nobody
