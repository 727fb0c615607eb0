"""The live tree of stations and connectors."""
