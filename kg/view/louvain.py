"""Louvain community detection in flat arrays: networkx's algorithm, step for step, in a fraction of its memory.

Topic clustering (:mod:`medkg.kg.view.summaries`) ran ``networkx``'s
``louvain_communities`` on a graph with one node per chunk. networkx keeps a
dict per node and a dict per edge, and its Louvain builds two more copies of
the graph: about 3.5 KB per chunk, 13 GB for a million abstracts. Here the
graph is compressed rows (numpy arrays; Python lists of numbers only during
the local-moving loop) and the result is the same partition as networkx 3.x
gives with the same seed, because everything that decides it is reproduced:

- the order of each node's neighbours (the order its edges were first made,
  after the copy ``louvain_partitions`` makes of the input graph);
- the random order of the local-moving phase (``random.Random(seed)``, one
  shuffle per level, as networkx's ``py_random_state`` gives it);
- the gain formula and its tie rule (a strictly better gain wins, the node's
  own community is tried last when no neighbour is in it), and each float sum
  in networkx's order;
- the aggregation (one node per community, numbered in community order, edge
  weights summed in edge order, self-loops kept).

Only the modularity that decides whether another level is worth it is summed
in another order; it is compared with a threshold of 1e-7, so a different
last bit does not change the outcome. A unit test compares partitions with
networkx on random graphs.
"""

from __future__ import annotations

import random

import numpy as np

THRESHOLD = 1e-7  # networkx's default: stop when a level gains less modularity


