# CARE Offline server image: a builder with the project's own toolchain script, then a slim
# runtime with only the server binary and the built site.
#
#   podman build --isolation chroot -t care-offline .        (docker build works the same)
#   podman run -p 3000:3000 -v care-data:/data care-offline
#   podman run -p 3000:3000 -e CARE_API_URL=https://care.example.org care-offline
#
# Base images are arguments so a machine without a registry can use local ones.
ARG BUILDER_IMAGE=docker.io/library/rust:1.95-bookworm
ARG RUNTIME_IMAGE=docker.io/library/debian:bookworm-slim

FROM ${BUILDER_IMAGE} AS builder
# Behind a TLS-intercepting proxy, mount its CA bundle and name it here (npm reads it).
ARG EXTRA_CA_BUNDLE=""
# The official rust image's layout, stated so a plain Debian base with a mounted toolchain works too.
ENV DEBIAN_FRONTEND=noninteractive \
    RUSTUP_HOME=/usr/local/rustup \
    CARGO_HOME=/usr/local/cargo \
    PATH=/usr/local/cargo/bin:$PATH \
    NODE_EXTRA_CA_CERTS=${EXTRA_CA_BUNDLE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates gcc libc6-dev pkg-config nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Artifacts are copied out of target/ in the same step, so target/ may be a cache mount.
RUN CARE_SETUP_SKIP_BROWSER=1 ./scripts/setup.sh \
 && cargo leptos build --release --precompress \
 && mkdir -p /out \
 && cp target/release/server /out/server \
 && cp -r target/site /out/site

FROM ${RUNTIME_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --uid 10001 care \
 && mkdir -p /data \
 && chown care:care /data
COPY --from=builder /out/server /app/server
COPY --from=builder /out/site /app/site
ENV CARE_OFFLINE_ADDR=0.0.0.0:3000 \
    CARE_OFFLINE_DATA=/data \
    LEPTOS_SITE_ROOT=/app/site \
    CARE_API_URL=""
USER care
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:3000/health | grep -q '"service":"care-offline"' || exit 1
CMD ["/app/server"]
