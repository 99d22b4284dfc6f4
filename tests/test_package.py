"""The package's promises about itself: light to import, documented shape convention."""

import subprocess
import sys

import backprop_lib


def test_import_loads_no_plotting_or_widget_code():
    code = (
        "import sys, backprop_lib, backprop_lib.models, backprop_lib.gradcheck, backprop_lib.autodiff, backprop_lib.train;"
        "print(sorted(m for m in ('matplotlib', 'ipywidgets', 'IPython') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_package_docstring_states_the_shape_convention():
    assert "Rows are examples" in backprop_lib.__doc__ and "(B, n)" in backprop_lib.__doc__
