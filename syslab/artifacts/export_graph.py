"""Export the exploration graph as GraphML (networkx, Gephi, yEd) or node-link JSON (d3, networkx).

GraphML holds only scalar attributes, so each node's dict fields (metrics, evidence, data) are
JSON strings and each metric is also a flat `metric_<name>` number; None values are left out.
A node scored on the task's held-out split has a `heldout` record (JSON: its latest held-out
measurement) and, in GraphML, flat `heldout_value`, `heldout_gap` and `heldout_overfit`.
The JSON form is networkx's node-link data with every Node field as it is stored. Both carry
the run's provenance as graph attributes (`verified`, `evaluation_mode`, `verification_note`) and
GraphML also as a `verified` attribute of each node, so a node read on its own still says it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx

from syslab.artifacts.graph import load_graph
from syslab.artifacts.heldout_rows import latest_heldout
from syslab.artifacts.provenance import provenance
from syslab.artifacts.store import RunStore

_DICT_FIELDS = ("metrics", "evidence", "data", "heldout")


def _graphml_graph(G: nx.DiGraph, run_id: str, prov: dict[str, Any]) -> nx.DiGraph:
    H = nx.DiGraph(run_id=run_id, **prov)
    for n, attrs in G.nodes(data=True):
        out: dict[str, Any] = {"verified": prov["verified"]}
        for k, v in attrs.items():
            if v is None:
                continue
            if k in _DICT_FIELDS:
                out[k] = json.dumps(v, sort_keys=True, default=str)
            elif isinstance(v, bool | int | float | str):
                out[k] = v
            else:
                out[k] = json.dumps(v, default=str)
        for name, value in (attrs.get("metrics") or {}).items():
            out[f"metric_{name}"] = float(value)
        held = attrs.get("heldout") or {}
        for name in ("heldout_value", "gap", "overfit"):
            if held.get(name) is not None:
                out[
                    "heldout_gap"
                    if name == "gap"
                    else f"heldout_{name}".replace("heldout_heldout", "heldout")
                ] = held[name]
        H.add_node(n, **out)
    for s, d, k in G.edges(data="kind"):
        H.add_edge(s, d, kind=k or "")
    return H


def export_graph(run_dir: str | Path, out: str | Path, fmt: str = "graphml") -> Path:
    """Write the run's exploration graph to `out` as 'graphml' or 'json'; returns the path."""
    run_dir, out = Path(run_dir), Path(out)
    with RunStore.open(run_dir, readonly=True) as store:
        G = load_graph(store)
        # A node scored held-out carries its latest held-out record beside its search metrics.
        for node_id, record in latest_heldout(store.heldout()).items():
            if node_id in G:
                G.nodes[node_id]["heldout"] = record.model_dump(mode="json")
        run_id = store.manifest.run_id
        prov = provenance(store.manifest)
    G.graph.pop("rev", None)
    G.graph.pop("edge_seq", None)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "graphml":
        nx.write_graphml(_graphml_graph(G, run_id, prov), out)
    elif fmt == "json":
        G.graph["run_id"] = run_id
        G.graph.update(prov)
        data = nx.node_link_data(G, edges="edges")
        out.write_text(json.dumps(data, indent=1, sort_keys=True, default=str) + "\n")
    else:
        raise ValueError(f"unknown graph format {fmt!r} (expected graphml or json)")
    return out
