"""Linear layers that multiply with oneDNN-packed weights on CPU.

PyTorch's CPU `F.linear` hands small-batch products to a general GEMM that reads a [out, in]
weight poorly when only a few rows come in, which is every decode step. oneDNN reorders the weight
once into the blocked layout its kernels stream best (what vLLM's CPU backend and inductor's
frozen graphs do). Measured on a 2-core AVX2 EPYC, float32, 2 threads: the 49,152 x 576 output
layer of SmolLM2-135M takes 12.2 -> 8.3 ms for one row, 21.4 -> 8.7 ms for 4 rows, 23.7 -> 13.5 ms
for 16 rows, and 1,536 x 576 takes 0.28 -> 0.15 ms for 4 rows; results differ from `F.linear`
by float32 rounding only (max 1.6e-4 on outputs of magnitude ~30).

The engine packs the linear layers of generation models that the fused forward does not cover
(fused_forward.py packs its own fused weights). Embedding models keep plain weights: with their
batches of hundreds of rows packing measured 0.81-1.10x (all-MiniLM-L6-v2, bench_embed.py).

The packed copy lives beside the plain weight, which stays for what reads it (tied embeddings,
LoRA adapters wrapping the layer, saving): the linear layers' memory doubles. A weight changed
in place after packing would not be seen; the engine never does that (adapters add their own
layers and never merge).
"""

from __future__ import annotations

import logging
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger("modelserve.builtin")

BATCH_HINT = 16  # rows oneDNN picks the layout for; 16 measured better than 1 for 1-512 rows


def pack_weight(weight: torch.Tensor) -> torch.Tensor:
    """`weight` [out, in] reordered into oneDNN's blocked layout (an opaque copy)."""
    return torch.ops.mkldnn._reorder_linear_weight(weight.detach(), BATCH_HINT)


def packed_linear(x: torch.Tensor, packed: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """`F.linear(x, weight, bias)` with the weight given by `pack_weight`."""
    return torch.ops.mkldnn._linear_pointwise(x, packed, bias, "none", [None], "")


class PackedLinear(nn.Linear):
    """An nn.Linear (peft and isinstance checks still see one) whose forward uses `packed`."""

    packed: torch.Tensor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.is_grad_enabled() or x.dtype != self.weight.dtype:  # the packed op has no backward
            return F.linear(x, self.weight, self.bias)
        return packed_linear(x, self.packed, self.bias)


def packing_supported(device: Any, dtype: Any) -> bool:
    """Whether weights of `dtype` on `device` can be packed: CPU with oneDNN; bf16 needs native support."""
    if torch.device(device).type != "cpu" or not torch.backends.mkldnn.is_available():
        return False
    if dtype == torch.float32:
        return True
    return dtype == torch.bfloat16 and bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def pack_linears(model: nn.Module) -> int:
    """Swap every plain nn.Linear of `model` whose weight can be packed for a PackedLinear.

    Returns how many were packed; a layer oneDNN refuses stays as it was.
    """
    packed = 0
    for name, module in model.named_modules():
        if type(module) is not nn.Linear or not packing_supported(module.weight.device, module.weight.dtype):
            continue
        try:
            weight = pack_weight(module.weight)
        except RuntimeError as exc:
            log.debug("linear layer %s left unpacked: %s", name, exc)
            continue
        module.__class__ = PackedLinear
        module.packed = weight
        packed += 1
    return packed
