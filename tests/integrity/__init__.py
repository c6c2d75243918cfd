# SPDX-License-Identifier: ISC
"""Helper modules of tests/t-integrity.py (standard library only)."""
