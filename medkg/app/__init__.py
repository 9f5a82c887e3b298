"""``medkg serve``: an HTTP API and a web page over :class:`~medkg.queries.api.KnowledgeGraph`.

The app layer, beside the CLI: it reads no environment (the CLI passes a :class:`ServeConfig`), and it goes
through the same library API as every command (``KnowledgeGraph``, ``build_graph``, ``delete_documents``).

=======================  ==========================================================================
module                   holds
=======================  ==========================================================================
:mod:`.server`           ``create_app``: routes, static page, OpenAPI docs, middleware
:mod:`.config`           ``ServeConfig``
:mod:`.state`            ``AppState``: the open graphs, the LLM queue, the job runner
:mod:`.handles`          open graphs shared by threads, one at a time, on the current view
:mod:`.asking`           the LLM queue
:mod:`.jobs`             builds and deletes in the background
:mod:`.security`         host, token, origin and size checks
:mod:`.errors`           medkg's errors as HTTP answers
:mod:`.schemas`          request bodies
:mod:`.routes_ask`       ``/api/ask``, ``/api/ask/stream``
:mod:`.routes_graph`     documents, jobs, concepts
:mod:`.routes_query`     Cypher, SPARQL, stats, health
=======================  ==========================================================================
"""

from medkg.app.config import ServeConfig
from medkg.app.server import create_app

__all__ = ["ServeConfig", "create_app"]
