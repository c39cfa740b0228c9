# One image for every app; the command picks the app.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY common common
COPY gateway gateway
COPY services services
COPY kkb kkb
COPY migrations migrations
COPY dukcapil_sim dukcapil_sim
RUN pip install --no-cache-dir . && useradd --system --uid 10001 kkb
USER kkb
EXPOSE 8000
CMD ["kkb", "--help"]
