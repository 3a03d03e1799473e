FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend backend
COPY graph_schema graph_schema
COPY loaders loaders
COPY checks checks
RUN pip install --no-cache-dir .
RUN useradd --create-home skypath
USER skypath
EXPOSE 8000
CMD ["skypath", "serve", "--host", "0.0.0.0", "--port", "8000"]
