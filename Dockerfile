# The worker image used by docker-compose.yml.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY workers ./workers
COPY schemas ./schemas
RUN pip install . && python -c "import jieba; jieba.initialize()"
USER nobody
ENV HOME=/tmp
EXPOSE 6066
ENTRYPOINT ["python", "-m", "workers"]
CMD ["worker"]
