"""Reference implementations written the slow, obvious way (loops), for comparison in tests."""

import numpy as np


def full_convolution_reference(d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Full 2-D convolution of d (oh, ow) with w (kh, kw) by its definition: out[r, c] = sum d[i, j] w[r-i, c-j]."""
    oh, ow = d.shape
    kh, kw = w.shape
    out = np.zeros((oh + kh - 1, ow + kw - 1))
    for i in range(oh):
        for j in range(ow):
            out[i:i + kh, j:j + kw] += d[i, j] * w
    return out
