"""Evaluation code torchmetrics does not provide."""
