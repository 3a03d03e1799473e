# The web console is built in a Node stage (npm ci from the lockfile), then served by FastAPI from the package.
FROM node:22-slim AS console
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend ./
RUN npm run build

FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend backend
COPY --from=console /src/backend/static/console backend/static/console
COPY graph_schema graph_schema
COPY loaders loaders
COPY checks checks
RUN pip install --no-cache-dir .
RUN useradd --create-home skypath
USER skypath
EXPOSE 8000
CMD ["skypath", "serve", "--host", "0.0.0.0", "--port", "8000"]
