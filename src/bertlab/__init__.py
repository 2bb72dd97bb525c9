"""bertlab: Lightning + Hydra experiments for pretraining and fine-tuning BERT-family models."""

__version__ = "0.1.0"
