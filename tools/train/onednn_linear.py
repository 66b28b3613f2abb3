"""F.linear through oneDNN, for training on Debian's torch (see use_onednn_linear)."""

from __future__ import annotations

import torch
from torch.nn import functional as F

_BLAS_LINEAR = F.linear


def _linear_through_onednn(input: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """F.linear as a 1x1 convolution: the same numbers, computed by oneDNN (MKL-DNN) instead of the BLAS."""
    if input.dim() < 2 or input.shape[-1] != weight.shape[1]:
        return _BLAS_LINEAR(input, weight, bias)
    flat = input.reshape(-1, weight.shape[1], 1, 1)
    out = F.conv2d(flat, weight[:, :, None, None], bias)
    return out.reshape(*input.shape[:-1], weight.shape[0])


def use_onednn_linear() -> None:
    """Debian's torch links the generic reference BLAS (`BLAS_INFO=generic`): its matmuls run at
    about 2 GFLOPS. Its oneDNN convolutions (forward and backward) are ~7x faster for the linear
    layers here, so training routes F.linear through them. Numbers agree to float rounding."""
    if "BLAS_INFO=generic" in torch.__config__.show() and torch.backends.mkldnn.is_available():
        F.linear = _linear_through_onednn  # nn.Linear.forward calls F.linear at run time
