# gridmap web image: Python app + front-end assets from npm (no CDN at run time).
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    GRIDMAP_ASSETS_DIR=/app/node_modules GRIDMAP_GEODATA_DIR=/app/geodata
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gridmap ./gridmap
COPY geodata ./geodata
RUN pip install --no-cache-dir . && pybabel compile -d /usr/local/lib/python3.11/site-packages/gridmap/translations
COPY --from=assets /src/node_modules ./node_modules
RUN useradd --system --uid 10001 gridmap
USER gridmap
EXPOSE 5000
CMD ["gridmap", "serve", "--host", "0.0.0.0", "--port", "5000"]
