# txlab in a container. Two stages: a build stage with the compiler and the -dev packages (the
# same install script and preset as `make demo`), and a slim runtime stage with the runtime
# libraries, the stripped binary, the shipped scenarios and a non-root user (uid 10001, as the
# manifests of `txlab export` expect). Built and run in CI by scripts/image.sh (buildah, no
# Docker engine needed); `docker build -t txlab .` works the same.
#
#   docker run --rm txlab                                   # the broker scenario
#   docker run --rm -p 8080:8080 txlab serve /usr/share/txlab/scenarios/broker.yaml \
#       --role as-c --listen 0.0.0.0:8080 --expose
FROM debian:12-slim AS build
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends make ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN apt-get update -qq && bash scripts/install-deps.sh --demo && rm -rf /var/lib/apt/lists/*
COPY . .
# A ccache directory may be mounted here by the build (scripts/image.sh does) to make rebuilds
# fast; without one, ccache starts empty.
RUN cmake --preset demo >/dev/null \
    && cmake --build build/demo --target txlab -j"$(nproc)" \
    && strip build/demo/cli/txlab \
    && build/demo/cli/txlab --version

FROM debian:12-slim
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends libssl3 libcpp-httplib0.11 libyaml-cpp0.7 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/* \
    && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin txlab
COPY --from=build /src/build/demo/cli/txlab /usr/local/bin/txlab
COPY --from=build /src/scenarios /usr/share/txlab/scenarios
USER 10001:10001
WORKDIR /tmp
EXPOSE 8080
# A role started with --listen 0.0.0.0:8080 answers GET /healthz; `txlab run` needs no check.
HEALTHCHECK --interval=10s --timeout=4s --retries=3 CMD ["txlab", "health", "http://127.0.0.1:8080/healthz"]
ENTRYPOINT ["txlab"]
CMD ["run", "/usr/share/txlab/scenarios/broker.yaml"]
