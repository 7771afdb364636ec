"""Storing: the staging database, consolidation into candidate tables, publishing them."""
