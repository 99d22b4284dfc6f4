"""Shared test utilities: compare a derivative with both numerical routes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from backprop_lib.gradcheck import check_function


def assert_derivative(f: Callable[[np.ndarray], Any], x: np.ndarray, analytic: np.ndarray, name: str = "x") -> None:
    """Assert ``analytic`` is the derivative of f at x by central differences and the complex step."""
    check_function(f, x, analytic, name).assert_ok()
