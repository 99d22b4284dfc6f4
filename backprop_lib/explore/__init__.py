"""The widgets' update logic, one module per chapter, as plain functions with unit tests.

A chapter's slider calls one of these functions and draws what it returns; the HTML book
shows a static figure made by the same function. Not imported by ``backprop_lib`` itself.
"""
