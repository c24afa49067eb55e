"""The evolution run: the LangGraph wiring (run), the slot pipeline (loop, slots), resume, the
analyst hook (reflection), the population seam, noise-aware promotion (contest), the held-out
evaluation after the search (heldout) and the logic-layer hooks (logic)."""