class Graph:
    """An undirected weighted graph: node ``u``'s neighbours are ``nbr[start[u]:start[u + 1]]`` in the order
    their edges were made (a self-loop is listed once), with weights ``w`` (float64)."""

    def __init__(self, n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> None:
        """Edges ``(a[i], b[i], w[i])``, already distinct, in the order they were made."""
        self.n = n
        self.a, self.b, self.w_edge = a, b, w
        loops = a == b
        src = np.concatenate([a, b[~loops]])
        dst = np.concatenate([b, a[~loops]])
        edge = np.concatenate([np.arange(len(a)), np.flatnonzero(~loops)])
        order = np.lexsort((edge, src))  # by node, then by when the edge was made
        self.nbr = dst[order]
        self.w = np.concatenate([w, w[~loops]])[order]
        self.start = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(src, minlength=n), out=self.start[1:])
        self.loop = np.zeros(n, dtype=np.float64)
        self.loop[a[loops]] = w[loops]

    @classmethod
    def from_pairs(cls, n: int, a: np.ndarray, b: np.ndarray, w: np.ndarray) -> Graph:
        """The graph ``add_edge(a, b, weight=old + w)`` makes, pair by pair: repeated pairs (either way round)
        sum their weights in order and keep the place of their first occurrence."""
        a, b, w = np.asarray(a, np.int64), np.asarray(b, np.int64), np.asarray(w, np.float64)
        key = np.minimum(a, b) * max(n, 1) + np.maximum(a, b)
        uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        rank = np.empty(len(uniq), dtype=np.int64)
        rank[np.argsort(first, kind="stable")] = np.arange(len(uniq))  # edges in order of first occurrence
        weights = np.zeros(len(uniq), dtype=np.float64)
        np.add.at(weights, rank[inverse], w)  # in input order, as repeated add_edge calls sum them
        ea, eb = np.empty(len(uniq), np.int64), np.empty(len(uniq), np.int64)
        ea[rank], eb[rank] = a[first], b[first]
        return cls(n, ea, eb, weights)

    def edges_in_networkx_order(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``G.edges(data=True)``: node by node, each edge once, from its first endpoint in node order."""
        rows = np.repeat(np.arange(self.n), np.diff(self.start))
        keep = self.nbr >= rows
        return rows[keep], self.nbr[keep], self.w[keep]

    def degrees(self) -> list[float]:
        """Weighted degrees summed as networkx sums them (adjacency order, then the self-loop once more)."""
        w, start, loop = self.w.tolist(), self.start.tolist(), self.loop.tolist()
        return [sum(w[start[u] : start[u + 1]]) + loop[u] for u in range(self.n)]


def communities(graph: Graph, seed: int = 13, resolution: float = 1) -> list[list[int]]:
    """``nx.community.louvain_communities(G, weight="weight", seed=seed)`` of the graph (see the module doc)."""
    rng = random.Random(seed)
    members: list[list[int]] = [[u] for u in range(graph.n)]  # original nodes of each current node
    if not len(graph.a):
        return members
    g = Graph(graph.n, *graph.edges_in_networkx_order())  # louvain_partitions works on a copy
    m = sum(g.degrees()) / 2
    mod = modularity(g, np.arange(g.n))
    com, _ = _one_level(g, m, rng, resolution)
    improved = True  # networkx looks at the first level whether or not a node moved
    while improved:
        members = _regroup(members, com)
        new_mod = modularity(g, com)
        if new_mod - mod <= THRESHOLD:
            break
        mod = new_mod
        g = _aggregate(g, com)
        com, improved = _one_level(g, m, rng, resolution)
    return members


def _one_level(g: Graph, m: float, rng: random.Random, resolution: float) -> tuple[np.ndarray, bool]:
    """networkx's ``_one_level``: move nodes to the neighbouring community with the best gain until none moves.
    Returns each node's community, renumbered 0.. in community order, and whether any node moved."""
    node2com = list(range(g.n))
    degrees = g.degrees()
    stot = list(degrees)
    nbr, w, start = g.nbr.tolist(), g.w.tolist(), g.start.tolist()
    order = list(range(g.n))
    rng.shuffle(order)
    scale = 2 * m**2
    improved, moves = False, 1
    while moves > 0:
        moves = 0
        for u in order:
            best_mod: float = 0
            best = own = node2com[u]
            weights: dict[int, float] = {}
            for j in range(start[u], start[u + 1]):
                v = nbr[j]
                if v != u:
                    c = node2com[v]
                    weights[c] = weights.get(c, 0.0) + w[j]
            degree = degrees[u]
            stot[own] -= degree
            if own not in weights:
                weights[own] = 0.0
            remove_cost = -weights[own] / m + resolution * (stot[own] * degree) / scale
            for c, wt in weights.items():
                gain = remove_cost + wt / m - resolution * (stot[c] * degree) / scale
                if gain > best_mod:
                    best_mod, best = gain, c
            stot[best] += degree
            if best != own:
                node2com[u] = best
                improved = True
                moves += 1
    labels = np.asarray(node2com, dtype=np.int64)
    used = np.unique(labels)  # communities keep their order; empty ones drop out
    return np.searchsorted(used, labels), improved


def _regroup(members: list[list[int]], com: np.ndarray) -> list[list[int]]:
    out: list[list[int]] = [[] for _ in range(int(com.max()) + 1)] if len(com) else []
    for node, c in enumerate(com.tolist()):
        out[c].extend(members[node])
    return out


def _aggregate(g: Graph, com: np.ndarray) -> Graph:
    """networkx's ``_gen_graph``: one node per community, edges summed in edge order."""
    a, b, w = g.edges_in_networkx_order()
    return Graph.from_pairs(int(com.max()) + 1, com[a], com[b], w)


def modularity(g: Graph, com: np.ndarray) -> float:
    """Newman modularity of the partition ``com`` (node -> community)."""
    degree = np.asarray(g.degrees())
    deg_sum = float(degree.sum())
    if deg_sum == 0:
        return 0.0
    a, b, w = g.edges_in_networkx_order()
    inside = np.bincount(com[a][com[a] == com[b]], weights=w[com[a] == com[b]], minlength=int(com.max()) + 1)
    totals = np.bincount(com, weights=degree, minlength=int(com.max()) + 1)
    return float((inside / (deg_sum / 2)).sum() - ((totals**2) / deg_sum**2).sum())
