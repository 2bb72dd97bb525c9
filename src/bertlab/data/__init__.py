"""Datasets (pure readers + LightningDataModules), masking, packing, sampling and collators."""
