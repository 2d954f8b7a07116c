"""The recording codec's method names and ids (``store.codec``), without numpy or the compressors.

Opening the store checks ``[store] codec`` against these names; that must not import numpy
(`gaitkiosk sessions list` needs neither numpy nor zstandard).
"""

# id -> name. Ids are stored in blobs: append only, never renumber.
METHODS = {
    1: "zlib",            # raw counts, zlib level 6
    2: "zstd",            # raw counts, zstd
    3: "delta-zstd",      # frame-to-frame difference (mod 2^16), zstd
    4: "zigzag-shuffle-zstd",  # delta, zigzag, hi/lo byte planes, zstd
    5: "sparse-zstd",     # bitmap of non-zero sensels + their values, zstd
    6: "sparse-delta-zstd",  # sparse bitmap of changed sensels + zigzag deltas, zstd
}
METHOD_IDS = {name: i for i, name in METHODS.items()}
# "auto" encodes with each candidate and keeps the smaller blob (the blob names
# the method it used). Chosen by measurement on the virtual patient
# (bench/bench_store.py, docs/performance.md): zigzag-shuffle wins on raw,
# noisy counts, sparse-delta on noise-gated ones; both encode a second of mat
# in ~1-2 ms here, so trying both costs little.
AUTO = "auto"
AUTO_CANDIDATES = ("zigzag-shuffle-zstd", "sparse-delta-zstd")
DEFAULT_METHOD = AUTO
