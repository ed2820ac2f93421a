"""Decoding the pointer network: greedy, sampling (best of k, with a temperature), beam search.

Every function takes padded dims (B, N, 3) and real sizes ``n`` (B,) (see :func:`pad`), so one
batch may mix instance sizes. Orders come back in the caller's item indices, padded with -1.
Surfaces are always computed by :func:`packzoo.envs.evaluate_orders`, the env's own LSA engine.
"""

from __future__ import annotations

import time

from collections.abc import Sequence

import numpy as np
import torch

from packzoo.envs.ems import evaluate_orders
from packzoo.envs.instance import Instance
from packzoo.envs.packing import lower_bound
from packzoo.zoo.ptrnet.model import Encoded, PointerNet


def pad(items: Sequence[Instance] | Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Stack instances (or (n, 3) dim arrays) of any sizes into (B, Nmax, 3) int64 and n (B,).

    Padding rows are 1s (positive, so the LSA engine would accept them) and are masked everywhere.
    """
    arrs = [np.asarray(x.dims if isinstance(x, Instance) else x, dtype=np.int64) for x in items]
    if not arrs:
        raise ValueError("need at least one instance")
    for i, a in enumerate(arrs):
        if a.ndim != 2 or a.shape[1] != 3 or a.shape[0] < 1:
            raise ValueError(f"instance {i}: dims must have shape (n, 3) with n >= 1, got {a.shape}")
        if np.any(a <= 0):
            raise ValueError(f"instance {i}: dims must be positive")
    nmax = max(a.shape[0] for a in arrs)
    dims = np.ones((len(arrs), nmax, 3), dtype=np.int64)
    n = np.empty(len(arrs), dtype=np.int64)
    for i, a in enumerate(arrs):
        dims[i, : a.shape[0]] = a
        n[i] = a.shape[0]
    return dims, n


def surfaces(dims: np.ndarray, n: np.ndarray, orders: np.ndarray, parallel: bool = False) -> np.ndarray:
    """LSA surfaces of ``orders`` (B, Nmax; -1 padding) on padded ``dims``, grouped by size."""
    dims = np.asarray(dims, dtype=np.int64)
    orders = np.asarray(orders, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    out = np.empty(len(n), dtype=np.int64)
    for k in np.unique(n):
        rows = np.nonzero(n == k)[0]
        out[rows] = evaluate_orders(
            np.ascontiguousarray(dims[rows, :k]), np.ascontiguousarray(orders[rows, :k]), parallel=parallel
        )
    return out


def lower_bounds(dims: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The lower bound of every padded instance (float64, (B,))."""
    return np.array([lower_bound(Instance(dims[i, : n[i]])) for i in range(len(n))], dtype=np.float64)


def _complete(picks: torch.Tensor, mask: torch.Tensor, n: torch.Tensor, t: int) -> None:
    """Fill positions ``t..n-1`` of every order with its unpicked canonical positions, ascending."""
    for b in range(picks.shape[0]):
        rest = torch.nonzero(~mask[b], as_tuple=True)[0][: max(0, int(n[b]) - t)]
        picks[b, t : t + len(rest)] = rest


def _encode(model: PointerNet, dims, n):
    """Eval mode, the inputs as arrays, and the encoding: ``(dims, n, encoding)``."""
    model.eval()
    dims = np.asarray(dims)
    n = np.asarray(n)
    d, nn_ = _tensors(dims, n, next(model.parameters()).device)
    return dims, n, model.encode(d, nn_)


def _tensors(dims, n, device) -> tuple[torch.Tensor, torch.Tensor]:
    d = torch.as_tensor(np.asarray(dims), dtype=torch.int64, device=device)
    nn_ = torch.as_tensor(np.asarray(n), dtype=torch.int64, device=device)
    if d.ndim != 3 or d.shape[2] != 3 or nn_.shape != (d.shape[0],):
        raise ValueError(f"dims must be (B, N, 3) and n (B,), got {tuple(d.shape)} and {tuple(nn_.shape)}")
    if bool((nn_ < 1).any()) or bool((nn_ > d.shape[1]).any()):
        raise ValueError(f"every n must be in 1..{d.shape[1]}")
    return d, nn_


def _expand(e: Encoded, k: int) -> Encoded:
    """Repeat every instance of an encoding k times (row i*k + j is copy j of instance i)."""

    def rep(t: torch.Tensor) -> torch.Tensor:
        return t.repeat_interleave(k, dim=0)

    return Encoded(
        emb=rep(e.emb), enc=rep(e.enc), ref_g=rep(e.ref_g), ref_p=rep(e.ref_p),
        state=(rep(e.state[0]), rep(e.state[1])), perm=rep(e.perm), valid=rep(e.valid), n=rep(e.n),
        dims=np.repeat(e.dims, k, axis=0),
    )


def _packer(model: PointerNet, e: Encoded):
    """A BatchPacker over the encoding's instances when the network uses packing features."""
    if not model.config.dynamic:
        return None
    from packzoo.zoo.ptrnet.state import BatchPacker

    return BatchPacker(e.dims, e.n.cpu().numpy())


def _dyn(packer, device) -> tuple[torch.Tensor, torch.Tensor] | None:
    if packer is None:
        return None
    item_f, ctx_f = packer.features()
    return torch.from_numpy(item_f).to(device), torch.from_numpy(ctx_f).to(device)


def run(
    model: PointerNet,
    e: Encoded,
    *,
    greedy: bool,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    first: torch.Tensor | None = None,
    entropy: list[torch.Tensor] | None = None,
    forced: torch.Tensor | None = None,
    deadline: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode an encoding: (orders (B, N) in canonical positions with -1 padding, log-prob (B,)).

    Args:
        greedy: take the argmax; otherwise sample from softmax(logits / temperature).
        first: optional (B,) canonical positions forced as the first pick (multi-start); their
            log-probabilities are not counted.
        entropy: if a list is given, the policy's entropy summed over the steps (B,) is appended.
        forced: optional (B, N) canonical positions to take at every step (teacher forcing, for
            imitation); the returned log-probability is that of this order under the policy.
        deadline: a ``time.perf_counter()`` time; past it, every order is completed at once with
            its unpicked items in canonical order (volume descending: the sort-volume rule), so a
            time limit still yields complete orders. The log-probabilities then stop counting.
    """
    B, N, _ = e.enc.shape
    mask = ~e.valid  # True = may not be picked; replaced (never written in place) each step
    state = e.state
    x = model.start_input(B)
    logp_sum = torch.zeros(B, device=e.enc.device)
    picks = torch.full((B, N), -1, dtype=torch.int64, device=e.enc.device)
    rows = torch.arange(B, device=e.enc.device)
    packer = _packer(model, e)
    ent_sum = torch.zeros(B, device=e.enc.device)
    for t in range(N):
        if deadline is not None and t > 0 and time.perf_counter() > deadline:
            _complete(picks, mask, e.n, t)
            break
        logits, state = model.step(e, x, state, mask, _dyn(packer, e.enc.device))
        active = t < e.n
        if t == 0 and first is not None:
            idx = first
            lp = torch.zeros(B, device=e.enc.device)
        else:
            logp = torch.log_softmax(logits, dim=-1)
            if forced is not None:
                idx = forced[:, t].clamp_min(0)
            elif greedy:
                idx = logits.argmax(-1)
            else:
                z = logits / temperature if temperature != 1.0 else logits
                probs = torch.softmax(z.detach(), dim=-1)
                idx = torch.multinomial(probs, 1, generator=generator).squeeze(1)
            lp = logp.gather(1, idx.unsqueeze(1)).squeeze(1)
            if entropy is not None:
                h = -(logp.exp() * logp.masked_fill(torch.isinf(logp), 0.0)).sum(-1)
                ent_sum = ent_sum + torch.where(active, h, torch.zeros_like(h))
        if bool((mask[rows, idx] & active).any()):
            raise RuntimeError("decoder picked a masked item (a bug in the mask)")
        logp_sum = logp_sum + torch.where(active, lp, torch.zeros_like(lp))
        picks[:, t] = torch.where(active, idx, torch.full_like(idx, -1))
        mask = mask | (torch.nn.functional.one_hot(idx, N).bool() & active.unsqueeze(1))
        x = e.emb[rows, idx]
        if packer is not None:
            packer.place(picks[:, t].cpu().numpy())
    if entropy is not None:
        entropy.append(ent_sum)
    return picks, logp_sum


def to_canonical(e: Encoded, orders: np.ndarray) -> torch.Tensor:
    """Map orders in the caller's item indices (B, N; -1 padding) to canonical positions (inverse of :func:`to_items`)."""
    B, N = e.perm.shape
    inv = torch.empty_like(e.perm)
    inv.scatter_(1, e.perm, torch.arange(N, device=e.perm.device).unsqueeze(0).expand(B, N).contiguous())
    o = torch.as_tensor(np.asarray(orders), dtype=torch.int64, device=e.perm.device)
    pos = torch.gather(inv, 1, o.clamp_min(0))
    return torch.where(o >= 0, pos, torch.full_like(pos, -1))


def to_items(e: Encoded, picks: torch.Tensor) -> np.ndarray:
    """Map canonical positions (with -1 padding) to the caller's item indices."""
    idx = torch.gather(e.perm, 1, picks.clamp_min(0))
    return torch.where(picks >= 0, idx, torch.full_like(idx, -1)).cpu().numpy()


@torch.no_grad()
def greedy(model: PointerNet, dims, n, deadline: float | None = None) -> np.ndarray:
    """Greedy orders (B, Nmax) for padded dims and sizes n (completed by volume past ``deadline``)."""
    _, _, e = _encode(model, dims, n)
    picks, _ = run(model, e, greedy=True, deadline=deadline)
    return to_items(e, picks)


@torch.no_grad()
def sample_best(
    model: PointerNet, dims, n, k: int = 128, *, temperature: float = 1.0, seed: int = 0, include_greedy: bool = True,
    deadline: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Best of ``k`` sampled orders per instance (plus the greedy one): (orders, surfaces).

    Past ``deadline`` the orders being drawn are completed by volume (see :func:`run`).
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    dims, n, e = _encode(model, dims, n)
    gen = torch.Generator(device=e.enc.device).manual_seed(int(seed))
    ek = _expand(e, k)
    picks, _ = run(model, ek, greedy=False, temperature=temperature, generator=gen, deadline=deadline)
    orders = to_items(ek, picks).reshape(len(n), k, -1)
    if include_greedy:
        g, _ = run(model, e, greedy=True, deadline=deadline)
        orders = np.concatenate([to_items(e, g)[:, None, :], orders], axis=1)
    kk = orders.shape[1]
    s = surfaces(np.repeat(dims, kk, axis=0), np.repeat(n, kk), orders.reshape(len(n) * kk, -1), parallel=False)
    s = s.reshape(len(n), kk)
    best = s.argmin(1)  # first best: deterministic
    return orders[np.arange(len(n)), best], s[np.arange(len(n)), best]


@torch.no_grad()
def multistart_greedy(model: PointerNet, dims, n) -> tuple[np.ndarray, np.ndarray]:
    """Greedy decoding forced to start from each item in turn; the best per instance (POMO's inference)."""
    dims, n, e = _encode(model, dims, n)
    N = dims.shape[1]
    ek = _expand(e, N)
    first = torch.arange(N, device=e.enc.device).repeat(len(n))
    first = torch.minimum(first, ek.n - 1)  # starts beyond a small instance's size repeat its last item
    picks, _ = run(model, ek, greedy=True, first=first)
    orders = to_items(ek, picks).reshape(len(n), N, -1)
    s = surfaces(np.repeat(dims, N, axis=0), np.repeat(n, N), orders.reshape(len(n) * N, -1)).reshape(len(n), N)
    best = s.argmin(1)
    return orders[np.arange(len(n)), best], s[np.arange(len(n)), best]


@torch.no_grad()
def beam_search(model: PointerNet, dims, n, width: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Beam search on log-probability; of the final beams, the one with the least LSA surface.

    Returns (orders (B, Nmax), surfaces (B,)).
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    dims, n, e0 = _encode(model, dims, n)
    B, N, _ = e0.enc.shape
    W = width
    e = _expand(e0, W)
    dev = e0.enc.device
    mask = ~e.valid
    state = e.state
    x = model.start_input(B * W)
    packer = _packer(model, e)
    # Only beam 0 is live at the start, so the first expansion does not pick duplicates.
    score = torch.full((B, W), float("-inf"), device=dev)
    score[:, 0] = 0.0
    picks = torch.full((B * W, N), -1, dtype=torch.int64, device=dev)
    for t in range(N):
        logits, state = model.step(e, x, state, mask, _dyn(packer, dev))
        logp = torch.log_softmax(logits, dim=-1)  # (B*W, N)
        active = (t < e.n).view(B, W)[:, 0]  # same for every beam of an instance
        cand = score.unsqueeze(-1) + logp.view(B, W, N)
        cand = cand.masked_fill(mask.view(B, W, N), float("-inf"))
        flat = cand.view(B, W * N)
        k = min(W, W * N)
        top, arg = flat.topk(k, dim=-1)
        src = arg // N
        item = arg % N
        # Finished instances keep their beams unchanged.
        keep_src = torch.arange(W, device=dev).unsqueeze(0).expand(B, W)
        src = torch.where(active.unsqueeze(1), src, keep_src)
        new_score = torch.where(active.unsqueeze(1), top, score)
        # A beam whose score is -inf is dead (fewer distinct continuations than W).
        gsrc = (torch.arange(B, device=dev).unsqueeze(1) * W + src).view(-1)
        state = (state[0][gsrc], state[1][gsrc])
        mask = mask[gsrc]
        picks = picks[gsrc]
        it = item.view(-1)
        act = active.repeat_interleave(W) & torch.isfinite(new_score.view(-1))
        picks[:, t] = torch.where(act, it, torch.full_like(it, -1))
        mask = mask | (torch.nn.functional.one_hot(it, N).bool() & act.unsqueeze(1))
        x = e.emb[torch.arange(B * W, device=dev), it]
        score = new_score
        if packer is not None:
            packer = packer.copy_rows(gsrc.cpu().numpy())
            packer.place(picks[:, t].cpu().numpy())
    alive = torch.isfinite(score).cpu().numpy()  # (B, W)
    orders = to_items(e, picks).reshape(B, W, N)
    s = surfaces(np.repeat(dims, W, axis=0), np.repeat(n, W), np.where(alive.reshape(-1, 1), orders.reshape(B * W, N), np.repeat(orders[:, :1], W, axis=1).reshape(B * W, N))).reshape(B, W)
    s = np.where(alive, s, np.iinfo(np.int64).max)
    best = s.argmin(1)
    return orders[np.arange(B), best], s[np.arange(B), best]
