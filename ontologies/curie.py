"""One spelling for every cross-vocabulary identifier.

Ontologies write the same target many ways: HPO says ``UMLS:C0011849`` and
``MSH:D003920``, MONDO ``MESH:D003920`` and ``UMLS_CUI``-style namespaces,
DOID ``SNOMEDCT_US_2023_03_01:...``. MAPS_TO edges only join up across files
when every reader normalises prefixes the same way, so they all go through
:func:`normalise_curie`.
"""

from __future__ import annotations

PREFIXES: dict[str, str] = {
    "MSH": "MESH", "MESH": "MESH", "MESHID": "MESH",
    "UMLS": "UMLS", "UMLS_CUI": "UMLS",
    "OMIM": "OMIM", "MIM": "OMIM", "OMIMPS": "OMIMPS",
    "ICD10CM": "ICD10CM", "ICD10": "ICD10", "ICD9": "ICD9", "ICD9CM": "ICD9",
    "SNOMEDCT": "SNOMEDCT", "SNOMEDCT_US": "SNOMEDCT", "SCTID": "SNOMEDCT",
    "NCIT": "NCIT", "NCI": "NCIT", "DOID": "DOID", "MONDO": "MONDO", "HP": "HP", "ORPHA": "ORPHA",
    "ORDO": "ORPHA", "ORPHANET": "ORPHA", "EFO": "EFO", "GARD": "GARD", "MEDDRA": "MEDDRA",
    "RXNORM": "RXNORM", "MEDGEN": "MEDGEN",
}


def normalise_curie(raw: str, namespace: str = "") -> str | None:
    """``MSH:D003920`` -> ``MESH:D003920``; ``("0000001", "mondo")`` -> ``MONDO:0000001``.

    Returns None for an empty id. Unknown prefixes are kept upper-cased, so
    nothing is lost, only not joined.
    """
    raw = raw.strip()
    if not raw:
        return None
    if namespace:
        prefix, local = namespace, raw.split(":", 1)[1] if raw.upper().startswith(namespace.upper() + ":") else raw
    elif ":" in raw:
        prefix, local = raw.split(":", 1)
    else:
        return None
    prefix = prefix.strip().upper()
    if prefix.startswith("SNOMEDCT"):
        prefix = "SNOMEDCT"  # SNOMEDCT_US_2023_03_01 and friends
    local = local.strip()
    if not local:
        return None
    return f"{PREFIXES.get(prefix, prefix)}:{local}"


def pubtator_curie(raw: str) -> str | None:
    """An id of a PubTator annotation as a CURIE: bare MeSH ids (``D003920``, ``C012345``) get ``MESH:``.

    None for PubTator's "no id" (``-1``) and empty cells; other ids go through :func:`normalise_curie`.
    """
    raw = raw.strip()
    if raw in ("", "-1"):
        return None
    if raw[:1] in "DC" and raw[1:].isdigit():
        return f"MESH:{raw}"
    return normalise_curie(raw) or raw
