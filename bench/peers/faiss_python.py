# bench:peers child: Debian's python3-faiss searching the index files our binding wrote, one
# thread, the same sweeps (read from <work>/peers/faiss-specs.json). One JSON line per sweep.
import json
import os
import sys
import time

import faiss
import numpy as np

K = 10
work = sys.argv[1]
meta = json.load(open(os.path.join(work, "meta.json")))
d, nq = meta["d"], meta["nq"]
queries = np.fromfile(os.path.join(work, "queries.f32"), dtype="float32").reshape(nq, d)
exact = json.load(open(os.path.join(work, "exact10.json")))
specs = json.load(open(os.path.join(work, "faiss-specs.json")))
only = sys.argv[2].split(",") if len(sys.argv) > 2 else None
faiss.omp_set_num_threads(1)


def fastest(reps, fn):
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def apply(index, sweep):
    ps = faiss.ParameterSpace()
    if "nprobe" in sweep:
        ps.set_index_parameter(index, "nprobe", sweep["nprobe"])
    if "efSearch" in sweep:
        ps.set_index_parameter(index, "efSearch", sweep["efSearch"])
    if "kFactor" in sweep:
        faiss.downcast_index(index).k_factor = sweep["kFactor"]


for spec in specs:
    if only and spec["slug"] not in only:
        continue
    index = faiss.read_index(os.path.join(work, "index", spec["slug"] + ".faiss"))
    for sweep in spec["sweeps"]:
        apply(index, sweep)
        index.search(queries[:8], K)
        out = {}

        def batched():
            out["labels"] = index.search(queries, K)[1]

        def single():
            for q in range(nq):
                index.search(queries[q : q + 1], K)

        b = fastest(3, batched)
        s = fastest(2, single)
        labels = out["labels"].astype("int32")
        recall = float(np.mean([len(set(labels[q][:K]) & set(exact[q])) / len(exact[q]) for q in range(nq)]))
        label = " ".join(f"{k}={v}" for k, v in sweep.items()) or "-"
        path = os.path.join(work, "labels", "python-" + spec["slug"] + "-" + label.replace(" ", "_").replace("=", "_") + ".i32")
        labels.tofile(path)
        print(json.dumps({
            "system": "Python faiss (python3-faiss)",
            "version": "faiss " + faiss.__version__,
            "index": spec["factory"],
            "params": label,
            "threads": 1,
            "recall10": recall,
            "batchedMs": b / nq,
            "singleMs": s / nq,
            "labelsFile": path,
        }), flush=True)
