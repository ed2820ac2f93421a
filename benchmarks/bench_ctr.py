"""CTR family speed and memory: random coding ids/s, training rows/s, peak memory against the id space.

Prints (one torch thread, the machine's cores shared):
- random coding throughput (ids/s) of RandomCoding(dim=256, nnz=4) on batches of int64 ids;
- training throughput (rows/s) of ctr-lr / ctr-rc-mlp / ctr-embedding-mlp on the synthetic log
  (batches of 1,024; batches drawn beforehand, so only the model's work is timed) and end to end
  (drawing the synthetic batches included);
- peak resident memory of a 300-step ctr-rc-mlp training on the synthetic log as the user id
  space grows from 10^6 to 10^9 (items 10x), each in a fresh process, beside what a full
  embedding table of dim 8 for those ids would take.

Run: ``python benchmarks/bench_ctr.py`` (about 2 minutes; run it under the shared lock).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np

MEM_CHILD = r"""
import json, resource, sys, time
import torch, torch.nn.functional as F
torch.set_num_threads(1)
from packzoo.zoo.ctr import default_config, build_model
from packzoo.zoo.data.clicklog import SyntheticLog
users = int(sys.argv[1])
log = SyntheticLog(seed=0, users=users, items=10 * users)
model = build_model(default_config("ctr-rc-mlp", list(log.groups.items()), data="synthetic"))
opt = torch.optim.AdamW(model.parameters(), lr=2e-3)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
for step in range(300):
    b = log.batch(step, 1024)
    a, _ = model(b)
    loss = F.binary_cross_entropy_with_logits(a, torch.from_numpy(b.click))
    opt.zero_grad(); loss.backward(); opt.step()
print(json.dumps({"users": users, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "params": sum(p.numel() for p in model.parameters())}))
"""


def bench_coding() -> None:
    from packzoo.zoo.ctr import RandomCoding

    rc = RandomCoding(dim=256, nnz=4, seed=0)
    rng = np.random.default_rng(0)
    x = rng.integers(-(2**63), 2**63 - 1, size=(100_000, 10), dtype=np.int64)
    rc.columns(x[:10])
    best = 0.0
    for _ in range(5):
        t = time.perf_counter()
        rc.columns(x, field=3)
        best = max(best, x.size / (time.perf_counter() - t))
    t = time.perf_counter()
    rc.encode(x[:20_000], field=3)
    dense = x[:20_000].size / (time.perf_counter() - t)
    print(f"random coding (dim 256, nnz 4): {best:,.0f} ids/s (non-zeros only); "
          f"{dense:,.0f} ids/s into dense (batch, 256) codes")


def bench_training() -> None:
    import torch
    import torch.nn.functional as F

    from packzoo.zoo.ctr import default_config
    from packzoo.zoo.ctr.models import build_model
    from packzoo.zoo.data.clicklog import SyntheticLog

    torch.set_num_threads(1)
    log = SyntheticLog(seed=0)
    batches = [log.batch(i, 1024) for i in range(60)]
    t = time.perf_counter()
    for i in range(60):
        log.batch(1000 + i, 1024)
    gen = 60 * 1024 / (time.perf_counter() - t)
    print(f"synthetic log generation: {gen:,.0f} rows/s")
    for name in ("ctr-lr", "ctr-rc-mlp", "ctr-embedding-mlp"):
        torch.manual_seed(0)
        model = build_model(default_config(name, list(log.groups.items()), data="synthetic"))
        opt = torch.optim.AdamW(model.parameters(), lr=2e-3)

        def step(b) -> None:
            a, c = model(b)
            loss = F.binary_cross_entropy_with_logits(a, torch.from_numpy(b.click))
            opt.zero_grad()
            loss.backward()
            opt.step()

        for b in batches[:5]:
            step(b)
        t = time.perf_counter()
        for b in batches:
            step(b)
        rate = len(batches) * 1024 / (time.perf_counter() - t)
        e2e = 1 / (1 / rate + 1 / gen)
        print(f"training {name:18s}: {rate:,.0f} rows/s (model only), {e2e:,.0f} rows/s with the log's generation")


def bench_memory() -> None:
    print("peak memory of ctr-rc-mlp training (300 steps x 1,024 rows) against the id space:")
    print(f"{'users':>14} {'items':>15} {'peak RSS MB':>12} {'params':>8} {'a dim-8 table of all ids':>26}")
    for users in (10**6, 10**7, 10**8, 10**9):
        out = subprocess.run([sys.executable, "-c", MEM_CHILD, str(users)], capture_output=True, text=True, check=True)
        d = json.loads(out.stdout.strip().splitlines()[-1])
        table_gb = (users + 10 * users) * 8 * 4 / 1e9
        print(f"{users:>14,} {10 * users:>15,} {d['peak_rss_mb']:>12.0f} {d['params']:>8,} {table_gb:>23,.1f} GB")


if __name__ == "__main__":
    bench_coding()
    bench_training()
    bench_memory()
