# fluent-bit-drain image: Fluent Bit 4.2.8 with the drain output plugin.
#   docker build -t ghcr.io/awoooi/fluent-bit-drain:<version> --build-arg VERSION=<version> .

# Debian 12 (glibc 2.36): the .so then needs at most GLIBC_2.34 and loads in Fluent Bit's
# Debian 12 and 13 based images. Never build it on a newer glibc or on musl.
# The Go version must equal go.mod's `go` line (checked by build/deploytest).
FROM golang:1.26.8-bookworm AS builder
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
    -buildmode=c-shared -o /out/out_drain.so ./plugin

# Distroless: no shell, so nothing is RUN in this stage.
FROM cr.fluentbit.io/fluent/fluent-bit:4.2.8
COPY --from=builder /out/out_drain.so /fluent-bit/bin/out_drain.so
# The same layout as the DaemonSet's ConfigMap mount, which replaces these files.
COPY fluent-bit.conf /fluent-bit/etc/conf/fluent-bit.conf
COPY build/plugins.conf /fluent-bit/etc/conf/plugins.conf
COPY build/parsers.conf /fluent-bit/etc/conf/custom_parsers.conf
# 2020: Fluent Bit HTTP server (health, metrics); 2021: the plugin's own metrics.
EXPOSE 2020 2021
CMD ["-c", "/fluent-bit/etc/conf/fluent-bit.conf"]
