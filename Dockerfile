# syntax=docker/dockerfile:1
# The RegimenGuard server image. `make image` builds it as regimenguard:<version of
# pyproject.toml>, the image deploy/deployment.yaml runs; tests/test_dockerfile.py checks the two
# agree (image name, ports, user, stop signal).
#
# Two stages: `build` installs the locked runtime dependencies into a virtual environment and
# builds the project's wheel there (tools/protoc_build.py generates the gRPC code during the
# build); the final stage is the same slim Python base with only that environment copied in:
# no compilers, no build tools, no pip cache, no source tree.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Dependencies first (their layer is reused until the lock changes), each file checked against
# the lock's hashes: the runtime into the environment the image ships, the build requirements
# (setuptools, grpcio-tools, googleapis-common-protos) into one that stays behind.
COPY requirements/ requirements/
RUN python -m venv /opt/regimenguard \
    && /opt/regimenguard/bin/pip install --require-hashes -r requirements/runtime.txt \
    && python -m venv /opt/build \
    && /opt/build/bin/pip install --require-hashes -r requirements/build.txt
# The source (.dockerignore leaves out environments, generated code, tests and git); the wheel
# takes only the packages pyproject.toml lists.
COPY . .
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/regimenguard/bin/pip install --no-deps /wheels/*.whl \
    && /opt/regimenguard/bin/python -m regimenguard.interactions.snapshot \
    && /opt/regimenguard/bin/regimen-guard --help > /dev/null

FROM ${PYTHON_IMAGE}
# A system user with no login shell and no home; the uid/gid deploy/ runs as (runAsUser).
RUN groupadd --system --gid 10001 regimenguard \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin regimenguard
COPY --from=build /opt/regimenguard /opt/regimenguard
ENV PATH=/opt/regimenguard/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
# gRPC (RegimenCheckerService, health, reflection); the HTTP door (JSON API, CDS Hooks, the
# page); Prometheus metrics (serve --metrics-port).
EXPOSE 50051 8080 9090
# What the server drains on: NOT_SERVING, in-flight calls finish within --grace, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["regimen-guard"]
CMD ["serve", "--host", "[::]", "--port", "50051", "--http-port", "8080", "--metrics-port", "9090"]
