# syntax=docker/dockerfile:1
# anomaly_exporter on Debian 12 (bookworm), the platform the project builds and tests on.
#   docker build -t anomaly-exporter \
#     --build-arg ANOMALY_REVISION=$(git rev-parse --short HEAD) \
#     --build-arg ANOMALY_GIT_DESCRIBE=$(git describe --always --dirty) .
#   docker run -p 10650:10650 -v $PWD/anomaly.yml:/etc/anomaly-exporter/config/anomaly.yml:ro anomaly-exporter
# docs/kubernetes.md explains the image and the Helm chart that runs it.

# Build stage: the project's own dependency script and Makefile, so the image builds what `make build`
# builds and nothing drifts from the documented path. Tests and benchmarks are not built here.
FROM debian:12-slim AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh build
COPY . .
# The context leaves .git out (.dockerignore), so the revision that build_info, --version and the landing
# page report comes in as build arguments (cmake/Revision.cmake reads them); "unknown" without them.
ARG ANOMALY_REVISION=
ARG ANOMALY_GIT_DESCRIBE=
RUN make build BUILD_DIR=/build BUILD_TYPE=Release \
      CMAKE_FLAGS="-DANOMALY_BUILD_TESTS=OFF -DANOMALY_BUILD_BENCHMARKS=OFF -DCMAKE_INSTALL_PREFIX=/usr" \
 && DESTDIR=/out cmake --install /build
# The runtime packages are the owners of the libraries the binary and the TLS shims link directly (apt
# adds theirs), so the final stage follows the build's dependencies instead of a hand-kept list. The shims
# (lib/anomaly_exporter/libssl.so, libcrypto.so: docs/security.md) let civetweb load OpenSSL 3 for
# --web.config.file TLS without libssl-dev in the image.
RUN for elf in /out/usr/bin/anomaly_exporter /out/usr/lib/anomaly_exporter/*.so; do \
      objdump -p "$elf" | awk '/NEEDED/ {print $2}' | while read -r so; do \
        lib=$(ldd "$elf" | awk -v so="$so" '$1 == so {print $3}'); \
        dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib"; \
      done; \
    done | cut -d: -f1 | sort -u > /out/runtime-packages \
 && test -s /out/runtime-packages && cat /out/runtime-packages \
 && test -f /out/usr/lib/anomaly_exporter/libssl.so && test -f /out/usr/lib/anomaly_exporter/libcrypto.so

# Runtime stage: the shared libraries, CA certificates for https upstreams, the binary, and the shipped
# rules and dashboards. No compiler, no shell tools beyond the base image.
FROM debian:12-slim
ARG ANOMALY_REVISION=
LABEL org.opencontainers.image.source="https://github.com/anomaly-exporter/anomaly_exporter" \
      org.opencontainers.image.revision="${ANOMALY_REVISION}"
COPY --from=build /out/runtime-packages /tmp/runtime-packages
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates $(cat /tmp/runtime-packages) \
 && rm -rf /var/lib/apt/lists/* /tmp/runtime-packages \
 && groupadd --system --gid 10650 anomaly \
 && useradd --system --uid 10650 --gid anomaly --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin anomaly
COPY --from=build /out/usr/bin/anomaly_exporter /usr/bin/anomaly_exporter
COPY --from=build /out/usr/lib/anomaly_exporter /usr/lib/anomaly_exporter
COPY --from=build /out/usr/share/anomaly_exporter /usr/share/anomaly_exporter
# Fails the build if a library the binary or a shim needs did not come with the runtime packages.
RUN ! ldd /usr/bin/anomaly_exporter /usr/lib/anomaly_exporter/*.so | grep "not found"
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10650:10650
EXPOSE 10650
ENTRYPOINT ["/usr/bin/anomaly_exporter"]
CMD ["--config.file=/etc/anomaly-exporter/config/anomaly.yml"]
