"""Run the web app with Werkzeug's threaded server (use gunicorn 'web:create_app()' in production)."""

import argparse

from werkzeug.serving import run_simple

from . import create_app

if __name__ == "__main__":
    args = argparse.ArgumentParser()
    args.add_argument("--host", default="127.0.0.1")
    args.add_argument("--port", type=int, default=5000)
    ns = args.parse_args()
    run_simple(ns.host, ns.port, create_app(), threaded=True)
