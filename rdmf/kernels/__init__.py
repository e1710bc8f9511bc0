"""Fused CUDA (Triton) kernels of the Gray-Scott integration and their dispatcher.

``rdmf.kernels.integrate`` is a drop-in for :func:`rdmf.numerics.integrate`: the fused kernel on
CUDA where it applies, the PyTorch reference otherwise. Triton is imported lazily.
"""

from .dispatch import integrate, integrate_fused, triton_available  # noqa: F401
