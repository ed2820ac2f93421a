"""The bit-shift claim, shown: a pow2-quantized layer computed with integer shifts and adds only.

With weights ``W = alpha * Q``, every nonzero ``Q`` = +-2^e, and integer inputs ``x`` (quantized
activations, ``x_float = scale * x``), an output is

    y = alpha * scale * sum_k Q_k x_k = alpha * scale * sum_e (P_e - N_e) << e,

where ``P_e`` (``N_e``) is the plain sum of the inputs whose weight is +2^e (-2^e). So each output
needs additions of selected inputs and one shift per distinct exponent: no multiplication by a
weight. :func:`shift_add_linear` and :func:`shift_add_conv2d` do exactly that in int64 (the inputs
are gathered by boolean masks and summed, then shifted); :func:`integer_forward` runs a quantized
``nn.Linear``/``nn.Conv2d`` that way and rescales once, which gives the float layer's output (tests
compare it with the float layer).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from packzoo.zoo.quant.levels import Levels, QuantError, as_levels, nearest_codes


def _exponents(levels: Levels) -> list[tuple[int, int, int]]:
    """(code, sign, exponent) of every nonzero level; a QuantError unless all are +-2^e."""
    if not levels.is_pow2:
        raise QuantError(f"levels {levels.values} are not all 0 or +-2^k: no shift-and-add kernel")
    out = []
    for code, v in enumerate(levels.values):
        if v != 0:
            out.append((code, 1 if v > 0 else -1, int(abs(v)).bit_length() - 1))
    return out


def shift_add_linear(x: np.ndarray, codes: np.ndarray, levels: Levels | str) -> np.ndarray:
    """``x @ levels[codes].T`` for integer ``x`` (B, K) and level codes (O, K), by shifts and adds (int64)."""
    lv = as_levels(levels)
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.integer):
        raise QuantError(f"shift_add_linear needs integer inputs, got {x.dtype}")
    x = x.astype(np.int64)
    codes = np.asarray(codes)
    if x.ndim != 2 or codes.ndim != 2 or x.shape[1] != codes.shape[1]:
        raise QuantError(f"shapes do not fit: inputs {x.shape}, codes {codes.shape} (want (B, K) and (O, K))")
    terms = _exponents(lv)
    out = np.zeros((x.shape[0], codes.shape[0]), dtype=np.int64)
    for o in range(codes.shape[0]):
        acc = np.zeros(x.shape[0], dtype=np.int64)
        by_exp: dict[int, np.ndarray] = {}
        for code, sign, e in terms:
            mask = codes[o] == code
            if not mask.any():
                continue
            part = x[:, mask].sum(axis=1)  # additions only
            by_exp[e] = by_exp.get(e, 0) + (part if sign > 0 else -part)
        for e, part in by_exp.items():
            acc += np.left_shift(part, e)  # one shift per exponent
        out[:, o] = acc
    return out


def _im2col(x: np.ndarray, kh: int, kw: int, stride: int, padding: int) -> tuple[np.ndarray, int, int]:
    b, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    cols = np.empty((b, oh, ow, c, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, :, :, i, j] = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride].transpose(0, 2, 3, 1)
    return cols.reshape(b * oh * ow, c * kh * kw), oh, ow


def shift_add_conv2d(x: np.ndarray, codes: np.ndarray, levels: Levels | str, stride: int = 1, padding: int = 0) -> np.ndarray:
    """2-D convolution (no groups, no dilation) of integer ``x`` (B, C, H, W) with level codes
    (O, C, kh, kw), by shifts and adds; int64 (B, O, H', W')."""
    x = np.asarray(x)
    codes = np.asarray(codes)
    if x.ndim != 4 or codes.ndim != 4 or x.shape[1] != codes.shape[1]:
        raise QuantError(f"shapes do not fit: inputs {x.shape}, codes {codes.shape}")
    o, c, kh, kw = codes.shape
    cols, oh, ow = _im2col(x, kh, kw, stride, padding)
    y = shift_add_linear(cols, codes.reshape(o, -1), levels)
    return y.reshape(x.shape[0], oh, ow, o).transpose(0, 3, 1, 2)


def integer_forward(layer: nn.Module, alpha: float, levels: Levels | str, x_int: torch.Tensor,
                    scale: float = 1.0) -> torch.Tensor:
    """Output of a quantized ``nn.Linear`` or ``nn.Conv2d`` (weights = level x ``alpha``) on inputs
    ``scale * x_int`` (``x_int`` integer), computed by :func:`shift_add_linear` / :func:`shift_add_conv2d`
    and one float rescale (plus the bias). Returns float64."""
    lv = as_levels(levels)
    w = layer.weight.detach().to(torch.float64)
    codes = nearest_codes(w / alpha, lv.tensor(torch.float64))
    if not torch.equal((lv.tensor(torch.float64)[codes] * alpha).to(layer.weight.dtype), layer.weight.detach()):
        raise QuantError(f"the layer's weights are not on the grid levels x {alpha}")
    if x_int.is_floating_point():
        raise QuantError(f"x_int must be an integer tensor, got {x_int.dtype}")
    xi = x_int.numpy()
    if isinstance(layer, nn.Linear):
        y = shift_add_linear(xi.reshape(-1, xi.shape[-1]), codes.numpy(), lv).reshape(*xi.shape[:-1], -1)
    elif isinstance(layer, nn.Conv2d):
        if layer.groups != 1 or layer.dilation != (1, 1) or layer.stride[0] != layer.stride[1] \
                or not isinstance(layer.padding, tuple) or layer.padding[0] != layer.padding[1]:
            raise QuantError("integer_forward supports Conv2d with groups=1, no dilation, square stride and padding")
        y = shift_add_conv2d(xi, codes.numpy(), lv, layer.stride[0], layer.padding[0])
    else:
        raise QuantError(f"integer_forward supports nn.Linear and nn.Conv2d, got {type(layer).__name__}")
    # The float layer holds fl32(level * alpha) = level * fl32(alpha) for pow2 levels: rescale by
    # the alpha the layer really holds, so the two agree to float64 rounding.
    held = float(torch.tensor(alpha, dtype=layer.weight.dtype))
    out = torch.from_numpy(y).to(torch.float64) * (held * scale)
    if layer.bias is not None:
        b = layer.bias.detach().to(torch.float64)
        out = out + (b.reshape(1, -1, 1, 1) if isinstance(layer, nn.Conv2d) else b)
    return out


__all__ = ["integer_forward", "shift_add_conv2d", "shift_add_linear"]
