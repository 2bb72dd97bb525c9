"""The extractive QA objective: loss definition, padding mask, and export as BertForQuestionAnswering."""

from __future__ import annotations

import torch
from torch import nn

from bertlab.models.encoder import EncoderSpec
from bertlab.objectives.extractive_qa import ExtractiveQuestionAnswering, span_loss


def _module() -> ExtractiveQuestionAnswering:
    encoder = EncoderSpec(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64
    ).build(100, 0)
    return ExtractiveQuestionAnswering(encoder, optimizer=None).eval()


def test_span_loss_is_the_mean_of_start_and_end_cross_entropy():
    start, end = torch.randn(3, 7), torch.randn(3, 7)
    positions_start, positions_end = torch.tensor([0, 2, 6]), torch.tensor([0, 4, 6])
    expected = (
        nn.functional.cross_entropy(start, positions_start) + nn.functional.cross_entropy(end, positions_end)
    ) / 2
    assert torch.allclose(span_loss(start, end, positions_start, positions_end), expected)


def test_padding_never_wins_and_export_matches_bert_for_question_answering():
    module = _module()
    ids = torch.randint(1, 100, (2, 9))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    batch = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    start, end = module(batch)
    assert start.dtype == torch.float32 and bool((start[1, 6:] < -1e30).all())
    task = module.hf_models()[""].eval()
    assert type(task).__name__ == "BertForQuestionAnswering"
    reference = task(**batch)
    assert torch.allclose(start[0], reference.start_logits[0], atol=1e-5)
    assert torch.allclose(end[1, :6], reference.end_logits[1, :6], atol=1e-5)
