# The lab as a container (any container host; Hugging Face Docker Spaces need a paid plan since July 2026).
# TensorFlow runs only in the Jupyter kernels the app starts; the Streamlit server itself stays small.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    REPRO_HOSTED=1 \
    STREAMLIT_BROWSER_GATHER_USAGE_STATS=false

RUN useradd --create-home --uid 1000 lab
WORKDIR /home/lab/app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY --chown=lab:lab . .
USER lab

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request, sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() == b'ok' else 1)"

CMD ["streamlit", "run", "app.py", "--server.address=0.0.0.0", "--server.port=8501"]
