"""Encoders built from transformers config classes, and our small task heads."""
