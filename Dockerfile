# duban: one image for the migration job, the workers and the beat.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LANG=C.UTF-8
WORKDIR /app
COPY pyproject.toml setup.py README.md ./
COPY engine ./engine
COPY workflows ./workflows
COPY cli ./cli
COPY web ./web
COPY examples ./examples
RUN pip install --no-cache-dir '.[postgres,redis]'
RUN useradd --create-home duban
USER duban
ENTRYPOINT ["duban"]
