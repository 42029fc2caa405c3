# Build:  docker build -t alertbridge .
# Run:    docker run --rm -p 9097:9097 -v alertbridge-data:/var/lib/alertbridge \
#           -v "$PWD/alertbridge.yml:/etc/alertbridge/alertbridge.yml:ro" alertbridge

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS builder
WORKDIR /src
# Dependencies first, so source edits do not invalidate the module cache layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /alertbridge . \
 && mkdir -p /out/var/lib/alertbridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=builder /alertbridge /alertbridge
COPY examples/alertbridge.yml /etc/alertbridge/alertbridge.yml
# The storage folder must be writable by the nonroot user (65532).
COPY --from=builder --chown=65532:65532 /out/var/lib/alertbridge /var/lib/alertbridge
USER 65532:65532
WORKDIR /var/lib/alertbridge
EXPOSE 9097
ENTRYPOINT ["/alertbridge"]
CMD ["--config.file=/etc/alertbridge/alertbridge.yml", "--storage.path=/var/lib/alertbridge"]
