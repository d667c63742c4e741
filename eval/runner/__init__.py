"""eval/run: the evaluation runner (see eval/run)."""
