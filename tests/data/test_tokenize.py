import numpy as np

from components.data.batches import TokenArrays, pad_batch
from components.data.tokenizer import SPECIAL_TOKENS, encode, train_tokenizer
from tests.conftest import PTB_SLICE, glosses, params_for


def test_word_level_vocabulary_comes_from_train_only():
    train = glosses(500)
    tok = train_tokenizer(train, params_for("tokenize", vocab_size=2000, min_frequency=1))
    assert [tok.token_to_id(t) for t in SPECIAL_TOKENS] == [0, 1, 2, 3]
    ids, offsets = encode(tok, ["an entity that has physical existence", "zyzzyva quokka"])
    assert offsets.tolist()[0] == 0 and offsets[-1] == len(ids)
    assert tok.decode(ids[: offsets[1]].tolist()) == "an entity that has physical existence"
    assert ids[offsets[1] :].tolist() == [1, 1]  # unseen words are <unk>


def test_ptb_is_kept_as_pre_tokenised():
    lines = PTB_SLICE.read_text().splitlines()[:300]
    tok = train_tokenizer(
        [line.strip() for line in lines],
        params_for("tokenize", pre_tokenizer="whitespace", lowercase=False, min_frequency=1),
    )
    enc = tok.encode("the <unk> 's N years", add_special_tokens=False)
    assert enc.tokens == ["the", "<unk>", "'s", "N", "years"]


def test_bpe_round_trips_text():
    tok = train_tokenizer(glosses(800), params_for("tokenize", kind="bpe", vocab_size=600, min_frequency=2))
    text = "a general concept formed by extracting common features"
    assert tok.decode(tok.encode(text).ids) == text


def test_token_arrays_pad_and_truncate(tmp_path):
    tok = train_tokenizer(glosses(200), params_for("tokenize", min_frequency=1))
    ids, offsets = encode(tok, glosses(10))
    np.save(tmp_path / "train.ids.npy", ids)
    np.save(tmp_path / "train.offsets.npy", offsets)
    arrays = TokenArrays.load(tmp_path, "train")
    tokens, lengths = pad_batch(arrays, np.array([0, 3]), max_len=5)
    assert tokens.shape[0] == 2 and tokens.shape[1] <= 5
    assert lengths.tolist() == np.minimum(arrays.lengths[[0, 3]], 5).tolist()
    assert tokens[0, : lengths[0]].tolist() == ids[: lengths[0]].tolist()
