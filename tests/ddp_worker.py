"""Two CPU processes train a compiled model under DistributedDataParallel (gloo) for a few
steps; run by test_torch_backend. Prints "ddp ok" when the replicas end identical."""

import os
import sys

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def worker(rank: int, spec: str, folder: str) -> None:
    import archspec
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=os.environ.get("DDP_PORT", "29533"))
    dist.init_process_group("gloo", rank=rank, world_size=2)
    torch.manual_seed(0)  # same initial weights in both processes
    model = torch.nn.parallel.DistributedDataParallel(archspec.compile(spec, backend="torch"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    generator = torch.Generator().manual_seed(rank)  # different data per process
    for _ in range(3):
        x = torch.randn(4, *model.module.input_shape, generator=generator)
        loss = model(x).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    torch.save(flat, os.path.join(folder, f"rank{rank}.pt"))
    dist.destroy_process_group()


if __name__ == "__main__":
    spec, folder = sys.argv[1], sys.argv[2]
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        os.environ["DDP_PORT"] = str(s.getsockname()[1])
    mp.spawn(worker, args=(spec, folder), nprocs=2, join=True)
    a, b = (torch.load(os.path.join(folder, f"rank{r}.pt")) for r in (0, 1))
    assert torch.equal(a, b), "replicas diverged"
    print("ddp ok")
