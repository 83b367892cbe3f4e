"""In-process tokenizers for the embedded tiny pipelines: no hub, no sentencepiece model files.

All are real `transformers` tokenizer classes, built from a small vocabulary, so `save_pretrained`
writes ordinary tokenizer files and `from_pretrained` reads them back like a real checkpoint's.
"""

from __future__ import annotations

import string

from tokenizers.pre_tokenizers import ByteLevel
from transformers import BertTokenizer, CLIPTokenizer, T5Tokenizer

# Words the tokenizers know whole, so common prompt words become single tokens.
_WORDS = (
    "a an the of on in with and at photo picture image white black red blue green background light "
    "night day fog rain street city room house car dog cat person man woman product studio portrait"
).split()


def clip_tokenizer(pad_token: str = "<|endoftext|>") -> CLIPTokenizer:
    """A CLIP byte-level BPE tokenizer: byte symbols, the same with `</w>`, word merges, specials."""
    symbols = sorted(ByteLevel.alphabet())  # the 256 byte-level characters
    vocab = {s: i for i, s in enumerate(symbols + [s + "</w>" for s in symbols])}
    merges: list[tuple[str, str]] = []
    for word in _WORDS:
        parts = [*word[:-1], word[-1] + "</w>"]
        while len(parts) > 1:
            merged = parts[0] + parts[1]
            if merged not in vocab:
                merges.append((parts[0], parts[1]))
                vocab[merged] = len(vocab)
            parts = [merged, *parts[2:]]
    for special in ("<|startoftext|>", "<|endoftext|>"):
        vocab[special] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=merges, pad_token=pad_token, model_max_length=77)


def t5_tokenizer() -> T5Tokenizer:
    """A T5 Unigram tokenizer: `<pad>` 0, `</s>` 1, `<unk>` 2, then `▁`, printable characters and words.

    Characters it does not know (emoji, most non-ASCII) become `<unk>`; every text still encodes.
    """
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    pieces += [(c, -5.0) for c in string.ascii_letters + string.digits + string.punctuation]
    pieces += [("▁" + word, -1.0) for word in _WORDS]
    return T5Tokenizer(vocab=pieces, extra_ids=0, model_max_length=256)


def bert_tokenizer(**specials: str) -> BertTokenizer:
    """A BERT WordPiece tokenizer (BLIP's and Grounding DINO's text side): the specials, ".", the words,
    then letters whole and as `##` pieces, so every lower-case word encodes. `specials` adds more, e.g.
    BLIP's `bos_token="[DEC]"`."""
    letters = string.ascii_lowercase
    pieces = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *specials.values(), "."]
    pieces += [*_WORDS, *letters, *(f"##{c}" for c in letters)]
    vocab = {piece: i for i, piece in enumerate(dict.fromkeys(pieces))}
    return BertTokenizer(vocab=vocab, model_max_length=32, **specials)
