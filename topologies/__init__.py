"""Topologies as networkx graphs, run as Linux network namespaces."""
