"""Themes: ideas that ask for the same thing, and near-duplicates, for the owner and digests.

``text`` turns ideas into vectors, ``engine`` computes themes and duplicates from them (plain
data in, plain data out), ``store`` keeps them and the owner's decisions in the database.
"""
