# One image for the API, the workers and the migration step.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# torch first, pinned (the PyPI wheel for Linux x86_64 is the CUDA build the GPU workers use).
RUN pip install torch==2.13.0
COPY pyproject.toml constraints.txt README.md alembic.ini ./
COPY service ./service
COPY models ./models
COPY workers ./workers
COPY migrations ./migrations
RUN pip install -c constraints.txt -e .
RUN useradd --create-home designloop
USER designloop
EXPOSE 8000
CMD ["designloop", "serve", "--host", "0.0.0.0", "--port", "8000"]
