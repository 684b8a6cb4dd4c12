# Builds every executable in one stage; the runtime image carries only the
# shared libraries they link.
FROM swift:6.1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends \
        libprotobuf-c-dev libpq-dev libphonenumber-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Shared Shared
COPY Services Services
COPY Tools Tools
COPY Benchmarks Benchmarks
COPY Tests Tests
RUN swift build -c release --product inventory \
 && swift build -c release --product assignment \
 && swift build -c release --product lookup \
 && swift build -c release --product phonectl \
 && mkdir /out && cp "$(swift build -c release --show-bin-path)"/{inventory,assignment,lookup,phonectl} /out/

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
        libprotobuf-c1 libpq5 libphonenumber8 libgeocoding8 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /usr/lib/swift/linux/*.so /usr/lib/swift/linux/
COPY --from=build /out/ /usr/local/bin/
ENV LD_LIBRARY_PATH=/usr/lib/swift/linux PHONE_RPC_HOST=0.0.0.0
USER nobody
