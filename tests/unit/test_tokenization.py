from bertlab.tokenization import PretrainedTokenizer, WordPieceTrainer

SENTENCE = "There is my school and I love this place"


def test_bert_uncased_ids_match_source_chapter_code_1(bert_tokenizer):
    encoded = bert_tokenizer(SENTENCE)
    assert encoded["input_ids"] == [101, 2045, 2003, 2026, 2082, 1998, 1045, 2293, 2023, 2173, 102]
    assert encoded["token_type_ids"] == [0] * 11
    assert encoded["attention_mask"] == [1] * 11


def test_local_directory_loads(bert_tokenizer, tmp_path):
    bert_tokenizer.save_pretrained(tmp_path)
    again = PretrainedTokenizer(str(tmp_path)).build()
    assert again(SENTENCE)["input_ids"] == bert_tokenizer(SENTENCE)["input_ids"]


def test_wordpiece_training_is_cached_by_text_and_settings(tmp_path):
    texts = ["to be or not to be", "that is the question", "whether tis nobler in the mind"] * 20
    spec = WordPieceTrainer(vocab_size=120, min_frequency=1, cache_dir=str(tmp_path))
    first = spec.build(lambda: texts)
    assert len(list(tmp_path.iterdir())) == 1
    second = spec.build(lambda: texts)
    assert first.get_vocab() == second.get_vocab()
    assert len(list(tmp_path.iterdir())) == 1  # reused, not retrained
    WordPieceTrainer(vocab_size=100, min_frequency=1, cache_dir=str(tmp_path)).build(lambda: texts)
    assert len(list(tmp_path.iterdir())) == 2  # other settings → other cache entry
    encoded = first("to be or not")
    assert encoded["input_ids"][0] == first.cls_token_id and encoded["input_ids"][-1] == first.sep_token_id
    assert first.mask_token_id is not None and first.pad_token_id == 0


def test_bert_base_uncased_loads_the_packaged_identical_vocabulary_without_asking_the_hub(monkeypatch):
    from transformers import AutoTokenizer

    from bertlab import hub
    from bertlab.tokenization import PretrainedTokenizer

    asked = []
    load = AutoTokenizer.from_pretrained
    monkeypatch.setattr(
        AutoTokenizer, "from_pretrained", lambda target, **kw: asked.append(target) or load(target)
    )
    monkeypatch.delenv("HF_HUB_OFFLINE")  # a user's environment: no offline flag, so a hub id would be tried
    tokenizer = PretrainedTokenizer("bert-base-uncased").build()
    assert asked == [hub.resolve("minilm_l6")]  # a local directory, never the hub id
    assert len(tokenizer) == 30522 and tokenizer.tokenize("Hello, World!") == ["hello", ",", "world", "!"]
    assert hub.resolve_vocabulary("some-org/other-model") == "some-org/other-model"
