# gridmap web image: Python app + front-end assets from npm (no CDN at run time).
FROM node:20-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
# Everything the app writes lives under /var/lib/gridmap (a volume in docker-compose.yml): the
# photos, and the demo accounts file. The package's own folder stays read-only.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    GRIDMAP_ASSETS_DIR=/app/node_modules GRIDMAP_GEODATA_DIR=/app/geodata \
    GRIDMAP_MEDIA_DIR=/var/lib/gridmap/media \
    GRIDMAP_DEMO_ACCOUNTS_FILE=/var/lib/gridmap/demo-accounts.txt
WORKDIR /app
COPY pyproject.toml README.md ./
COPY gridmap ./gridmap
COPY geodata ./geodata
RUN pip install --no-cache-dir . && pybabel compile -d /usr/local/lib/python3.11/site-packages/gridmap/translations
COPY --from=assets /src/node_modules ./node_modules
RUN useradd --system --uid 10001 gridmap \
 && install -d -o gridmap -g gridmap -m 700 /var/lib/gridmap /var/lib/gridmap/media
USER gridmap
VOLUME ["/var/lib/gridmap"]
EXPOSE 5000
CMD ["gridmap", "serve", "--host", "0.0.0.0", "--port", "5000"]
