"""``medkg serve``: the HTTP API and the web page over one graph (:mod:`medkg.app`).

The environment is read here and nowhere in the app: ``MEDKG_API_TOKEN`` (required to bind to anything but
the loopback, checked on every request when set), and the same model and store variables as ``medkg ask``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from medkg.cli import common


def add_parsers(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("serve", help="serve the HTTP API and the web page (http://127.0.0.1:8000/)")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to bind (default 127.0.0.1; any other needs MEDKG_API_TOKEN)")
    s.add_argument("--port", type=common.whole(0, 65_535), default=8000, help="port (default 8000)")
    s.add_argument("--model", default=os.environ.get("MEDKG_LLM_MODEL"),
                   help="a model name from 'medkg models list' or a .gguf file ($MEDKG_LLM_MODEL)")
    s.add_argument("--write", action="store_true", help="let Cypher change the graph (read-only by default)")
    s.add_argument("--cors-origin", action="append", default=[], metavar="URL",
                   help="a browser origin allowed to call the API from its pages (repeatable; none by default)")
    s.add_argument("--max-upload-mb", type=common.number(0, 10_240, above=True), default=20.0,
                   help="largest upload in MiB (default 20)")
    s.add_argument("--query-timeout", type=common.number(0, 86_400, above=True), default=10.0,
                   help="seconds a Cypher or SPARQL query may run (default 10)")
    s.add_argument("--max-rows", type=common.whole(1, 10_000_000), default=1000,
                   help="rows a Cypher or SPARQL query returns (default 1000)")
    s.add_argument("--queue", type=common.whole(1, 10_000), default=4,
                   help="questions that may wait for the LLM; more are refused with 503 (default 4)")
    s.add_argument("--no-preload", action="store_true",
                   help="load the models on the first question instead of at start-up")
    s.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    common.add_graph_option(s)
    common.add_vocab_option(s)
    s.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from medkg.app import ServeConfig, create_app
    from medkg.app.config import MiB
    from medkg.kg.graphdir import GraphDir

    store = (GraphDir(args.graph).read_manifest()).get("store", "embedded")
    config = ServeConfig(
        graph=Path(args.graph), host=args.host, port=args.port, token=os.environ.get("MEDKG_API_TOKEN") or None,
        write=args.write, cors_origins=tuple(args.cors_origin), max_upload_bytes=int(args.max_upload_mb * MiB),
        query_timeout_s=args.query_timeout, max_rows=args.max_rows, queue_size=args.queue,
        llm=common.llm_settings(args), models_dir=common.models_dir(),
        embedder_path=Path(os.environ["MEDKG_EMBEDDER"]) if os.environ.get("MEDKG_EMBEDDER") else None,
        store_options=common.store_options(store), vocab_dir=args.vocab_dir, preload=not args.no_preload,
    ).check()
    app = create_app(config)
    where = f"[{args.host}]" if ":" in args.host else args.host
    print(f"medkg: serving {config.graph} at http://{where}:{args.port}/ (API docs at /docs)"
          + ("; open it with ?token=<MEDKG_API_TOKEN> once" if config.token else ""), file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, access_log=args.log_level == "debug",
                server_header=False, timeout_graceful_shutdown=5)
    return 0
