#!/usr/bin/env python3
"""Writes the Parquet test fixtures with pyarrow (Tests/SwiftCTRTests/Fixtures/parquet/).

Each folder holds part files, HugeCTR's _metadata.json and expected.json: per file, the rows
the reader must produce (labels, dense values and each slot's raw keys, before slot offsets).
Values come from a seeded generator, so rerunning the script rewrites identical data.

    python3 -m pip install pyarrow && python3 scripts/make_parquet_fixtures.py
"""
import json
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "SwiftCTRTests", "Fixtures", "parquet")


def f32(x):
    """x rounded to float32 and back, as the reader returns it."""
    import struct
    return struct.unpack("<f", struct.pack("<f", x))[0]


def write(folder, files, schema, labels, conts, cats, write_options, rows_of):
    """files: {name: table}; rows_of(table) gives the expected rows."""
    path = os.path.join(ROOT, folder)
    os.makedirs(path, exist_ok=True)
    stats, expected = [], {}
    for name, table in files.items():
        pq.write_table(table, os.path.join(path, name), **write_options)
        stats.append({"file_name": name, "num_rows": table.num_rows})
        expected[name] = rows_of(table)
    names = schema.names
    meta = {
        "file_stats": stats,
        # Listed out of index order on purpose: the reader sorts by index.
        "labels": [{"col_name": names[i], "index": i} for i in labels],
        "conts": [{"col_name": names[i], "index": i} for i in reversed(conts)],
        "cats": [{"col_name": names[i], "index": i} for i in reversed(cats)],
    }
    with open(os.path.join(path, "_metadata.json"), "w") as f:
        json.dump(meta, f, indent=1)
    with open(os.path.join(path, "expected.json"), "w") as f:
        json.dump(expected, f, indent=None, separators=(",", ":"))


def scalar_rows(label_cols, dense_cols, cat_cols):
    def rows(table):
        d = table.to_pydict()
        out = []
        for r in range(table.num_rows):
            dense = []
            for c in dense_cols:
                v = d[c][r]
                dense += v if isinstance(v, list) else [v]
            slots = [d[c][r] if isinstance(d[c][r], list) else [d[c][r]] for c in cat_cols]
            out.append({"labels": [d[c][r] for c in label_cols], "dense": dense, "slots": slots})
        return out
    return rows


