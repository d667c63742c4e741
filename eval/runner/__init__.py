# SPDX-License-Identifier: MPL-2.0
"""eval/run: the evaluation runner (see eval/run)."""
