"""Zhili (智理): digital governance for towns on a digital twin."""

__version__ = "0.1.0"
