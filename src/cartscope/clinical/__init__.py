"""CAR-T clinical rules as pure functions over cohort tables (pandas in, pandas out).

Every rule cites its source; ``docs/domain-reference.md`` in the shared docs summarises them.
"""
