"""Issue text preparation shared by the prediction models.

`clean_text` turns an issue's title and description into one plain string:
Jira wiki macros (``{code:java}``, ``{noformat}``, ``{html}``, ``{color:red}``...),
HTML tags and entities and URLs are removed, whitespace is collapsed, and the
title is kept in front so that it survives any truncation of a long description.

`text_vectorizer` is the TF-IDF feature extractor to use on those strings: word
uni/bigrams plus character n-grams within word boundaries (``char_wb`` 2-5), both
with sublinear term frequency. Character n-grams need no tokenizer, so Chinese or
mixed-language text and identifiers such as ``getUserName`` still share features.
"""

from __future__ import annotations

import html
import math
import re

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion

__all__ = ["clean_text", "text_vectorizer"]

_JIRA_MACRO = re.compile(
    r"\{(?:code|noformat|quote|html|color|panel|anchor|toc|info|note|warning|tip)(?::[^}]*)?\}",
    re.IGNORECASE,
)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+", re.IGNORECASE)
_WIKI_LINK = re.compile(r"\[([^\]|]*)\|[^\]]*\]")  # [label|target] -> label
_SPACE = re.compile(r"\s+")


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _clean_one(value: object) -> str:
    if _is_missing(value):
        return ""
    text = str(value)
    text = _HTML_COMMENT.sub(" ", text)
    text = _JIRA_MACRO.sub(" ", text)
    text = _HTML_TAG.sub(" ", text)
    text = html.unescape(text)
    text = _WIKI_LINK.sub(r"\1", text)
    text = _URL.sub(" url ", text)
    return _SPACE.sub(" ", text).strip()


def clean_text(title: object, description: object = None, *, max_chars: int | None = 3000) -> str:
    """One plain-text string for an issue: cleaned title, then cleaned description.

    Missing values (None, NaN) count as empty. ``max_chars`` cuts the result
    (the title comes first, so it is always kept); ``None`` keeps everything.
    """
    head = _clean_one(title)
    body = _clean_one(description)
    text = f"{head}. {body}" if head and body else head or body
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars]
    return text


def text_vectorizer(
    *,
    char_ngrams: tuple[int, int] = (2, 5),
    word_ngrams: tuple[int, int] = (1, 2),
    min_df: int | float = 2,
    max_df: int | float = 0.9,
    max_features: int | None = 50_000,
) -> FeatureUnion:
    """A fresh (unfitted) TF-IDF transformer: ``char_wb`` n-grams + word n-grams.

    Both halves use sublinear tf and L2 normalisation; the union is the
    horizontal stack, so each document's row has norm sqrt(2). Input: an
    iterable of strings (e.g. `clean_text` outputs). ``max_features`` applies to
    each half separately.
    """
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=char_ngrams,
        lowercase=True,
        sublinear_tf=True,
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        dtype=np.float32,
    )
    word = TfidfVectorizer(
        analyzer="word",
        ngram_range=word_ngrams,
        lowercase=True,
        # Unicode word characters, single characters included (CJK words are often one character).
        token_pattern=r"(?u)\b\w+\b",
        sublinear_tf=True,
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        dtype=np.float32,
    )
    return FeatureUnion([("char", char), ("word", word)], n_jobs=1)

