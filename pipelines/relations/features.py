"""Sparse binary features of candidate pairs (strings; the model maps them to weights).

Two levels:

* mention-pair features (``m:`` same sentence, ``x:`` across sentences) describe one
  statement: the words between the pair with entity mentions collapsed to placeholders
  (``<c>`` the pair's chemical, ``<d>`` its disease, ``chem``/``dis`` other entities),
  bigrams of those, a small window around the pair, order, distance, cue words;
* concept-pair features (``c:``) describe the pair in its document: title mentions,
  mention counts and ranks, sentence distance, MeSH hierarchy (is there a more specific
  disease in the document, BioCreative annotates the most specific one), MeSH tree
  branches and pharmacological actions, and concept identity (learned only from the
  training split, so cross-validated figures stay honest).

A concept pair's vector is its concept-pair features plus the union of its mention
pairs' features (multi-instance "max pooling" of binary features).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from medkg.pipelines.relations.candidates import ConceptPair, DocContext, MentionPair
from medkg.pipelines.relations.cues import NEGATION, SPECULATION, is_negated
from medkg.pipelines.relations.mesh import MeshResource
from medkg.pipelines.relations.records import CHEMICAL
from medkg.pipelines.relations.text import stem

MAX_BETWEEN = 14
WINDOW = 2


@dataclass(slots=True)
class Collapsed:
    """A sentence as stems, each entity mention collapsed to one item."""

    items: list[str]  # stems; "" where the item is a mention
    mention_at: list[int]  # mention index of each item, -1 for words
    pos: dict[int, int]  # mention index -> item position
    words: list[str]  # raw lower-case tokens of the sentence (for cue lookup)
    raw: list[str]  # raw lower-case token of each item; "" for mentions
    neg: bool = False  # a negation cue anywhere in the sentence
    spec: bool = False  # a speculation cue anywhere in the sentence


@dataclass(slots=True)
class FeatureConfig:
    """Switches for ablations; the defaults are the chosen setup (see REPORT.md for each one's effect)."""

    ids: bool = False  # concept ids as features (redundant with the priors of ``priors.py``)
    mesh_branches: bool = True
    pharm_actions: bool = True
    hierarchy: bool = True
    indication: bool = True  # a pharmacological action names the disease ("Antihypertensive Agents")
    cross_sentence: bool = True
    # cross-sentence mention pairs also for concept pairs that share a sentence (on: same CV F1, twice the pairs)
    cross_with_same: bool = False
    seq: bool = True  # the whole between-sequence as one feature when short
    sentence_bow: bool = False  # tried, not kept
    between_edges: bool = False  # tried, not kept
    trigrams: bool = False  # tried, not kept


def collapse(ctx: DocContext, sent: int, cache: dict[int, Collapsed]) -> Collapsed:
    """The collapsed form of sentence ``sent`` (cached per document)."""
    if sent in cache:
        return cache[sent]
    toks = ctx.sentence_tokens(sent)
    mentions = ctx.doc.mentions
    ments = sorted((mentions[i].start, -mentions[i].end, i) for i in ctx.sentence_mentions(sent))
    items: list[str] = []
    mention_at: list[int] = []
    pos: dict[int, int] = {}
    words: list[str] = []
    raw: list[str] = []
    j = 0
    cover_end, cover_pos = -1, -1
    for t_start, t_end, t_text in toks:
        words.append(t_text)
        while j < len(ments) and ments[j][0] < t_end:
            start, neg_end, mi = ments[j]
            if start < cover_end:  # nested in the current mention: share its item
                pos[mi] = cover_pos
            else:
                items.append("")
                raw.append("")
                mention_at.append(mi)
                cover_end, cover_pos = -neg_end, len(items) - 1
                pos[mi] = cover_pos
            j += 1
        if t_start < cover_end:
            continue
        items.append(stem(t_text))
        raw.append(t_text)
        mention_at.append(-1)
    cache[sent] = Collapsed(items, mention_at, pos, words, raw, any(w in NEGATION for w in words),
                            any(w in SPECULATION for w in words))
    return cache[sent]


def _render(ctx: DocContext, col: Collapsed, k: int, chem: str, dis: str) -> str:
    mi = col.mention_at[k]
    if mi < 0:
        return col.items[k]
    m = ctx.doc.mentions[mi]
    if m.type == CHEMICAL:
        return "<c>" if chem in m.ids else "chem"
    return "<d>" if dis in m.ids else "dis"


def _bucket(n: int, edges: tuple[int, ...] = (0, 1, 2, 3, 5, 8, 13, 21)) -> int:
    return sum(1 for e in edges if n >= e)


def same_sentence_features(ctx: DocContext, mp: MentionPair, chem: str, dis: str,
                           cache: dict[int, Collapsed], cfg: FeatureConfig) -> list[str]:
    """Features of a chemical and a disease mention in one sentence."""
    col = collapse(ctx, mp.chem_sent, cache)
    pc, pd = col.pos[mp.chem], col.pos[mp.dis]
    a, b = (pc, pd) if pc <= pd else (pd, pc)
    order = "cd" if pc <= pd else "dc"
    between = [_render(ctx, col, k, chem, dis) for k in range(a + 1, b)]
    if len(between) > MAX_BETWEEN:
        half = MAX_BETWEEN // 2
        between = between[:half] + ["..."] + between[-half:]
    feats = [f"m:o:{order}", f"m:d:{_bucket(b - a - 1)}", f"m:title:{mp.chem_sent == 0}"]
    feats += [f"m:b:{w}" for w in between]
    seq = ["<s>"] + between + ["</s>"]
    feats += [f"m:bb:{order}:{x}_{y}" for x, y in zip(seq, seq[1:])]
    left = [_render(ctx, col, k, chem, dis) for k in range(max(0, a - WINDOW), a)]
    right = [_render(ctx, col, k, chem, dis) for k in range(b + 1, min(len(col.items), b + 1 + WINDOW))]
    feats += [f"m:l:{w}" for w in left] + [f"m:r:{w}" for w in right]
    if left:
        feats.append(f"m:l1:{order}:{left[-1]}")
    if right:
        feats.append(f"m:r1:{order}:{right[0]}")
    if cfg.sentence_bow:
        feats += [f"m:s:{w}" for w in col.items if w]
    if cfg.between_edges:
        feats += [f"m:bf:{w}" for w in between[:3]] + [f"m:bl:{w}" for w in between[-3:]]
    if cfg.seq and len(between) <= 5:
        feats.append(f"m:seq:{order}:{'_'.join(between)}")
    if cfg.trigrams:
        feats += [f"m:bbb:{x}_{y}_{z}" for x, y, z in zip(seq, seq[1:], seq[2:])]
    n_between_ents = sum(1 for k in range(a + 1, b) if col.mention_at[k] >= 0)
    feats.append(f"m:ne:{min(n_between_ents, 3)}")
    if _pair_negated(ctx, col, mp):
        feats.append("m:neg")
    if col.spec:
        feats.append("m:spec")
    return feats


def _pair_negated(ctx: DocContext, col: Collapsed, mp: MentionPair) -> bool:
    """Negation cue between the pair or just before it, on raw tokens."""
    first, last = sorted((col.pos[mp.chem], col.pos[mp.dis]))
    return is_negated(col.raw, first, last)


def cross_sentence_features(ctx: DocContext, mp: MentionPair, chem: str, dis: str,
                            cache: dict[int, Collapsed]) -> list[str]:
    """Features of a chemical and a disease mention in different sentences."""
    gap = abs(mp.chem_sent - mp.dis_sent)
    feats = [f"x:gap:{min(gap, 4)}", f"x:o:{'cd' if mp.chem_sent < mp.dis_sent else 'dc'}",
             f"x:ctitle:{mp.chem_sent == 0}", f"x:dtitle:{mp.dis_sent == 0}"]
    feats += _side_features(ctx, "c", mp.chem_sent, mp.chem, cache)
    feats += _side_features(ctx, "d", mp.dis_sent, mp.dis, cache)
    return feats


def _side_features(ctx: DocContext, tag: str, sent: int, mi: int, cache: dict[int, Collapsed]) -> list[str]:
    """Window words around one mention of a cross-sentence pair; other entities are rendered by
    type only, so the result does not depend on the pair and is computed once per mention."""
    memo: dict[tuple[str, int], list[str]] = ctx.memo.setdefault("side", {})  # type: ignore[assignment]
    key = (tag, mi)
    if key not in memo:
        col = collapse(ctx, sent, cache)
        p = col.pos[mi]
        lo, hi = max(0, p - WINDOW), min(len(col.items), p + 1 + WINDOW)
        mentions = ctx.doc.mentions
        words = [col.items[k] if col.mention_at[k] < 0 else
                 ("chem" if mentions[col.mention_at[k]].type == CHEMICAL else "dis")
                 for k in range(lo, hi) if k != p]
        feats = [f"x:{tag}w:{w}" for w in words]
        if col.neg:
            feats.append(f"x:{tag}neg")
        if col.spec:
            feats.append(f"x:{tag}spec")
        memo[key] = feats
    return memo[key]


def mention_pair_features(ctx: DocContext, mp: MentionPair, chem: str, dis: str,
                          cache: dict[int, Collapsed], cfg: FeatureConfig) -> list[str]:
    if mp.same_sentence:
        return same_sentence_features(ctx, mp, chem, dis, cache, cfg)
    return cross_sentence_features(ctx, mp, chem, dis, cache)


@dataclass(slots=True)
class DocStats:
    """Per-document facts shared by all of its concept pairs."""

    chem_count: dict[str, int]
    dis_count: dict[str, int]
    chem_first: dict[str, int]  # first sentence index
    dis_first: dict[str, int]
    chem_sents: dict[str, set[int]]
    dis_sents: dict[str, set[int]]
    n_sentences: int
    max_chem: int
    max_dis: int
    specific: dict[str, list[str]] = field(default_factory=dict)  # disease -> more specific doc diseases
    general: dict[str, list[str]] = field(default_factory=dict)  # disease -> more general doc diseases
    chem_specific: dict[str, list[str]] = field(default_factory=dict)


def hierarchy(concepts: list[str], mesh: MeshResource) -> dict[str, list[str]]:
    """For each concept, the concepts of the same list that lie below it in MeSH."""
    return {a: [b for b in concepts if mesh.is_ancestor(a, b)] for a in concepts}


def doc_stats(ctx: DocContext, mesh: MeshResource | None = None) -> DocStats:
    ms = ctx.mention_sentence

    def sents(d: dict[str, list[int]]) -> dict[str, set[int]]:
        return {k: {ms[i] for i in v} for k, v in d.items()}

    cc = {k: len(v) for k, v in ctx.chemicals.items()}
    dc = {k: len(v) for k, v in ctx.diseases.items()}
    cs, ds = sents(ctx.chemicals), sents(ctx.diseases)
    st = DocStats(cc, dc, {k: min(v) for k, v in cs.items()}, {k: min(v) for k, v in ds.items()}, cs, ds,
                  len(ctx.sentences), max(cc.values(), default=0), max(dc.values(), default=0))
    if mesh is not None:
        st.specific = hierarchy(list(dc), mesh)
        st.general = {d: [o for o in dc if d in st.specific[o]] for d in dc}
        st.chem_specific = hierarchy(list(cc), mesh)
    ctx.memo["stats"] = st
    return st


def _count_bucket(n: int) -> int:
    return _bucket(n, (1, 2, 3, 5, 8))


def concept_pair_features(cp: ConceptPair, st: DocStats, mesh: MeshResource | None,
                          cfg: FeatureConfig) -> list[str]:
    """Document-level features of one concept pair."""
    c, d = cp.chemical, cp.disease
    cs, ds = st.chem_sents[c], st.dis_sents[d]
    shared = cs & ds
    gap = min((abs(a - b) for a in cs for b in ds), default=99)
    last = st.n_sentences - 1
    feats = [
        "c:bias", f"c:ctitle:{0 in cs}", f"c:dtitle:{0 in ds}", f"c:both_title:{0 in shared}",
        f"c:cn:{_count_bucket(st.chem_count[c])}", f"c:dn:{_count_bucket(st.dis_count[d])}",
        f"c:ctop:{st.chem_count[c] == st.max_chem}", f"c:dtop:{st.dis_count[d] == st.max_dis}",
        f"c:gap:{min(gap, 4)}", f"c:nshared:{_count_bucket(len(shared))}",
        f"c:cfirst:{min(st.chem_first[c], 3)}", f"c:dfirst:{min(st.dis_first[d], 3)}",
        f"c:nchem:{_count_bucket(len(st.chem_count))}", f"c:ndis:{_count_bucket(len(st.dis_count))}",
        f"c:last_shared:{last in shared or last - 1 in shared}",
        f"c:cd_title:{0 in cs}_{0 in ds}_{bool(shared)}",
    ]
    if cfg.ids:
        feats += [f"c:chem={c}", f"c:dis={d}", f"c:pair={c}|{d}"]
    if mesh is not None:
        feats += _mesh_features(cp, st, mesh, cfg)
    return feats


def _mesh_features(cp: ConceptPair, st: DocStats, mesh: MeshResource, cfg: FeatureConfig) -> list[str]:
    c, d = cp.chemical, cp.disease
    feats: list[str] = []
    if cfg.hierarchy:
        # BioCreative annotates the most specific disease: a more specific disease of the same
        # document that co-occurs with the chemical usually takes the relation instead.
        spec, gen = st.specific[d], st.general[d]
        feats += [f"c:has_specific:{bool(spec)}", f"c:has_general:{bool(gen)}"]
        if spec:
            shared_spec = any(st.dis_sents[o] & st.chem_sents[c] for o in spec)
            feats.append(f"c:specific_cooc:{shared_spec}")
        cspec = st.chem_specific[c]
        feats.append(f"c:chem_has_specific:{bool(cspec)}")
        if not mesh.tree_numbers(d):
            feats.append("c:dis_no_tree")
    dis_feats, dbr1 = _disease_mesh_features(mesh, d, cfg)
    feats += dis_feats + _chemical_mesh_features(mesh, c, cfg)
    if cfg.indication:
        feats.append(f"c:indication:{_indication(mesh, c, d)}")
    if cfg.pharm_actions:
        pas = _actions(mesh, c)
        feats += [f"c:pa_db1:{p}|{b}" for p in pas for b in dbr1]
    return feats


# Concept-level MeSH features do not depend on the document: cached for the process.
_DIS_CACHE: dict[tuple[int, str, bool], tuple[list[str], tuple[str, ...]]] = {}
_CHEM_CACHE: dict[tuple[int, str, bool, bool], list[str]] = {}
_ACT_CACHE: dict[tuple[int, str], tuple[str, ...]] = {}
_CACHE_LIMIT = 200_000


def _actions(mesh: MeshResource, chem: str) -> tuple[str, ...]:
    key = (id(mesh), chem)
    if key not in _ACT_CACHE:
        if len(_ACT_CACHE) > _CACHE_LIMIT:
            _ACT_CACHE.clear()
        _ACT_CACHE[key] = tuple(sorted(mesh.pharm_actions(chem)))
    return _ACT_CACHE[key]


def _disease_mesh_features(mesh: MeshResource, dis: str, cfg: FeatureConfig) -> tuple[list[str], tuple[str, ...]]:
    key = (id(mesh), dis, cfg.mesh_branches)
    if key not in _DIS_CACHE:
        if len(_DIS_CACHE) > _CACHE_LIMIT:
            _DIS_CACHE.clear()
        dbr1 = tuple(sorted(mesh.branches(dis, 1)))
        feats = [f"c:db1:{b}" for b in dbr1] + [f"c:db2:{b}" for b in sorted(mesh.branches(dis, 2))]
        _DIS_CACHE[key] = (feats if cfg.mesh_branches else [], dbr1)
    return _DIS_CACHE[key]


def _chemical_mesh_features(mesh: MeshResource, chem: str, cfg: FeatureConfig) -> list[str]:
    key = (id(mesh), chem, cfg.mesh_branches, cfg.pharm_actions)
    if key not in _CHEM_CACHE:
        if len(_CHEM_CACHE) > _CACHE_LIMIT:
            _CHEM_CACHE.clear()
        feats: list[str] = []
        if cfg.mesh_branches:
            feats += [f"c:cb2:{b}" for b in sorted(mesh.branches(chem, 2))]
            feats += [f"c:cb3:{b}" for b in sorted(mesh.branches(chem, 3))]
        if cfg.pharm_actions:
            feats += [f"c:pa:{p}" for p in _actions(mesh, chem)]
        _CHEM_CACHE[key] = feats
    return _CHEM_CACHE[key]


@dataclass(slots=True)
class PairInstance:
    """A concept pair with its features: document-level ones and one list per mention pair."""

    pair: ConceptPair
    concept_feats: list[str]
    mention_feats: list[list[str]]

    def union(self) -> list[str]:
        """Concept-pair features plus the union of the mention pairs' features."""
        seen = set(self.concept_feats)
        for fs in self.mention_feats:
            seen.update(fs)
        return list(seen)


def featurize(ctx: DocContext, pairs: list[ConceptPair], mesh: MeshResource | None,
              cfg: FeatureConfig) -> list[PairInstance]:
    """Features of every candidate concept pair of one document."""
    st = doc_stats(ctx, mesh)
    cache: dict[int, Collapsed] = ctx.memo.setdefault("collapsed", {})  # type: ignore[assignment]
    out: list[PairInstance] = []
    for cp in pairs:
        mfeats: list[list[str]] = []
        for mp in cp.mention_pairs:
            if not mp.same_sentence and not cfg.cross_sentence:
                mfeats.append([])
                continue
            mfeats.append(mention_pair_features(ctx, mp, cp.chemical, cp.disease, cache, cfg))
        out.append(PairInstance(cp, concept_pair_features(cp, st, mesh, cfg), mfeats))
    return out


_IND_CACHE: dict[tuple[int, str], frozenset[str]] = {}


def _prefixes(mesh: MeshResource, concept: str, disease: bool) -> frozenset[str]:
    key = (id(mesh), ("d:" if disease else "c:") + concept)
    if key not in _IND_CACHE:
        if len(_IND_CACHE) > _CACHE_LIMIT:
            _IND_CACHE.clear()
        words = mesh.disease_vocabulary(concept) if disease else mesh.action_words(concept)
        _IND_CACHE[key] = frozenset(w[:7] for w in words)
    return _IND_CACHE[key]


def _indication(mesh: MeshResource, chem: str, dis: str) -> bool:
    """Does a pharmacological action of the chemical name the disease or an ancestor of it
    (Antihypertensive Agents / Hypertension)?  Words match on their first 7 letters."""
    acts = _prefixes(mesh, chem, False)
    return bool(acts) and not acts.isdisjoint(_prefixes(mesh, dis, True))


def branch_keys(mesh: MeshResource | None, chem: str, dis: str) -> tuple[list[str], list[str]]:
    """The category keys of a pair's concepts that :class:`~.priors.BranchPriors` counts: the chemical's
    MeSH branches at depth 3 and pharmacological actions, the disease's branches at depth 2."""
    if mesh is None:
        return [], []
    return ([f"cb3:{b}" for b in sorted(mesh.branches(chem, 3))] + [f"pa:{a}" for a in _actions(mesh, chem)],
            [f"db2:{b}" for b in sorted(mesh.branches(dis, 2))])