def main():
    rng = random.Random(2026)

    # plain: nullable float32 + int64 columns, PLAIN, uncompressed, data page v1, row groups of 4.
    schema = pa.schema([("label", pa.float32()), ("I1", pa.float32()), ("I2", pa.float32()),
                        ("C1", pa.int64()), ("C2", pa.int64()), ("unused", pa.string())])
    def plain_table(n):
        return pa.table({
            "label": pa.array([float(rng.random() < 0.3) for _ in range(n)], pa.float32()),
            "I1": pa.array([f32(rng.uniform(-5, 5)) for _ in range(n)], pa.float32()),
            "I2": pa.array([f32(rng.uniform(0, 100)) for _ in range(n)], pa.float32()),
            "C1": pa.array([rng.randrange(0, 50) for _ in range(n)], pa.int64()),
            "C2": pa.array([rng.randrange(-3, 1 << 40) for _ in range(n)], pa.int64()),
            "unused": pa.array(["x%d" % i for i in range(n)], pa.string()),
        }, schema=schema)
    write("plain", {"part_0.parquet": plain_table(10), "part_1.parquet": plain_table(7)}, schema,
          labels=[0], conts=[1, 2], cats=[3, 4],
          write_options=dict(use_dictionary=False, compression="none", row_group_size=4, data_page_version="1.0"),
          rows_of=scalar_rows(["label"], ["I1", "I2"], ["C1", "C2"]))

    # dictionary: dictionary pages, snappy, data page v2, several row groups.
    schema = pa.schema([("C1", pa.int64()), ("label", pa.float32()), ("I1", pa.float32()), ("C2", pa.int64())])
    n = 23
    table = pa.table({
        "C1": pa.array([rng.randrange(0, 6) for _ in range(n)], pa.int64()),
        "label": pa.array([float(rng.random() < 0.5) for _ in range(n)], pa.float32()),
        "I1": pa.array([f32(rng.choice([0.5, 1.5, -2.25])) for _ in range(n)], pa.float32()),
        "C2": pa.array([rng.randrange(100, 104) for _ in range(n)], pa.int64()),
    }, schema=schema)
    write("dictionary", {"part_0.parquet": table}, schema, labels=[1], conts=[2], cats=[0, 3],
          write_options=dict(use_dictionary=True, compression="snappy", row_group_size=10, data_page_version="2.0"),
          rows_of=scalar_rows(["label"], ["I1"], ["C1", "C2"]))

    # zstd: required (non-nullable) columns, int32 and uint32 keys, zstd, one row group.
    schema = pa.schema([pa.field("label", pa.float32(), nullable=False), pa.field("I1", pa.float32(), nullable=False),
                        pa.field("C1", pa.int32(), nullable=False), pa.field("C2", pa.uint32(), nullable=False)])
    n = 12
    table = pa.table({
        "label": pa.array([float(i % 2) for i in range(n)], pa.float32()),
        "I1": pa.array([f32(rng.gauss(0, 1)) for _ in range(n)], pa.float32()),
        "C1": pa.array([rng.randrange(0, 1000) for _ in range(n)], pa.int32()),
        "C2": pa.array([rng.randrange(1 << 31, 1 << 32) for _ in range(n)], pa.uint32()),
    }, schema=schema)
    write("zstd", {"part_0.parquet": table}, schema, labels=[0], conts=[1], cats=[2, 3],
          write_options=dict(use_dictionary=False, compression="zstd", data_page_version="1.0"),
          rows_of=scalar_rows(["label"], ["I1"], ["C1", "C2"]))

    # multihot: list<int64> cats of varying length (some empty), a list<float> cont of width 2,
    # dictionary encoded, snappy, row groups of 5.
    schema = pa.schema([("label", pa.float32()), ("D", pa.list_(pa.float32())), ("I1", pa.float32()),
                        ("C1", pa.list_(pa.int64())), ("C2", pa.int64()), ("C3", pa.list_(pa.int64()))])
    n = 16
    table = pa.table({
        "label": pa.array([float(rng.random() < 0.4) for _ in range(n)], pa.float32()),
        "D": pa.array([[f32(rng.uniform(-1, 1)), f32(rng.uniform(-1, 1))] for _ in range(n)], pa.list_(pa.float32())),
        "I1": pa.array([f32(rng.uniform(0, 1)) for _ in range(n)], pa.float32()),
        "C1": pa.array([[rng.randrange(0, 20) for _ in range(rng.randrange(0, 4))] for _ in range(n)], pa.list_(pa.int64())),
        "C2": pa.array([rng.randrange(0, 7) for _ in range(n)], pa.int64()),
        "C3": pa.array([[rng.randrange(0, 9) for _ in range(rng.randrange(1, 6))] for _ in range(n)], pa.list_(pa.int64())),
    }, schema=schema)
    write("multihot", {"part_0.parquet": table}, schema, labels=[0], conts=[1, 2], cats=[3, 4, 5],
          write_options=dict(use_dictionary=True, compression="snappy", row_group_size=5),
          rows_of=scalar_rows(["label"], ["D", "I1"], ["C1", "C2", "C3"]))

    # null: row 3 of C2 is null, which the reader must refuse.
    schema = pa.schema([("label", pa.float32()), ("C1", pa.int64()), ("C2", pa.int64())])
    table = pa.table({
        "label": pa.array([0.0, 1.0, 0.0, 1.0, 1.0], pa.float32()),
        "C1": pa.array([1, 2, 3, 4, 5], pa.int64()),
        "C2": pa.array([7, 8, 9, None, 11], pa.int64()),
    }, schema=schema)
    write("null", {"part_0.parquet": table}, schema, labels=[0], conts=[], cats=[1, 2],
          write_options=dict(use_dictionary=False, compression="none"),
          rows_of=lambda t: [])


if __name__ == "__main__":
    main()
