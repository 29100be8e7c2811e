# resilix in a container, for GitLab CI, Jenkins and anything else that runs images:
#   docker build -t resilix .
#   docker run --rm -v "$PWD:/work" resilix scan plan.json --format sarif -o results.sarif
# The build stage uses the minimum supported Rust version (Cargo.toml `rust-version`); the final
# image holds the binary and the C runtime it links (glibc, libgcc), runs as an unprivileged
# user, and reads and writes /work.

FROM rust:1.94.1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked && cp target/release/resilix /usr/local/bin/resilix

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/resilix /usr/local/bin/resilix
WORKDIR /work
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/resilix"]
CMD ["--help"]
