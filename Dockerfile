# syntax=docker/dockerfile:1
# One image for every service: inventory, assignment and lookup (pick one with
# the container's command), plus phonectl for health checks and operators.

# --- build: the Swift toolchain and the -dev packages the C targets link ---
ARG SWIFT_IMAGE=swift:6.3-bookworm
FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libprotobuf-c-dev libpq-dev libphonenumber-dev libicu-dev libprotobuf-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The manifest alone first, so the dependency fetch is cached across source changes.
COPY Package.swift ./
RUN swift package resolve
COPY . .
# The Swift runtime and Foundation are linked in statically; only Debian's
# shared libraries (below) are needed at run time.
RUN set -eu; \
    for product in inventory assignment lookup phonectl; do \
        swift build -c release --static-swift-stdlib --product "$product"; \
    done; \
    bin="$(swift build -c release --static-swift-stdlib --show-bin-path)"; \
    mkdir /out; \
    for product in inventory assignment lookup phonectl; do cp "$bin/$product" /out/; done

# --- runtime: Debian with only the shared libraries the binaries link ---
FROM debian:bookworm-slim
# libphonenumber8 brings libicu72, libprotobuf32 and abseil; libgeocoding8 is
# its geocoder; libpq5 the Postgres client; tzdata for schedule time zones.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
        libprotobuf-c1 libpq5 libphonenumber8 libgeocoding8 libicu72 libprotobuf32 \
        libstdc++6 ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --no-create-home --shell /usr/sbin/nologin phone
COPY --from=build /out/ /usr/local/bin/
# Listen on every interface inside the container; ports default to
# 7101/7102/7103 (RPC) and 8101/8102/8103 (HTTP /metrics and /health).
ENV PHONE_RPC_HOST=0.0.0.0
EXPOSE 7101 7102 7103 8101 8102 8103
USER phone
# No default service: the command names one (compose.yaml does).
CMD ["phonectl", "--help"]
