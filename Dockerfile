# Build:  make docker   (or: docker build --build-arg VERSION=1.2.3 --build-arg REVISION=$(git rev-parse HEAD) -t alertbridge .)
# Run:    docker run --rm -p 9097:9097 -v alertbridge-data:/var/lib/alertbridge \
#           -v "$PWD/alertbridge.yml:/etc/alertbridge/alertbridge.yml:ro" alertbridge

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS builder
# .dockerignore leaves .git out of the context, so the version, revision and
# branch come in as build arguments (make docker sets them from git).
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_DATE=unknown
WORKDIR /src
# Dependencies first, so source edits do not invalidate the module cache layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w \
      -X github.com/prometheus/common/version.Version=${VERSION} \
      -X github.com/prometheus/common/version.Revision=${REVISION} \
      -X github.com/prometheus/common/version.Branch=${BRANCH} \
      -X github.com/prometheus/common/version.BuildUser=docker \
      -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
      -o /alertbridge . \
 && mkdir -p /out/var/lib/alertbridge

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=0.0.0-dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="alertbridge" \
      org.opencontainers.image.description="Delivers Prometheus Alertmanager notifications to chat tools and webhooks" \
      org.opencontainers.image.source="https://github.com/alertbridge/alertbridge" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=builder /alertbridge /alertbridge
COPY LICENSE NOTICE /usr/share/doc/alertbridge/
COPY examples/alertbridge.yml /etc/alertbridge/alertbridge.yml
# The storage folder must be writable by the nonroot user (65532).
COPY --from=builder --chown=65532:65532 /out/var/lib/alertbridge /var/lib/alertbridge
USER 65532:65532
WORKDIR /var/lib/alertbridge
EXPOSE 9097
# The image has no shell or curl: the binary checks itself. It asks
# 127.0.0.1:9097; with another --web.listen-address, override the check
# (docker run --health-cmd '/alertbridge healthcheck --web.listen-address=:9000').
HEALTHCHECK --interval=30s --timeout=10s --start-period=1m --retries=3 \
  CMD ["/alertbridge", "healthcheck"]
ENTRYPOINT ["/alertbridge"]
CMD ["--config.file=/etc/alertbridge/alertbridge.yml", "--storage.path=/var/lib/alertbridge"]
