"""The pointer network (Bello et al. 2017, as used by Hu et al. 2017) that picks the packing order.

Encoder: an LSTM over item embeddings. Decoder: an LSTM cell fed the embedding of the item just
picked, one glimpse (attention over the encoder outputs under the mask), then a pointer whose
logits are clipped as ``C * tanh(u)`` and masked so a packed item (or padding) can never be picked.

Item encoding (orientation-invariant, scale-invariant): each item's dims are sorted (largest
first) and divided by the cube root of the instance's total volume; the features also hold the
item's volume share and its sorted dims relative to the instance's largest dim. Items are fed to
the encoder in a canonical order (volume descending, padding last), so the net does not have to
learn that the input order is meaningless; indices are mapped back to the caller's order.

Variable N: instances of different sizes share a batch, padded at the end of the item axis;
``n`` holds each instance's real size and padding is masked everywhere.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

N_FEATURES = 7


@dataclass
class PtrNetConfig:
    """Hyperparameters of :class:`PointerNet` (the paper's defaults).

    Attributes:
        hidden: LSTM and attention width.
        clip: C in the logit clipping C * tanh(u).
        n_glimpses: glimpses before the pointer.
        init_range: parameters start uniform in [-init_range, init_range].
        dynamic: also feed the decoder the packing so far (see :mod:`packzoo.zoo.ptrnet.state`):
            per-item LSA lookahead features added to the glimpse's and the pointer's keys, and the
            bin's features added to the decoder's input. False gives the paper's network.
        canonical: feed the encoder the items by volume, descending (else in the given order).
    """

    hidden: int = 128
    clip: float = 10.0
    n_glimpses: int = 1
    init_range: float = 0.08
    dynamic: bool = True
    canonical: bool = True

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PtrNetConfig:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


def item_features(dims: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Per-item features (B, N, 7) of padded dims (B, N, 3) with ``valid`` (B, N) True for real items.

    Sorted dims / V^(1/3) (3), volume * n / V (1), sorted dims / the instance's largest dim (3).
    Padding rows are zero.
    """
    d = torch.sort(dims.to(torch.float32), dim=-1, descending=True).values
    vf = valid.to(torch.float32)
    vol = d.prod(-1) * vf
    total = vol.sum(-1, keepdim=True).clamp_min(1e-9)
    n = vf.sum(-1, keepdim=True).clamp_min(1.0)
    scale = total.pow(1.0 / 3.0)
    big = (d[..., 0] * vf).amax(-1, keepdim=True).clamp_min(1e-9)
    f = torch.cat([d / scale.unsqueeze(-1), (vol * n / total).unsqueeze(-1), d / big.unsqueeze(-1)], dim=-1)
    return f * vf.unsqueeze(-1)


def canonical_perm(dims: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Item permutation (B, N): volume descending (ties by index), padding last."""
    vol = dims.to(torch.float64).prod(-1)
    key = torch.where(valid, -vol, torch.full_like(vol, float("inf")))
    # A stable sort keeps ties in index order, so the permutation is deterministic.
    return torch.sort(key, dim=-1, stable=True).indices


class _Attention(nn.Module):
    """Bahdanau attention ``v^T tanh(W_ref e + W_q q)`` (the ref projection is precomputed)."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.w_ref = nn.Linear(hidden, hidden, bias=False)
        self.w_q = nn.Linear(hidden, hidden)
        self.v = nn.Parameter(torch.zeros(hidden))

    def scores(self, ref_proj: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        return torch.tanh(ref_proj + self.w_q(q).unsqueeze(1)) @ self.v


@dataclass
class Encoded:
    """What the encoder hands the decoder (all in the canonical item order)."""

    emb: torch.Tensor  # (B, N, H) item embeddings (decoder inputs)
    enc: torch.Tensor  # (B, N, H) encoder outputs
    ref_g: torch.Tensor  # (B, N, H) glimpse projections
    ref_p: torch.Tensor  # (B, N, H) pointer projections
    state: tuple[torch.Tensor, torch.Tensor]  # decoder start state
    perm: torch.Tensor  # (B, N) canonical position -> caller's item index
    valid: torch.Tensor  # (B, N) in canonical order
    n: torch.Tensor  # (B,)
    dims: np.ndarray  # (B, N, 3) int64 dims in canonical order (for the packing features)


class PointerNet(nn.Module):
    """Pointer network over items; see the module docstring.

    Args:
        config: a :class:`PtrNetConfig` (defaults: the paper's).
    """

    def __init__(self, config: PtrNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or PtrNetConfig()
        h = self.config.hidden
        if h < 1 or self.config.n_glimpses < 0 or self.config.clip <= 0:
            raise ValueError(f"bad PtrNetConfig {self.config}")
        self.embed = nn.Linear(N_FEATURES, h, bias=False)
        self.encoder = nn.LSTM(h, h, batch_first=True)
        self.decoder = nn.LSTMCell(h, h)
        self.start = nn.Parameter(torch.zeros(h))
        self.glimpse = _Attention(h)
        self.pointer = _Attention(h)
        if self.config.dynamic:
            from packzoo.zoo.ptrnet.state import N_CTX, N_ITEM_DYN

            self.dyn_g = nn.Linear(N_ITEM_DYN, h, bias=False)
            self.dyn_p = nn.Linear(N_ITEM_DYN, h, bias=False)
            self.ctx = nn.Linear(N_CTX, h, bias=False)
        r = self.config.init_range
        for p in self.parameters():
            nn.init.uniform_(p, -r, r)

    def encode(self, dims: torch.Tensor, n: torch.Tensor) -> Encoded:
        """Encode padded dims (B, N, 3) with real sizes ``n`` (B,)."""
        B, N, _ = dims.shape
        ar = torch.arange(N, device=dims.device)
        valid0 = ar.unsqueeze(0) < n.unsqueeze(1)
        perm = canonical_perm(dims, valid0) if self.config.canonical else ar.unsqueeze(0).expand(B, N).contiguous()
        d = torch.gather(dims, 1, perm.unsqueeze(-1).expand(B, N, 3))
        valid = ar.unsqueeze(0) < n.unsqueeze(1)  # padding stays last after the canonical sort
        emb = self.embed(item_features(d, valid))
        if bool((n == N).all()):
            enc, (h, c) = self.encoder(emb)
        else:
            packed = nn.utils.rnn.pack_padded_sequence(emb, n.cpu(), batch_first=True, enforce_sorted=False)
            out, (h, c) = self.encoder(packed)
            enc, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=N)
        return Encoded(
            emb=emb,
            enc=enc,
            ref_g=self.glimpse.w_ref(enc),
            ref_p=self.pointer.w_ref(enc),
            state=(h[0], c[0]),
            perm=perm,
            valid=valid,
            n=n,
            dims=d.cpu().numpy().astype(np.int64),
        )

    def start_input(self, batch: int) -> torch.Tensor:
        return self.start.unsqueeze(0).expand(batch, -1)

    def step(
        self,
        e: Encoded,
        x: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor],
        mask: torch.Tensor,
        dyn: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """One decoding step: masked, clipped logits (B, N) and the new LSTM state.

        ``mask`` (B, N) is True where an item may NOT be picked (packed or padding). Rows where
        every item is masked (finished instances in a mixed-N batch) are left unmasked, so no
        NaN appears; callers ignore those rows. ``dyn`` = (per-item (B, N, 3), per-instance (B, 5))
        packing features, required when ``config.dynamic``.
        """
        ref_g, ref_p = e.ref_g, e.ref_p
        if self.config.dynamic:
            if dyn is None:
                raise ValueError("this network needs the packing features (dyn)")
            item_f, ctx_f = dyn
            ref_g = ref_g + self.dyn_g(item_f)
            ref_p = ref_p + self.dyn_p(item_f)
            x = x + self.ctx(ctx_f)
        h, c = self.decoder(x, state)
        q = h
        full = mask.all(-1, keepdim=True)
        m = mask & ~full
        for _ in range(self.config.n_glimpses):
            a = self.glimpse.scores(ref_g, q).masked_fill(m, float("-inf"))
            a = torch.softmax(a, dim=-1)
            q = torch.bmm(a.unsqueeze(1), e.enc).squeeze(1)
        u = self.pointer.scores(ref_p, q)
        logits = self.config.clip * torch.tanh(u)
        logits = logits.masked_fill(m, float("-inf"))
        return logits, (h, c)

    def tensors(self) -> dict[str, torch.Tensor]:
        """The state dict as plain tensors (for safetensors)."""
        return {k: v.detach().clone() for k, v in self.state_dict().items()}
